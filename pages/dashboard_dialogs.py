"""The dashboard's dialogs: confirm a generation (what it costs and what it overwrites), preview a row."""

import streamlit as st

from brightrun_gen.config import get_settings
from brightrun_gen.errors import BrightRunError
from pages.common import AVATARS, act, app, show_error, show_notices
from pages.review_decision import decision_controls
from pages.review_prompt import prompt_panel
from pages.sources_row import show_row_knowledge

PREVIEW_KEY = "dashboard_preview"
CONFIRM_KEY = "_dashboard_confirm"


def ask_to_confirm(plan) -> None:
    st.session_state[CONFIRM_KEY] = plan


def start_or_confirm(plan) -> None:
    """Queue at once what overwrites nothing and costs nothing (offline, no text yet); ask for the rest."""
    if plan.overwrites() or get_settings().effective_provider != "offline" or plan.count != 1:
        ask_to_confirm(plan)
    else:
        start(plan)


def start(plan, use_batch: bool = False, max_cost: float | None = None) -> None:
    act(app().jobs.start, plan, use_batch, max_cost)
    # Ticked rows are cleared once their job is queued, so a second click cannot run them again.
    st.session_state["_selection_epoch"] = st.session_state.get("_selection_epoch", 0) + 1


@st.dialog("Generate conversations", width="medium")
def confirm_generation(plan) -> None:
    for line in plan.lines():
        st.markdown(f"- {line}")
    if plan.approved_ids and st.checkbox(f"Also write new versions of the approved row{'s' if len(plan.approved_ids) > 1 else ''}",
                                         help="The approved text stays current and is what exports; the new "
                                              "version is kept next to it."):
        plan = plan.including_approved()
    if not plan.count:
        st.info("Nothing to generate here: seeds, approved rows and rows already queued stay as they are.")
        return
    verb = "Regenerate" if plan.with_text == plan.count else "Generate"
    st.markdown(f"{verb} **{plan.count}** conversation{'s' if plan.count > 1 else ''}?")
    offline = get_settings().effective_provider == "offline"
    use_batch = not offline and st.checkbox("Use Message Batches: half price, results within 24 hours")
    max_cost = st.number_input("Budget cap (USD, 0 for none)", min_value=0.0, step=1.0, disabled=offline or use_batch,
                               value=float(get_settings().max_cost_usd or 0.0), key="confirm_budget",
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
    go, cancel = st.columns(2)
    # Callbacks run before the page, so the page that follows already shows the job (and no dialog).
    go.button(f"{verb} {plan.count}", type="primary", icon=":material/play_arrow:", width="stretch",
              key="confirm_start", on_click=start, args=(plan, use_batch, None if use_batch else max_cost or None))
    cancel.button("Cancel", width="stretch", key="confirm_cancel")


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
        st.button(p.generate_label, key="generate_one", icon=":material/refresh:", disabled=bool(p.blocked_reason),
                  help=p.blocked_reason or ("Write a new version (asks first)." if p.generate_label == "Regenerate"
                                            else "Generate this conversation."),
                  on_click=lambda: start_or_confirm(app().jobs.plan_one(p.id)))
        st.page_link("pages/review.py", label="Open in Review", icon=":material/rate_review:",
                     query_params={"id": p.key})
    for column, (label, value) in zip(st.columns(3) * 2, p.facts):
        column.markdown(f"**{label}:** {value}")
    if p.offline:
        st.caption("Written by the offline generator: placeholder text, not Claude.")
    if p.failed_note:
        st.error(p.failed_note, icon=":material/error:")  # escaped by the app
    if p.turns:
        with st.container(border=True):
            decision_controls(p.id, p.key, p.reviewer_notes, p.review_problem, prefix="preview_")
    else:
        st.info("Not generated yet.")
    chat, prompt, knowledge = st.tabs(["Conversation", "Prompt", "Firm knowledge"])
    with chat:
        for turn in p.turns:
            with st.chat_message(turn.role, avatar=AVATARS.get(turn.role)):
                st.markdown(turn.text)
    with prompt:
        prompt_panel(app(), p.id)
    with knowledge:
        show_row_knowledge(app(), p.key)
