"""The firm knowledge of one planned row, with pin and remove: for the dashboard's preview (issue 18)."""

import streamlit as st

from brightrun_gen.domain.markdown import escape_markdown
from brightrun_gen.errors import BrightRunError


def _choose(app, key: str, chunk_row_id: int, choice) -> None:
    try:
        app.documents.choose(key, chunk_row_id, choice)
    except BrightRunError as exc:
        st.session_state.setdefault("_notices", []).append(("error", str(exc)))


def _line(item) -> str:
    heading = f" › {escape_markdown(item.section_heading)}" if item.section_heading else ""
    score = "pinned" if item.pinned else f"score {item.score:.2f}"
    return f"**{escape_markdown(item.document)}**{heading} · {item.token_count} tokens · {score}"


def show_row_knowledge(app, key: str) -> None:
    """What this row's prompt gets from the firm's documents; pin a candidate, remove a chosen chunk."""
    knowledge = app.documents.for_row(key)
    chosen_ids = {item.id for item in knowledge.chosen}
    st.markdown(f"**Firm knowledge in the prompt** ({len(knowledge.chosen)} chunks)")
    if not knowledge.chosen:
        st.caption("The firm's documents do not cover this row: its prompt gets no firm knowledge.")
    for item in knowledge.chosen:
        text_col, button_col = st.columns([5, 1], vertical_alignment="center")
        text_col.markdown(_line(item))
        text_col.caption(escape_markdown(item.excerpt))
        button_col.button("Remove", key=f"knowledge_remove_{key}_{item.id}", on_click=_choose,
                          args=(app, key, item.id, "removed"))
    others = [item for item in knowledge.candidates if item.id not in chosen_ids][:5]
    if others:
        with st.expander("Other chunks you can pin"):
            for item in others:
                text_col, button_col = st.columns([5, 1], vertical_alignment="center")
                text_col.markdown(_line(item))
                text_col.caption(escape_markdown(item.excerpt))
                button_col.button("Pin", key=f"knowledge_pin_{key}_{item.id}", on_click=_choose,
                                  args=(app, key, item.id, "pinned"))
    for item in knowledge.removed:
        st.button(f"Put back: {item.document} › {item.section_heading or item.chunk_id}",
                  key=f"knowledge_restore_{key}_{item.id}", on_click=_choose, args=(app, key, item.id, None))
