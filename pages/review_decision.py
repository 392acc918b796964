"""Approve / Needs edit / Reject with notes: the same controls on the Review page and in the dashboard's preview."""

import streamlit as st

from brightrun_gen.config import get_settings
from brightrun_gen.domain.markdown import escape_markdown
from brightrun_gen.domain.vocabulary import DECISION_LABELS
from brightrun_gen.errors import BrightRunError
from pages.common import app, decision_reviewer, forget_shared_reads, notify, notify_error, signed_in_identity

# (status, label, button type, keyboard shortcut on the Review page)
DECISIONS = (("approved", "Approve", "primary", "A"), ("needs_edit", "Needs edit", "secondary", "E"),
             ("rejected", "Reject", "secondary", "X"))


def decide(conversation_id: int, key: str, action: str, notes_key: str, after=None) -> None:
    """Button callback: record the decision with the notes typed and the reviewer; say what happened."""
    state = st.session_state
    try:
        row = app().reviews.decide(conversation_id, action, reviewer=decision_reviewer(state.get("reviewer")),
                                   notes=state.get(notes_key))
    except BrightRunError as exc:
        notify_error(str(exc))
        return
    finally:
        forget_shared_reads()
    notify(f"{DECISION_LABELS[row.status]}: {escape_markdown(key)}")
    if after is not None:
        after(conversation_id)


def decision_controls(conversation_id: int, key: str, notes: str, problem: str | None, *, prefix: str = "",
                      shortcuts: bool = False, after=None) -> None:
    """Notes, reviewer and the three decision buttons; disabled (with the reason) when it cannot be reviewed."""
    notes_key = f"{prefix}notes_{conversation_id}"
    st.text_area("Notes for this decision", value=notes, key=notes_key, height=68,
                 placeholder="What is good, what needs to change…", disabled=bool(problem))
    with st.container(horizontal=True):
        for action, label, kind, shortcut in DECISIONS:
            st.button(label, type=kind, key=f"{prefix}decide_{action}", disabled=bool(problem),
                      help=problem, shortcut=shortcut if shortcuts else None, width="stretch",
                      on_click=decide, args=(conversation_id, key, action, notes_key, after))
    identity = signed_in_identity()
    if identity:
        st.text_input("Reviewer", value=identity, key=f"{prefix}reviewer_signed_in", disabled=True,
                      help="Decisions are recorded for the account you signed in with.")
    else:
        st.text_input("Reviewer", value=get_settings().reviewer, key="reviewer")
