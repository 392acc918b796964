"""Dashboard: every planned and seed conversation; filter it, preview a row, generate, stop."""

import random

import streamlit as st

from brightrun_gen.domain.vocabulary import BUSY, FILTER_LABELS
from pages.common import PROGRESS_POLL_SECONDS, act, active_progress, app, shared_read, show_notices, sidebar
from pages.dashboard_dialogs import (
    CONFIRM_KEY, PREVIEW_KEY, ask_to_confirm, confirm_generation, preview_dialog, start_or_confirm,
)
from pages.dashboard_grid import table_grid

# While a job runs the table is redrawn at the progress panel's pace from the same progress read, so
# the two agree within one poll; each session takes up to REFRESH_SPREAD off its interval so the
# redraws of many open dashboards do not all land at the same moment.
REFRESH_SPREAD = 0.3


@shared_read
def filter_choices(database: str):
    return app().conversations.filter_choices()


@shared_read
def dashboard_data(database: str, filters: dict):
    return app().conversations.dashboard(filters)


def filter_widgets(choices) -> dict:
    values = {}
    # One label whatever is chosen: a changed label is a new expander, which would close under the cursor.
    with st.expander("Filters", icon=":material/filter_list:", key="filters_panel"):
        columns = st.columns(3)
        for i, (name, label) in enumerate(FILTER_LABELS.items()):
            key = f"filter_{name}"
            if key in st.session_state:  # values the store no longer holds would break the widget
                st.session_state[key] = [v for v in st.session_state[key] if v in choices.options[name]]
            with columns[i % 3]:
                values[name] = st.multiselect(label, choices.options[name], key=key, placeholder="All",
                                              format_func=lambda v, n=name: choices.label(n, v),
                                              persist_state="session", wrap=True)
    return values


def remove_filter(name: str, value) -> None:
    """A badge's ✕: drop its value, or the whole filter for an 'all' badge (value None)."""
    kept = [] if value is None else [v for v in st.session_state.get(f"filter_{name}", []) if v != value]
    st.session_state[f"filter_{name}"] = kept


def clear_filters() -> None:
    for name in FILTER_LABELS:
        st.session_state[f"filter_{name}"] = []


def action_bar(table, filters: dict, selected: list, running: bool) -> None:
    busy = "A generation job is running: wait for it or stop it."
    waiting = app().jobs.count_all(table, filters)
    # The plans are made on click: this bar is redrawn at every poll while a job runs.
    st.button("Generate selected", icon=":material/checklist:", disabled=running or not selected,
              help=busy if running else f"{len(selected)} ticked" if selected else "Tick rows in the table first.",
              on_click=lambda: ask_to_confirm(app().jobs.plan_selected(table, selected)))
    st.button("Generate all", type="primary", icon=":material/play_arrow:", disabled=running or not waiting,
              help=busy if running else f"{waiting} of these rows are not generated yet." if waiting
              else "Every row here is generated; tick rows and use Generate selected to redo them.",
              on_click=lambda: ask_to_confirm(app().jobs.plan_all(table, filters)))
    st.button("Stop", icon=":material/stop_circle:", disabled=not running, on_click=act, args=(app().jobs.stop_all,),
              help="Stop after the conversations being written now; everything done is kept.")
    st.caption(f"{len(selected)} selected" if selected else "Tick rows to select them; click a row to read it.")


def grid_value(grid: dict) -> list[int]:
    """The ticked ids; a new click opens its preview or its Generate/Regenerate."""
    state = st.session_state
    if grid.get("at") and grid.get("at") != state.get("_grid_click_at"):
        state["_grid_click_at"] = grid.get("at")
        if grid.get("action"):
            start_or_confirm(app().jobs.plan_one(grid["action"]))
        elif grid.get("clicked"):
            state[PREVIEW_KEY] = grid["clicked"]
    if state.get("_selection_epoch_seen") != state.get("_selection_epoch", 0):
        state["_selection_epoch_seen"] = state.get("_selection_epoch", 0)
        state["_ticks_cleared_at"] = grid.get("at")  # ticks returned before the job was queued are gone
    if grid.get("at") is not None and grid.get("at") == state.get("_ticks_cleared_at"):
        return []
    return [int(i) for i in grid.get("selected") or []]


def conversations_view(filters: dict) -> None:
    show_notices()
    data = dashboard_data(app().cache_key, filters)
    jobs = active_progress(app().cache_key)
    running = bool(jobs)
    table = app().jobs.with_progress(data.table, jobs)
    st.caption(f"Showing {data.shown} of {data.total} conversations" if any(filters.values())
               else f"{data.shown} conversations")
    actions = st.container(horizontal=True, vertical_alignment="center")
    # The first rows as HTML matter only until the grid has loaded: in the polls that follow a page
    # run, the grid is drawn over an empty stand-in (same place, so nothing moves).
    first_paint = st.session_state.get("_grid_page_run") != st.session_state.get("_page_run")
    st.session_state["_grid_page_run"] = st.session_state.get("_page_run")
    selected = grid_value(table_grid(table, st.session_state.get("_selection_epoch", 0), first_paint))
    with actions:
        action_bar(table, filters, selected, running)
    asking = CONFIRM_KEY in st.session_state
    if asking:
        confirm_generation(st.session_state.pop(CONFIRM_KEY))
    elif st.session_state.get(PREVIEW_KEY):  # reopened on every rerun until dismissed, so it stays current
        preview_dialog(st.session_state[PREVIEW_KEY], running)
    # The grid can miss the update of the run that ends a job (seen under load: a row kept
    # "Generating" until a reload). So a page that drew busy rows polls once more after the job has
    # ended, and the poll that finds neither a job nor busy rows twice in a row stops the polling.
    drew_busy = st.session_state.get("_drew_busy", False)
    st.session_state["_drew_busy"] = running and bool(table["status_key"].isin(BUSY).any())  # a job's rows
    idle = not running and not drew_busy and not st.session_state["_drew_busy"]
    if st.session_state.get("_polling") and idle and not asking:  # (a confirmation just opened stays open)
        st.rerun(scope="app")


sidebar(show_stop=False)
st.title("Conversations")
choices = filter_choices(app().cache_key)
filters = filter_widgets(choices)
# Always drawn, so the page keeps one shape whether or not a filter is chosen.
with st.container(horizontal=True, vertical_alignment="center"):
    for badge in choices.badges(filters):
        st.button(badge.text, key=f"badge_{badge.dimension}_{badge.value}", on_click=remove_filter,
                  args=(badge.dimension, badge.value), help="Remove this filter")
    st.button("Clear all filters", type="tertiary", icon=":material/filter_alt_off:",
              disabled=not any(filters.values()), on_click=clear_filters)
refresh = None
if active_progress(app().cache_key) or st.session_state.get("_drew_busy"):
    refresh = PROGRESS_POLL_SECONDS - st.session_state.setdefault("_refresh_offset", random.uniform(0, REFRESH_SPREAD))
st.session_state["_polling"] = refresh is not None
st.fragment(conversations_view, run_every=refresh)(filters)
