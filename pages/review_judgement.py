"""The review page's judge panel: the judgement beside the structural breakdown, the version picker
with a turn-by-turn diff, approving another version, and "Regenerate with my notes"."""

import pandas as pd
import streamlit as st

from brightrun_gen.domain.markdown import escape_markdown
from brightrun_gen.errors import BrightRunError
from pages.common import act, decision_reviewer, forget_shared_reads, notify, notify_error


def show_judgement(app, view) -> None:
    """Call at the end of the review page's side column with the page's ReviewView."""
    row = view.row
    if not view.detail.turns:
        return
    key = f"judge_version_{row.id}_{row.current_version}"  # a new current version is shown first
    try:
        panel = app.judgements.panel(row.id, version=st.session_state.get(key))
    except BrightRunError:
        st.session_state.pop(key, None)
        panel = app.judgements.panel(row.id)
    with st.container(border=True, key="judge_panel"):
        st.markdown("**Judge**")
        _judgement(panel.judgement, panel.row.key)
    with st.container(border=True, key="versions_panel"):
        _versions(app, panel, key)
    if panel.can_repair_with_notes:
        _repair(app, panel)


def _judgement(judged, key: str) -> None:
    if not judged:
        st.caption(f"Not judged: this version was written with the judge off, or is a seed or an import. "
                   f"{escape_markdown(f'brightrun judge {key}')} scores it as it is.")
        return
    who = "offline judge (heuristics, no model)" if judged["provider"] == "offline" else judged["model"]
    if judged["error"]:
        st.warning(escape_markdown(f"The judge could not run ({who}): {judged['error']}"), icon=":material/error:")
    else:
        verdict = "passed" if judged["passed"] else "flagged for review" if judged["flagged"] else "failed"
        st.metric("Judge score", f"{judged['score']:.1f} / 5", help=f"Mean of the rubric's criteria · {who}")
        st.caption(f"{verdict} · {escape_markdown(who)} · rubric {judged['rubric_hash'][:10]}")
    if judged["flag_reason"]:
        st.warning(escape_markdown(judged["flag_reason"]), icon=":material/flag:")
    if judged["criteria"]:
        st.dataframe(pd.DataFrame([_criterion_row(c) for c in judged["criteria"]]), hide_index=True,
                     key="judge_criteria", column_config={"evidence": st.column_config.TextColumn(width="large"),
                                                          "suggestion": st.column_config.TextColumn(width="large")})
    failed = [f for f in judged["findings"] if not f["passed"]]
    if failed:
        st.caption("Deterministic checks that failed (they cap the scores above)")
        st.dataframe(pd.DataFrame([{"check": f["label"], "turn": f["turn"], "evidence": f["evidence"] or "not said",
                                    "fix": f["suggestion"]} for f in failed]), hide_index=True, key="judge_findings")
    if judged["summary"]:
        st.text(judged["summary"])
    if judged["turns"]:
        with st.expander("Scores per advisor turn"):
            st.dataframe(pd.DataFrame(judged["turns"]), hide_index=True, key="judge_turns")


def _criterion_row(c: dict) -> dict:
    where = f"turn {c['evidence_turn']}" if c["evidence_turn"] else "not found in the conversation"
    evidence = f"“{c['evidence']}” ({where})" if c["evidence"] else "nothing in the conversation says it"
    capped = f" (capped: {c['capped_by']})" if c["capped_by"] else ""
    return {"criterion": c["label"], "score": c["score"], "evidence": evidence, "suggestion": c["suggestion"] + capped}


def _versions(app, panel, key: str) -> None:
    numbers = [v.version for v in panel.versions]
    labels = {v.version: v.label for v in panel.versions}
    st.markdown(f"**Versions** ({len(numbers)})")
    if panel.shown in numbers:
        st.session_state[key] = panel.shown
    st.selectbox("Version", numbers, format_func=labels.get, key=key,
                 help="Every generation and repair is kept; the chat shows the current version.")
    for number in panel.drafts_after_approval:
        st.info(f"Version {number} is newer than the approved version {panel.row.current_version}. The approved text "
                "stays current, and is what export uses, until you approve another version.", icon=":material/info:")
    shown = next((v for v in panel.versions if v.version == panel.shown), None)
    if shown and shown.notes:
        st.caption(f"Asked of this version: {escape_markdown(shown.notes)}")
    if not panel.shown_is_current:
        st.caption(f"You are looking at version {panel.shown}; the chat shows version {panel.row.current_version}.")
        st.button(f"Approve version {panel.shown}", key="approve_version", type="primary", icon=":material/verified:",
                  disabled=not panel.can_approve_shown, on_click=_approve, args=(app, panel.row.id, panel.shown),
                  help="Record an approval of this version and make it the current, exported one.")
        with st.expander(f"Text of version {panel.shown}"):
            for turn in panel.turns:
                st.caption(f"{'Client' if turn.role == 'user' else 'Elena'} · turn {turn.position + 1}")
                st.text(turn.content)
    if panel.compared_with:
        changed = [c for c in panel.diff_markdown if c[2]]
        with st.expander(f"Changes from version {panel.compared_with} ({len(changed)} turn(s))"):
            for title, text, _ in changed:
                st.markdown(f"**{title}**")
                st.markdown(text)  # escaped by the app; ~~removed~~ and **added** words
            if not changed:
                st.caption("No turn changed.")


def _approve(app, conversation_id: int, version: int) -> None:
    try:
        app.reviews.approve_version(conversation_id, version, reviewer=decision_reviewer(st.session_state.get("reviewer")),
                                    notes=st.session_state.get(f"notes_{conversation_id}"))
    except BrightRunError as exc:
        notify_error(str(exc))
        return
    finally:
        forget_shared_reads()
    notify(f"Approved version {version}: it is now the current, exported version.")


def _repair(app, panel) -> None:
    with st.container(border=True, key="repair_panel"):
        st.markdown("**Regenerate with my notes**")
        st.caption(f"A new version from version {panel.row.current_version} and the notes of your Needs edit "
                   "decision; this version is kept.")
        st.text(panel.row.reviewer_notes)
        st.button("Regenerate with my notes", key="repair_with_notes", icon=":material/auto_fix_high:",
                  on_click=act, args=(app.reviews.repair, panel.row.id, panel.row.reviewer_notes))
