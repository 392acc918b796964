"""Review: read a conversation as a chat, check its facts and quality, and decide on it."""

import streamlit as st

from brightrun_gen.domain.markdown import escape_markdown
from brightrun_gen.domain.vocabulary import STATUS_LABELS, WRITTEN
from brightrun_gen.errors import BrightRunError, NotFound
from pages.common import AVATARS, app, notify, show_error, sidebar
from pages.review_annotations import show_turn_annotation
from pages.review_decision import decision_controls
from pages.review_judgement import show_judgement
from pages.review_panels import PANELS as CORE_PANELS
from pages.review_prompt import show_prompt
from pages.review_similar import show_similar
from pages.review_sources import show_sources

# The side column's tabs, (title, show(app, view)): a panel module of its own adds one entry here.
PANELS = [*CORE_PANELS[:1], ("Judge", show_judgement), *CORE_PANELS[1:], ("Sources", show_sources),
          ("Similar", show_similar), ("Prompt", show_prompt)]
CHAT_HEIGHT = 640  # the chat scrolls inside this many pixels, so the decision panel beside it stays in view

sidebar()
state = st.session_state
st.title("Review")


def go_to(conversation_id) -> None:
    st.query_params["id"] = str(conversation_id)


def go_to_next_unreviewed(after_id) -> None:
    found = app().reviews.next_unreviewed(after_id)
    if found is None:
        notify("Nothing is waiting for review: every generated conversation has a decision.")
    else:
        go_to(found)


def after_decision(conversation_id: int) -> None:
    """The page stays on the conversation decided, unless the reviewer asked to move on."""
    if state.get("review_advance"):
        go_to_next_unreviewed(conversation_id)


def pick_conversation() -> tuple:
    """The URL's ?id=, else the next unreviewed, else the first in the list; pinned in the URL, so a
    decision (which changes what is unreviewed) never moves the page to another conversation."""
    statuses = st.pills("Show conversations that are", WRITTEN, default=list(WRITTEN), selection_mode="multi",
                        format_func=lambda s: STATUS_LABELS[s], key="review_statuses")
    options = app().reviews.options(statuses)
    ref = st.query_params.get("id") or app().reviews.next_unreviewed() or next(iter(options), None)
    if ref is None:
        return None, None, options
    try:
        view = app().reviews.load(ref)
    except NotFound:
        return None, f"There is no conversation {ref!r}: pick one from the list above.", options
    except BrightRunError as exc:
        return None, str(exc), options
    if "id" not in st.query_params:
        go_to(view.row.id)
    return view, None, options


with st.container(border=True):
    view, problem, options = pick_conversation()
    current = view.row.id if view else None
    if current is not None and current not in options:
        options = {current: f"{view.row.key} · {STATUS_LABELS.get(view.row.status, view.row.status)}", **options}
    ids = list(options)
    before, after = app().reviews.neighbours(ids, current) if current is not None else (None, None)
    waiting = app().reviews.unreviewed_count()
    with st.container(horizontal=True, vertical_alignment="bottom"):
        if current in options:
            state.review_pick = current  # the URL decides; the selectbox follows it
        else:
            state.pop("review_pick", None)
        st.selectbox("Conversation", ids, format_func=options.get, key="review_pick", width=520,
                     on_change=lambda: go_to(state.review_pick), placeholder="Choose a conversation to review",
                     **({} if current in options else {"index": None}))
        st.button("", icon=":material/arrow_back:", on_click=go_to, args=(before,), key="review_previous",
                  disabled=before is None, shortcut="K", help="Previous in the list")
        st.button("", icon=":material/arrow_forward:", on_click=go_to, args=(after,), key="review_next",
                  disabled=after is None, shortcut="J", help="Next in the list")
        st.button(f"Next unreviewed ({waiting})", icon=":material/playlist_play:", on_click=go_to_next_unreviewed,
                  args=(current,), disabled=waiting == 0, key="review_next_unreviewed", shortcut="N",
                  help="Walk the generated conversations nobody has decided on yet")

if problem:
    show_error(problem)
if view is None:
    if not problem:
        st.info("Nothing to review yet: generate conversations on the dashboard, then come back here.")
    st.stop()

row = view.row
st.subheader(escape_markdown(f"{row.key} · {view.persona}"))
st.caption(f"Status: **{STATUS_LABELS.get(row.status, row.status)}** · version {row.current_version} · "
           f"written by {escape_markdown(view.generation['Written by'])}")
if row.failed_at:
    show_error(f"The last attempt to regenerate it failed ({row.failed_at:%Y-%m-%d %H:%M}): {row.last_error}. "
               "The text below is the version kept.")
if not view.reviewable:
    st.info(escape_markdown(view.problem), icon=":material/info:")

chat_col, side_col = st.columns([4, 3], gap="medium")
with chat_col, st.container(height=CHAT_HEIGHT, border=False, autoscroll=False):
    for turn in view.detail.turns:
        with st.chat_message(turn.role, avatar=AVATARS.get(turn.role)):
            speaker = "Client" if turn.role == "user" else "Elena"
            st.caption(f"{speaker} · turn {turn.position + 1} · {turn.word_count} words")
            st.text(turn.content)
            show_turn_annotation(turn.annotation)

with side_col:
    with st.container(border=True):
        decision_controls(row.id, row.key, row.reviewer_notes or "", view.problem, shortcuts=True,
                          after=after_decision)
        st.toggle("Go to the next unreviewed conversation after a decision", key="review_advance")
        st.caption("Keys: A approve · E needs edit · X reject · N next unreviewed · J / K next / previous")
    for tab, (title, show) in zip(st.tabs([title for title, _ in PANELS]), PANELS):
        with tab:
            show(app(), view)
    # Panels of other modules (pages/review_<name>.py) go below, one call each: show_<name>(app(), view)
