"""The Review page's side tabs: quality, dimensions, generation and history of one conversation.

Each panel is `show_<name>(app, view)`; the page lists them in PANELS as (tab title, function).
"""

import pandas as pd
import plotly.express as px
import streamlit as st

from brightrun_gen.domain.vocabulary import DECISION_LABELS


def show_quality(app, view) -> None:
    quality = view.detail.quality
    if not quality:
        st.caption("No quality score yet.")
        return
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


def show_dimensions(app, view) -> None:
    st.dataframe(pd.DataFrame(view.dimensions.items(), columns=["dimension", "value"]), hide_index=True)
    if view.annotations:
        st.caption("Annotations")
        st.json(view.annotations, expanded=1)


def show_generation(app, view) -> None:
    facts = {name: f"{value:%Y-%m-%d %H:%M}" if hasattr(value, "strftime") else str(value)
             for name, value in view.generation.items() if value is not None}
    st.dataframe(pd.DataFrame(facts.items(), columns=["fact", "value"]), hide_index=True)
    if view.attempts:
        st.caption("Every attempt for this conversation")
        st.dataframe(pd.DataFrame(view.attempts), hide_index=True, column_config={
            "at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
            "error": st.column_config.TextColumn(width="large")})
    if view.parameters:
        with st.expander("Prompt parameters of the current version"):
            st.json(view.parameters, expanded=1)


def show_history(app, view) -> None:
    """Every decision, newest first, with its whole notes (a static table wraps them)."""
    if not view.history:
        st.caption("No decisions yet.")
        return
    st.table(pd.DataFrame([{
        "when": f"{event['at']:%Y-%m-%d %H:%M}" if event["at"] else "", "decision": DECISION_LABELS.get(
            event["action"], event["action"]), "version": event["version"], "reviewer": event["reviewer"],
        "notes": event["notes"] or ""} for event in view.history[::-1]]).set_index("when"))


PANELS = [("Quality", show_quality), ("Dimensions", show_dimensions), ("Generation", show_generation),
          ("History", show_history)]
