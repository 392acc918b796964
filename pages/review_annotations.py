"""The annotations of one turn, shown under its text on the review page: the client's emotion,
the advisor's strategy, the judge's scores, and who gave them (an offline placeholder says so)."""

import streamlit as st

from brightrun_gen.domain.annotations import SCORE_LABELS, turn_notes
from brightrun_gen.domain.markdown import escape_markdown


def show_turn_annotation(annotation: dict | None) -> None:
    """One caption line under the turn; nothing when the turn has no annotation."""
    notes = turn_notes(annotation)
    if notes.empty:
        return
    parts = []
    if notes.emotion:
        parts.append(f"emotion **{escape_markdown(notes.emotion)}**")
    if notes.intensity is not None:
        parts.append(f"intensity {notes.intensity:.2f}")
    if notes.confidence is not None:
        parts.append(f"confidence {notes.confidence:.2f}")
    if notes.strategy:
        parts.append(f"strategy: {escape_markdown(notes.strategy)}")
    if notes.target:
        parts.append(f"planned: {escape_markdown(notes.target)}")
    if notes.scores:
        parts.append(", ".join(f"{SCORE_LABELS[name]} {value:g}/5" for name, value in notes.scores.items()))
    icon = ":material/science:" if notes.source == "offline" else ":material/label:"
    st.caption(f"{icon} {' · '.join(parts)} · _{escape_markdown(notes.source_label)}_")
