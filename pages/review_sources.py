"""The review page's panel of firm sources: which of the firm's chunks grounded this version."""

import streamlit as st

from brightrun_gen.domain.markdown import escape_markdown


def show_sources(app, view) -> None:
    """Document, heading and excerpt of each chunk the current version's prompt carried."""
    sources = app.documents.sources(view.row.id, view.row.current_version)
    with st.expander(f"Firm sources ({len(sources)})", icon=":material/menu_book:", expanded=bool(sources)):
        if not sources:
            st.caption("This version was not grounded in the firm's documents.")
        for source in sources:
            pinned = " · pinned" if source["pinned"] else ""
            heading = f" › {escape_markdown(source['heading'])}" if source["heading"] else ""
            st.markdown(f"**{escape_markdown(source['document'])}**{heading}{pinned}")
            st.text(source["excerpt"])
