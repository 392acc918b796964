"""Plan: is it coherent, how it covers personas × storylines, fill its gaps, grow it."""

import pandas as pd
import streamlit as st

from brightrun_gen.domain.vocabulary import STATUS_LABELS
from pages.common import act, app, sidebar

sidebar()
st.title("Plan")
plan = app().plan
BY_LABELS = {"storyline": "Arc / storyline", "content_category": "Content category"}

check = plan.check()
if check.clean:
    st.success(f"{check.rows} planned conversations, no contradictions: every persona fits its topic, scenario or "
               "edge case, and every tone, intent and outcome fits its storyline.", icon=":material/task_alt:")
else:
    st.error(f"{len(check.contradictions)} contradiction(s) among {check.rows} planned conversations "
             "(also `brightrun plan check`).", icon=":material/error:")
    st.dataframe(pd.DataFrame([{"row": c.row, "fact": c.first.statement, "defined in": c.first.where,
                                "contradicts": c.second.statement, "defined in ": c.second.where}
                               for c in check.contradictions]), hide_index=True, key="plan_contradictions")

st.subheader("Coverage")
by_col, status_col = st.columns([1, 2])
by = by_col.radio("Personas against", list(BY_LABELS), format_func=BY_LABELS.get, key="plan_by")
statuses = status_col.multiselect("Count conversations that are", list(STATUS_LABELS), format_func=STATUS_LABELS.get,
                                  key="plan_statuses", placeholder="every status")
grid = plan.coverage(by)
st.dataframe(grid.table(statuses), key="plan_grid")
st.caption("An empty cell is one no row can fill: the persona's facts rule out every topic or scenario there.")

target_col, button_col = st.columns([1, 2], vertical_alignment="bottom")
target = target_col.number_input("Target per cell", min_value=0, max_value=50, value=2, step=1, key="plan_target")
gaps = grid.gaps(int(target))
button_col.button(f"Fill gaps: add {sum(gaps.values())} row(s) to {len(gaps)} cell(s)", key="plan_fill",
                  disabled=not gaps, icon=":material/add_circle:",
                  on_click=act, args=(lambda: plan.fill_gaps(int(target), by=by).line(),))

st.subheader("Grow the plan")
size_col, seed_col, tiers_col, grow_col = st.columns([1, 1, 1, 1], vertical_alignment="bottom")
size = size_col.number_input("Plan size", min_value=0, value=max(check.rows, plan.DEFAULT_SIZE), step=10,
                             key="plan_size")
seed = seed_col.number_input("Seed", value=plan.DEFAULT_SEED, step=1, key="plan_seed")
tiers = tiers_col.text_input("Tier shares", value=":".join(map(str, plan.DEFAULT_TIERS)), key="plan_tiers",
                             help="Shares of tiers 1:2:3, such as 40:35:15")
grow_col.button("Build", key="plan_build", icon=":material/playlist_add:", disabled=size <= check.rows,
                on_click=act, args=(lambda: plan.build(int(size), seed=int(seed), tiers=plan.tiers(tiers)).line(),))
st.caption("Building adds balanced rows until the plan has this many; rows already generated, reviewed or seeded "
           "are never changed.")
