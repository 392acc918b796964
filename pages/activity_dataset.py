"""Activity page section: the dataset as a whole, its diversity and the phrases it repeats."""

import pandas as pd
import plotly.express as px
import streamlit as st

from pages.common import app, shared_read

# Figures over the whole dataset take a second or two on thousands of conversations: every session
# of the server shares one reading for this long.
DATASET_READ_SECONDS = 30
TOP_PHRASES = 50
CHARTED = 15


@shared_read(seconds=DATASET_READ_SECONDS)
def _diversity(database: str, include_offline: bool):
    return app().dataset.diversity(include_offline=include_offline)


@shared_read(seconds=DATASET_READ_SECONDS)
def _phrases(database: str, role: str, position: str, include_offline: bool):
    return app().dataset.phrases(role=role, position=position, top=TOP_PHRASES, include_offline=include_offline)


def show_dataset() -> None:
    """Diversity figures, then the most shared phrases of one role and position (table and chart)."""
    st.subheader("The dataset as a whole")
    include_offline = st.toggle("Include conversations the offline generator wrote", value=True,
                                key="dataset_offline")
    figures = _diversity(app().cache_key, include_offline)
    if figures.conversations == 0:
        st.info("No written conversations yet: generate or import some, then come back here.")
        return
    _show_diversity(figures)
    _show_phrases(include_offline)


def _show_diversity(figures) -> None:
    similarity = "–" if figures.mean_similarity is None else f"{figures.mean_similarity:.3f}"
    columns = st.columns(5)
    columns[0].metric("Conversations", figures.conversations, help=f"{figures.offline} written offline")
    columns[1].metric("distinct-2", _share(figures.distinct.distinct_2),
                      help="unique word pairs among all word pairs of the turns")
    columns[2].metric("distinct-3", _share(figures.distinct.distinct_3),
                      help="unique word triples among all word triples of the turns")
    columns[3].metric("Mean similarity", similarity,
                      help="MinHash estimate of the Jaccard similarity of 5-word shingle sets, over all pairs")
    columns[4].metric("Near-duplicates", figures.near_duplicate_pairs,
                      help=f"pairs at similarity {figures.threshold:.2f} or more; `brightrun dedupe` lists them")
    st.caption(f"distinct-n counted on {figures.distinct.conversations} conversation(s) (a fixed sample on large "
               f"sets); {figures.offline} of {figures.conversations} conversation(s) written offline.")
    spread_col, turns_col = st.columns(2)
    spreads = {"words per conversation": figures.words, "turns per conversation": figures.turns}
    spread_col.dataframe(pd.DataFrame({name: vars(s) for name, s in spreads.items() if s}), key="dataset_spreads")
    counts = pd.DataFrame(sorted(figures.turn_counts.items()), columns=["turns", "conversations"])
    chart = px.bar(counts, x="turns", y="conversations").update_layout(height=220, margin=dict(l=0, r=0, t=10, b=0))
    turns_col.plotly_chart(chart, key="dataset_turns_chart")


def _short(text: str, words: int = 9) -> str:
    """A passage copied into many conversations, cut to a label that fits the chart."""
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def _share(value) -> str:
    return "–" if value is None else f"{value:.0%}"


def _show_phrases(include_offline: bool) -> None:
    st.markdown("**Phrases many conversations share**")
    data = app().dataset
    role_col, position_col = st.columns(2)
    role = role_col.segmented_control("Said by", data.ROLES, default="assistant", key="phrases_role",
                                      format_func={"assistant": "Advisor", "user": "Client"}.get)
    position = position_col.segmented_control("In", data.POSITIONS, default="any", key="phrases_position",
                                              format_func={"opening": "First turn", "closing": "Last turn",
                                                           "any": "Any turn"}.get)
    stats = _phrases(app().cache_key, role or "assistant", position or "any", include_offline)
    if not stats.phrases:
        st.caption("No phrase appears in three or more conversations.")
        return
    table = pd.DataFrame([{"phrase": p.text, "conversations": p.conversations, "share": p.share,
                           "offline": p.offline, "examples": ", ".join(p.examples), "in context": p.excerpt}
                          for p in stats.phrases])
    charted = table.head(CHARTED).copy()
    charted["label"] = [f"{n}. {_short(text)}" for n, text in enumerate(charted.phrase, 1)]
    chart = px.bar(charted, x="share", y="label", orientation="h", hover_data=["phrase", "conversations"])
    chart.update_layout(height=120 + 22 * min(len(table), CHARTED), margin=dict(l=0, r=0, t=10, b=0),
                        yaxis_title=None, xaxis_tickformat=".0%")
    st.plotly_chart(chart.update_yaxes(autorange="reversed"), key="phrases_chart")
    st.dataframe(table, hide_index=True, key="phrases_table", column_config={
        "share": st.column_config.NumberColumn(format="percent"),
        "in context": st.column_config.TextColumn(width="large"),
    })
    named, turns = stats.name_openings.get(role or "assistant", (0, 0))
    st.caption(f"Read from the {stats.conversations} most recent conversation(s); a client's first name counts as "
               f"[name]. {named} of {turns} of these turns open with the client's first name. Phrases over the "
               "avoid share setting go to the prompt as an avoid list.")
