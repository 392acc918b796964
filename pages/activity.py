"""Activity: how far the plan is, how good the conversations are, what generation costs."""

import plotly.express as px
import streamlit as st

from brightrun_gen.errors import BrightRunError
from pages.activity_dataset import show_dataset
from pages.activity_scorecards import show_scorecards
from pages.common import app, show_error, sidebar

sidebar()
st.title("Activity")

activity = app().activity
funnel = activity.funnel()
for column, (stage, count) in zip(st.columns(len(funnel)), funnel.itertuples(index=False)):
    column.metric(stage, count)


def tidy(figure, height: int = 320):
    figure.update_layout(height=height, margin=dict(l=0, r=0, t=30, b=0), legend_title=None)
    return figure


def daily(figure):
    figure.update_xaxes(dtick=86_400_000, tickformat="%b %d")
    return figure.update_yaxes(rangemode="tozero")


st.subheader("Coverage")
by_col, measure_col = st.columns(2)
by = by_col.selectbox("Personas against", list(activity.COVERAGE_COLUMNS), key="coverage_by")
measure = measure_col.radio("Colour by", list(activity.COVERAGE_MEASURES), horizontal=True, key="coverage_measure")
matrix = activity.coverage(activity.COVERAGE_COLUMNS[by], activity.COVERAGE_MEASURES[measure])
if matrix.empty:
    st.info("The plan is empty: run `brightrun init` to build it.")
else:
    share = activity.COVERAGE_MEASURES[measure] != "count"
    heatmap = px.imshow(matrix, text_auto=".0%" if share else True, aspect="auto", color_continuous_scale="Blues",
                        zmin=0, zmax=1 if share else None, labels=dict(x=by, y="Persona", color=measure))
    st.plotly_chart(tidy(heatmap, 120 + 36 * len(matrix)), key="coverage_chart")

funnel_col, quality_col = st.columns(2)
with funnel_col:
    st.subheader("From plan to approval")
    st.plotly_chart(tidy(px.funnel(funnel, x="conversations", y="stage")), key="funnel_chart")
with quality_col:
    st.subheader("Quality scores")
    scores = activity.quality_distribution()
    if scores.empty:
        st.info("No conversation has a quality score yet.")
    else:
        histogram = px.histogram(scores, x="score", color="written by", nbins=20, range_x=[0, 10.5],
                                 labels={"score": "quality score (1–10)"})
        st.plotly_chart(tidy(histogram.update_layout(yaxis_title="conversations")), key="quality_chart")

show_dataset()

st.subheader("Tokens and cost per day")
usage = activity.usage_per_day()
if usage.empty:
    st.info("No generation attempts yet: generate conversations on the dashboard.")
else:
    cost_col, tokens_col = st.columns(2)
    cost = px.bar(usage, x="day", y="cost (USD)", hover_data=["attempts"], labels={"day": ""})
    cost_col.plotly_chart(tidy(daily(cost)), key="cost_chart")
    tokens = px.bar(usage, x="day", y=["input tokens", "output tokens"], barmode="group",
                    labels={"value": "tokens", "day": "", "variable": ""})
    tokens_col.plotly_chart(tidy(daily(tokens)), key="tokens_chart")

show_scorecards(app())

st.subheader("Generation log")
outcome_col, key_col = st.columns([1, 1])
outcomes = outcome_col.multiselect("Outcome", activity.OUTCOMES, key="log_outcomes",
                                   help="ok: a usable conversation · invalid: the answer failed validation · "
                                        "error: the call failed")
key_text = key_col.text_input("Conversation key contains", key="log_key", placeholder="e.g. T2-")
try:
    log = activity.attempt_log(outcomes, key_text)
except BrightRunError as exc:
    show_error(exc)
    st.stop()
st.caption(f"{len(log)} attempt(s), newest first (at most 500 shown)")
st.dataframe(log, hide_index=True, key="log_table", column_config={
    "at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
    "cost (USD)": st.column_config.NumberColumn(format="$%.4f"),
    "seconds": st.column_config.NumberColumn(format="%.1f"),
    "error": st.column_config.TextColumn(width="large"),
})
