"""Dashboard: every planned and seed conversation; filter it, preview a row, generate, stop."""

import json
import random

import streamlit as st
from st_aggrid import AgGrid, JsCode

from brightrun_gen.config import get_settings
from brightrun_gen.domain.models import FILTER_LABELS
from brightrun_gen.errors import BrightRunError
from pages.common import act, app, shared_read, show_error, show_notices, sidebar

GRID_KEY = "dashboard_grid"
PREVIEW_KEY = "dashboard_preview"
DIALOG_KEY = "_dashboard_confirm"
# While a job runs the table refreshes every 10 s plus a per-session offset of up to 2 s: when a job
# starts every open dashboard reruns within one progress poll, and equal intervals would keep all
# their refreshes in step, a burst of table runs every 10 s.
REFRESH_WHILE_RUNNING = 10
REFRESH_SPREAD = 2.0
STATUS_HEX = {"Not Generated": "#6b7280", "Queued": "#2563eb", "Generating": "#2563eb", "Generated": "#7c3aed",
              "Approved": "#15803d", "Needs Edit": "#c2410c", "Rejected": "#b91c1c", "Failed": "#b91c1c",
              "Seed": "#6b7280"}
AVATARS = {"user": ":material/person:", "assistant": ":material/support_agent:"}

GRID_OPTIONS = {
    "columnDefs": [
        {"field": "key", "headerName": "ID", "flex": 0.8, "minWidth": 85},
        {"field": "persona", "headerName": "Persona", "flex": 2.2, "minWidth": 140, "tooltipField": "persona"},
        {"field": "emotion", "headerName": "Emotion", "flex": 1.6, "minWidth": 125, "tooltipField": "emotion",
         "headerTooltip": "Emotional state at the start → at the end"},
        {"field": "topic", "headerName": "Topic", "flex": 1.6, "minWidth": 115, "tooltipField": "topic"},
        {"field": "tier", "headerName": "Tier", "flex": 0.45, "minWidth": 50},
        {"field": "status", "headerName": "Status", "flex": 1.1, "minWidth": 110, "cellStyle": JsCode(
            "function(p) { const c = %s; return {color: c[p.value] || 'inherit', fontWeight: 600}; }"
            % json.dumps(STATUS_HEX))},
        {"field": "quality_score", "headerName": "Quality", "flex": 0.6, "minWidth": 70, "type": "numericColumn"},
        {"field": "model", "headerName": "Model", "flex": 1.1, "minWidth": 105, "tooltipField": "model",
         "cellStyle": JsCode("function(p) { return p.value === 'offline' ? {color: '#b45309', fontStyle: 'italic'} : null; }")},
        {"field": "updated_at", "headerName": "Last updated", "flex": 1.2, "minWidth": 135},
        {"field": "id", "hide": True},
        {"field": "status_key", "hide": True},
    ],
    "defaultColDef": {"sortable": True, "resizable": True, "filter": False},
    "rowSelection": {"mode": "multiRow", "checkboxes": True, "headerCheckbox": True, "enableClickSelection": False,
                     "selectAll": "filtered"},
    # Row ids are conversation ids, so a selection survives filter changes and table refreshes.
    "getRowId": JsCode("function(p) { return String(p.data.id); }"),
    "rowHeight": 34,
    "tooltipShowDelay": 500,
    "overlayNoRowsTemplate": "No conversations match these filters.",
}
# Only the selection and a clicked row travel back to Python, not 10,000 rows; `at` tells a new
# click from the same value returned again on a later rerun.
GRID_RETURN = JsCode("""function({streamlitRerunEventTriggerName, eventData}) {
    const clicked = streamlitRerunEventTriggerName === 'rowClicked' && eventData.data;
    return {selected: eventData.api.getSelectedRows().map(r => r.id),
            clicked: clicked ? eventData.data.key : null, at: Date.now()};
}""")


@shared_read
def filter_choices(database: str):
    return app().conversations.filter_choices()


@shared_read
def dashboard_data(database: str, filters: dict):
    return app().conversations.dashboard(filters)


def filter_widgets(choices) -> dict:
    values = {}
    columns = st.columns(5)
    for i, (name, label) in enumerate(FILTER_LABELS.items()):
        key = f"filter_{name}"
        if key in st.session_state:  # values the store no longer holds would break the widget
            st.session_state[key] = [v for v in st.session_state[key] if v in choices.options[name]]
        with columns[i % 5]:
            values[name] = st.multiselect(label, choices.options[name], key=key, placeholder="All",
                                          format_func=lambda v, n=name: choices.label(n, v), persist_state="session")
    return values


def remove_filter(name: str, value) -> None:
    st.session_state[f"filter_{name}"] = [v for v in st.session_state.get(f"filter_{name}", []) if v != value]


def clear_filters() -> None:
    for name in FILTER_LABELS:
        st.session_state[f"filter_{name}"] = []


def ask_to_confirm(plan) -> None:
    st.session_state[DIALOG_KEY] = plan


@st.dialog("Generate conversations", width="medium")
def confirm_generation(plan) -> None:
    if plan.skipped:
        st.caption(f"{plan.skipped} selected row(s) left out: seeds, approved and already queued rows stay as they are.")
    if not plan.count:
        st.info("Nothing to generate here: every row is already generated, approved, queued or a seed.")
        return
    st.markdown(f"Generate **{plan.count}** conversation(s)?")
    offline = get_settings().effective_provider == "offline"
    use_batch = not offline and st.checkbox("Use Message Batches: half price, results within 24 hours")
    max_cost = st.number_input("Budget cap (USD, 0 for none)", min_value=0.0, step=1.0, disabled=offline or use_batch,
                               value=float(get_settings().max_cost_usd or 0.0),
                               help="Stop before the job would spend more; judge and repair calls count.")
    try:
        with st.spinner("Estimating cost and time…"):
            found = app().jobs.estimate(plan.ids, use_batch=use_batch)
    except BrightRunError as exc:
        show_error(exc)
        return
    for line in found.lines():
        st.markdown(f"- {line}")
    st.caption(f"Model: {found.model}. Based on the {found.basis}.")
    start, cancel = st.columns(2)
    if start.button("Start generating", type="primary", icon=":material/play_arrow:", width="stretch"):
        with st.spinner(f"Queuing {plan.count} conversation(s)…"):
            act(app().jobs.start, plan, use_batch, None if use_batch else max_cost or None)
        st.rerun()
    if cancel.button("Cancel", width="stretch"):
        st.rerun()


def action_bar(data, filters: dict, selected: list, running: bool) -> None:
    chosen = app().jobs.plan_selected(data.table, selected)
    busy = "A generation job is running: wait for it or stop it."
    st.button("Generate selected", icon=":material/checklist:", disabled=running or not selected,
              help=busy if running else f"{len(selected)} row(s) ticked" if selected else "Tick rows in the table first.",
              on_click=ask_to_confirm, args=(chosen,))
    st.button("Generate all", type="primary", icon=":material/play_arrow:", disabled=running or not data.generatable_ids,
              help=busy if running else f"{len(data.generatable_ids)} row(s) of this view are not generated yet."
              if data.generatable_ids else "Every row here is generated; tick rows and use Generate selected to redo them.",
              on_click=ask_to_confirm, args=(app().jobs.plan_all(data, filters),))
    st.button("Stop", icon=":material/stop_circle:", disabled=not running, on_click=act, args=(app().jobs.stop_all,),
              help="Stop after the conversations being written now; everything done is kept.")
    st.caption(f"{len(selected)} selected" if selected else "Tick rows to select them; click a row to read it.")


def close_preview() -> None:
    st.session_state.pop(PREVIEW_KEY, None)


@st.dialog("Conversation", width="large", on_dismiss=close_preview)
def preview_dialog(key: str, running: bool) -> None:
    show_notices()
    try:
        p = app().conversations.preview(key, job_running=running)
    except BrightRunError as exc:
        show_error(exc)
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown(f"### {p.title}")
        st.badge(p.status_label, color=p.status_color)
        st.button(p.generate_label, key="generate_one", type="primary", icon=":material/play_arrow:",
                  disabled=bool(p.blocked_reason), help=p.blocked_reason or "Generate this conversation now.",
                  on_click=act, args=(app().jobs.start, app().jobs.plan_one(p.id)))
    for column, (label, value) in zip(st.columns(3) * 2, p.facts):
        column.markdown(f"**{label}:** {value}")
    if p.offline:
        st.caption("Written by the offline generator: placeholder text, not Claude.")
    if p.last_error:
        st.error(p.last_error)  # escaped by the app
    if not p.turns:
        st.info("Not generated yet.")
    for turn in p.turns:
        with st.chat_message(turn.role, avatar=AVATARS.get(turn.role)):
            st.markdown(turn.text)


def conversations_view(filters: dict) -> None:
    show_notices()
    data = dashboard_data(app().cache_key, filters)
    running = bool(app().jobs.active_ids())
    shown = f"Showing {data.shown} of {data.total} conversations" if any(filters.values()) \
        else f"{data.shown} conversations"
    st.caption(shown)
    actions = st.container(horizontal=True, vertical_alignment="center")
    grid = AgGrid(data.table, gridOptions=GRID_OPTIONS, key=GRID_KEY, height=560, allow_unsafe_jscode=True,
                  data_return_mode="CUSTOM", custom_jscode_for_grid_return=GRID_RETURN,
                  update_on=["selectionChanged", "rowClicked"])
    selected = [int(i) for i in grid.get("selected") or []]
    if grid.get("clicked") and grid.get("at") != st.session_state.get("_grid_click_at"):
        st.session_state["_grid_click_at"] = grid.get("at")
        st.session_state[PREVIEW_KEY] = grid.get("clicked")
    with actions:
        action_bar(data, filters, selected, running)
    if DIALOG_KEY in st.session_state:
        confirm_generation(st.session_state.pop(DIALOG_KEY))
    elif st.session_state.get(PREVIEW_KEY):  # reopened on every rerun until dismissed, so it stays current
        preview_dialog(st.session_state[PREVIEW_KEY], running)


sidebar(show_stop=False)
st.title("Conversations")
choices = filter_choices(app().cache_key)
filters = filter_widgets(choices)
with st.container(horizontal=True, vertical_alignment="center"):
    for badge in choices.badges(filters):
        st.button(badge.text, key=f"badge_{badge.dimension}_{badge.value}", on_click=remove_filter,
                  args=(badge.dimension, badge.value), help="Remove this filter")
    st.button("Clear all filters", type="tertiary", icon=":material/filter_alt_off:",
              disabled=not any(filters.values()), on_click=clear_filters)
refresh = None
if app().jobs.active_ids():
    refresh = REFRESH_WHILE_RUNNING + st.session_state.setdefault("_refresh_offset", random.uniform(0, REFRESH_SPREAD))
st.fragment(conversations_view, run_every=refresh)(filters)
