"""Review: read a conversation as a chat, check its facts and quality, and decide on it."""

import pandas as pd
import plotly.express as px
import streamlit as st

from brightrun_gen.config import get_settings
from brightrun_gen.domain.markdown import escape_markdown
from brightrun_gen.domain.models import DECISION_LABELS, WRITTEN
from brightrun_gen.errors import BrightRunError
from pages.review_judgement import show_judgement
from pages.common import (
    app, decision_reviewer, forget_shared_reads, notify, notify_error, show_error, sidebar, signed_in_identity,
)
from pages.review_sources import show_sources
from pages.review_prompt import show_prompt
from pages.review_similar import show_similar
from pages.review_annotations import show_turn_annotation

sidebar()
state = st.session_state
st.title("Review")


def go_to(conversation_id) -> None:
    st.query_params["id"] = str(conversation_id)


def go_to_next_unreviewed(after_id) -> None:
    found = app().reviews.next_unreviewed(after_id)
    if found is None:
        notify("Nothing is waiting for review: every generated conversation has a decision.")
    else:
        go_to(found)


def decide(conversation_id: int, key: str, action: str) -> None:
    try:
        row = app().reviews.decide(conversation_id, action, reviewer=decision_reviewer(state.get("reviewer")),
                                   notes=state.get(f"notes_{conversation_id}"))
    except BrightRunError as exc:
        notify_error(str(exc))
        return
    finally:
        forget_shared_reads()
    notify(f"{DECISION_LABELS[row.status]}: {escape_markdown(key)}")
    if state.get("review_advance"):
        go_to_next_unreviewed(conversation_id)


# --- which conversation: the URL's ?id=, else the review queue, else the first in the list -------
with st.container(border=True):
    filter_col, prev_col, next_col, queue_col = st.columns([4, 1, 1, 2], vertical_alignment="bottom")
    statuses = filter_col.pills(
        "Show conversations that are", WRITTEN, default=list(WRITTEN), selection_mode="multi",
        format_func=lambda s: s.replace("_", " ").capitalize(), key="review_statuses")
    options = app().reviews.options(statuses)
    ref = st.query_params.get("id") or app().reviews.next_unreviewed() or next(iter(options), None)
    view, problem = None, None
    if ref is not None:
        try:
            view = app().reviews.load(ref)
        except BrightRunError as exc:
            problem = str(exc)
    current = view.row.id if view else None
    if current is not None and current not in options:
        options = {current: f"{view.row.key} · {view.row.status.replace('_', ' ')}", **options}
    ids = list(options)
    before, after = app().reviews.neighbours(ids, current) if current is not None else (None, None)
    prev_col.button("Previous", icon=":material/arrow_back:", on_click=go_to, args=(before,), key="review_previous",
                    disabled=before is None, width="stretch")
    next_col.button("Next", icon=":material/arrow_forward:", on_click=go_to, args=(after,), key="review_next",
                    disabled=after is None, width="stretch")
    waiting = app().reviews.unreviewed_count()
    queue_col.button(f"Next unreviewed ({waiting})", icon=":material/playlist_play:", type="primary",
                     on_click=go_to_next_unreviewed, args=(current,), disabled=waiting == 0, width="stretch",
                     help="Walk the generated conversations nobody has decided on yet")
    if current in options:
        state.review_pick = current  # the URL decides; the selectbox follows it
    else:
        state.pop("review_pick", None)
    st.selectbox("Conversation", ids, format_func=options.get, key="review_pick",
                 on_change=lambda: go_to(state.review_pick), placeholder="Choose a conversation to review",
                 **({} if current in options else {"index": None}))

if problem:
    show_error(problem)
if view is None:
    if not problem:
        st.info("Nothing to review yet: generate conversations on the dashboard, then come back here.")
    st.stop()

# --- the conversation -----------------------------------------------------------------------------
row = view.row
st.subheader(escape_markdown(f"{row.key} · {view.persona}"))
st.caption(f"Status: **{row.status.replace('_', ' ')}** · version {row.current_version} · "
           f"written by {escape_markdown(view.generation['Written by'])}")
if not view.reviewable:
    st.info(escape_markdown(view.problem), icon=":material/info:")

chat_col, side_col = st.columns([4, 3], gap="medium")
with chat_col:
    for turn in view.detail.turns:
        with st.chat_message(turn.role):
            speaker = "Client" if turn.role == "user" else "Elena"
            st.caption(f"{speaker} · turn {turn.position + 1} · {turn.word_count} words")
            st.text(turn.content)
            show_turn_annotation(turn.annotation)

with side_col:
    with st.container(border=True):
        st.markdown("**Decision**")
        st.text_area("Notes for this decision", value=row.reviewer_notes or "", key=f"notes_{row.id}",
                     placeholder="What is good, what needs to change…", height=90)
        identity = signed_in_identity()
        if identity:
            st.text_input("Reviewer", value=identity, key="reviewer_signed_in", disabled=True,
                          help="Decisions are recorded for the account you signed in with.")
        else:
            st.text_input("Reviewer", value=get_settings().reviewer, key="reviewer")
        approve_col, edit_col, reject_col = st.columns(3)
        for column, action, label, kind in ((approve_col, "approved", "Approve", "primary"),
                                            (edit_col, "needs_edit", "Needs edit", "secondary"),
                                            (reject_col, "rejected", "Reject", "secondary")):
            column.button(label, type=kind, key=f"decide_{action}", width="stretch",
                          disabled=not view.reviewable, on_click=decide, args=(row.id, row.key, action))
        st.toggle("Go to the next unreviewed conversation after a decision", key="review_advance")

    quality_tab, facts_tab, generation_tab, history_tab = st.tabs(
        ["Quality", "Dimensions", "Generation", f"History ({len(view.history)})"])
    with quality_tab:
        quality = view.detail.quality
        if not quality:
            st.caption("No quality score yet.")
        else:
            st.metric("Quality score", f"{quality['score']:g} / 10")
            criteria = pd.DataFrame(quality["criteria"])
            criteria["result"] = criteria["passed"].map({True: "passed", False: "failed"})
            figure = px.bar(criteria, x="score", y="label", color="result", orientation="h", range_x=[0, 1],
                            color_discrete_map={"passed": "#2e9e5b", "failed": "#d64545"})
            figure.update_layout(height=300, margin=dict(l=0, r=0, t=10, b=0), yaxis_title=None,
                                 xaxis_title="criterion score (0–1)", legend_title=None)
            figure.update_yaxes(autorange="reversed")
            st.plotly_chart(figure, config={"displayModeBar": False}, key="quality_chart")
            for criterion in view.failed_criteria:
                st.text(f"✗ {criterion['label']}: {criterion['detail']}")
            if not view.failed_criteria:
                st.caption("Every criterion passed.")
    with facts_tab:
        st.dataframe(pd.DataFrame(view.dimensions.items(), columns=["dimension", "value"]), hide_index=True)
        if view.annotations:
            st.caption("Annotations")
            st.json(view.annotations, expanded=1)
    with generation_tab:
        facts = {name: str(value) for name, value in view.generation.items() if value is not None}
        st.dataframe(pd.DataFrame(facts.items(), columns=["fact", "value"]), hide_index=True)
        if view.attempts:
            st.caption("Every attempt for this conversation")
            st.dataframe(pd.DataFrame(view.attempts), hide_index=True)
        if view.parameters:
            with st.expander("Prompt parameters of the current version"):
                st.json(view.parameters, expanded=1)
    with history_tab:
        if view.history:
            st.dataframe(pd.DataFrame(view.history[::-1]).drop(columns="id"), hide_index=True)
        else:
            st.caption("No decisions yet.")
    show_sources(app(), view)
    show_prompt(app(), view)
    show_similar(app(), view)
    show_judgement(app(), view)
