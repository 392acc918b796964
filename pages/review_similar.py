"""Review page panel: the conversations this one reads like, each a link to review it."""

import math

import streamlit as st

from brightrun_gen.domain.markdown import escape_markdown

SHOWN = 5


def _shown(similarity: float) -> str:
    """Two decimals, rounded down: 0.797 must not read as the 0.80 it does not reach."""
    return f"{math.floor(similarity * 100) / 100:.2f}"


def show_similar(app, view) -> None:
    """'Similar to T1-014 (0.86)' for each conversation at least 0.5 like this one, most similar first."""
    twins = app.dataset.twins(view.row.id)
    threshold = app.dataset.threshold
    with st.container(border=True, key="similar_panel"):
        near = sum(m.similarity >= threshold for m in twins.matches)
        st.markdown("**Near-duplicates**" if near else "**Similar conversations**")
        for match in twins.matches[:SHOWN]:
            marks = [word for word, on in (("seed", match.seed), ("offline", match.offline)) if on]
            label = (f"similar to {escape_markdown(match.key)} ({_shown(match.similarity)})"
                     + (f" · {', '.join(marks)}" if marks else ""))
            st.page_link("pages/review.py", label=label, query_params={"id": match.key},
                         icon=":material/content_copy:" if match.similarity >= threshold else ":material/link:")
        if not twins.matches:
            st.caption("No other conversation is 0.5 or more similar.")
        elif len(twins.matches) > SHOWN:
            st.caption(f"and {len(twins.matches) - SHOWN} more; `brightrun dedupe` lists every pair")
        st.caption(f"Near-duplicate from {threshold:.2f} (MinHash estimate of shared 5-word runs).")
        if twins.recorded_key and (twins.recorded_similarity or 0) >= threshold:
            st.caption(f"When written, it was {_shown(twins.recorded_similarity)} like "
                       f"{escape_markdown(twins.recorded_key)}.")
