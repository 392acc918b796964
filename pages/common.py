"""What every page shares: the sign-in gate, the app, the background runner, notices and the sidebar."""

import gc

import streamlit as st
from streamlit.errors import StreamlitAuthError, StreamlitMissingAuthlibError
from streamlit.runtime.pages_manager import PagesManager

from brightrun_gen.brightrun import BrightRun
from brightrun_gen.config import get_settings
from brightrun_gen.domain.access import signin_refusal
from brightrun_gen.domain.markdown import escape_markdown
from brightrun_gen.errors import BrightRunError, InputError

# A conversation stored shows in every sidebar within a poll plus the progress read's age: 1.5 + 0.5 s.
PROGRESS_POLL_SECONDS = 1.5
PROGRESS_READ_SECONDS = 0.5
# Everyone on the dashboard asks for the same rows, filter choices and progress: within this many
# seconds one query answers them all. A person's own change clears the cache at once (act(),
# forget_shared_reads); changes made elsewhere (the runner, the CLI, other tabs) show after at most
# this long.
SHARED_READ_SECONDS = 1
# The chat avatars, the same in the dashboard's preview and on the Review page.
AVATARS = {"user": ":material/person:", "assistant": ":material/support_agent:"}
OFFLINE_BANNER = ("Offline mode: conversations are placeholder text from the offline generator, not Claude. "
                  "Set ANTHROPIC_API_KEY to generate with Claude.")


@st.cache_resource
def app() -> BrightRun:
    """The one app of this server process: settings, the store and the providers."""
    return BrightRun()


@st.cache_resource(on_release=lambda runner: runner.shutdown())
def background_runner():
    """One runner thread per server process; it also picks up jobs queued by the CLI or other tabs."""
    return app().jobs.start_background_runner()


@st.cache_resource
def freeze_long_lived_objects() -> bool:
    """Once per server, after the first page has imported everything: Python's full collections walk
    every object, and with the modules, catalog and caches on the heap each one held the GIL for
    ~0.3 s every 15-20 s under load, stalling every session at once (bench/bench_load.py).
    gc.freeze() leaves what exists now, which lives as long as the server, out of those passes."""
    gc.freeze()
    return True


def shared_read(func=None, *, seconds: float = SHARED_READ_SECONDS):
    """Cache a read for every session of this server for `seconds`. Give the function the database
    (app().cache_key) as its first argument: it tells stores apart (tests switch stores)."""
    cache = st.cache_data(ttl=seconds, max_entries=64, show_spinner=False)
    return cache(func) if func else cache


@shared_read(seconds=PROGRESS_READ_SECONDS)
def active_progress(database: str) -> list:
    return app().jobs.active_progress()


@shared_read(seconds=PROGRESS_READ_SECONDS)
def latest_progress(database: str):
    return app().jobs.latest_progress()


def forget_shared_reads() -> None:
    """After a change made here, so the person who made it sees it on the next run."""
    st.cache_data.clear()


def notify(message: str) -> None:
    st.session_state.setdefault("_notices", []).append(("ok", message))


def notify_error(message: str) -> None:
    st.session_state.setdefault("_notices", []).append(("error", message))


def show_error(error: object, icon: str = ":material/error:") -> None:
    """An error for the person at the page, shown as typed: it may quote model, seed or user text."""
    st.error(escape_markdown(error), icon=icon)


def show_notices() -> None:
    """Toasts for what worked, st.error for what did not; each notice is shown once."""
    for kind, message in st.session_state.pop("_notices", []):
        if kind == "ok":
            st.toast(message, icon=":material/check_circle:")
        else:
            show_error(message)


def act(action, *args) -> None:
    """Run an app action (a method of app()) from a button callback and report its sentence (or its error)."""
    try:
        notify(action(*args))
    except BrightRunError as exc:
        notify_error(str(exc))
        return
    finally:
        forget_shared_reads()
    background_runner().wake()


def require_login() -> None:
    """With login configured, anyone not signed in sees only a sign-in screen, and anyone signed in
    but not on the allow-list only why and a sign-out: the page stops here, before the store is
    opened or a row is read."""
    try:
        settings = get_settings()
        login_on = settings.auth_configured
    except InputError as exc:  # a bad setting or secrets file: say which, show nothing else
        show_error(exc, icon=":material/settings_alert:")
        st.stop()
    if not login_on:
        return
    if st.user.get("is_logged_in"):
        refusal = signin_refusal(settings.allowed_signins, st.user)
        if refusal is None:
            return
        st.title("Bright Run")
        show_error(refusal, icon=":material/block:")
        st.button("Sign out", icon=":material/logout:", key="sign_out", on_click=st.logout)
        st.stop()
    st.title("Bright Run")
    st.markdown("Sign in to plan, generate, review and export training conversations.")
    show_notices()
    st.button("Sign in", type="primary", icon=":material/login:", key="sign_in", on_click=_sign_in)
    st.stop()


def _sign_in() -> None:
    try:
        st.login()
    except (StreamlitAuthError, StreamlitMissingAuthlibError) as exc:
        notify_error(f"Sign-in is not set up correctly: {' '.join(str(exc).split())}")


def signed_in_identity() -> str | None:
    """The signed-in person as decisions record them (email, else name); None when login is off or
    nobody is signed in."""
    if not get_settings().auth_configured or not st.user.get("is_logged_in"):
        return None
    for claim in ("email", "name", "sub"):
        value = str(st.user.get(claim) or "").strip()
        if value:
            return value
    return None


def decision_reviewer(typed: str | None) -> str | None:
    """Who a review decision is recorded for: with login on, the signed-in identity and never a typed
    name; with login off, the name typed on the page (None falls back to the configured reviewer)."""
    if not get_settings().auth_configured:
        return typed
    identity = signed_in_identity()
    if identity is None:
        raise InputError("sign in to record a review decision")
    refusal = signin_refusal(get_settings().allowed_signins, st.user)
    if refusal:
        raise InputError(refusal)
    return identity


def through_app_navigation() -> None:
    """Run every page through app.py. Until app.py has called st.navigation once, Streamlit routes a
    deep link (/review on a fresh server) the old way: it runs pages/review.py on its own, with
    every module of pages/ in the sidebar and the narrow layout, and stays so until someone opens
    "/". Streamlit has no setting for this; its own st.navigation clears the same flag."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def sidebar(*, show_stop: bool = True) -> None:
    """Call first on every page: the sign-in gate, then the runner, the provider banner, notices and progress."""
    through_app_navigation()
    require_login()
    background_runner()
    freeze_long_lived_objects()
    st.session_state["_page_run"] = st.session_state.get("_page_run", 0) + 1
    settings = get_settings()
    if settings.effective_provider == "offline":
        st.warning(OFFLINE_BANNER, icon=":material/cloud_off:")
    show_notices()
    with st.sidebar:
        if settings.auth_configured:
            _account()
        _progress_panel(show_stop)
        st.divider()
        st.caption(f"Database: `{app().database}`")
        _runner_error()
        provider = "offline generator" if settings.effective_provider == "offline" else f"Claude · {settings.model}"
        st.caption(f"Provider: {provider}")


def _account() -> None:
    name, email = st.user.get("name"), st.user.get("email")
    st.markdown(f"Signed in as **{escape_markdown(name or email or signed_in_identity() or 'your account')}**")
    if name and email:
        st.caption(escape_markdown(email))
    st.button("Sign out", icon=":material/logout:", key="sign_out", on_click=st.logout)
    st.divider()


@st.fragment(run_every=PROGRESS_POLL_SECONDS)
def _progress_panel(show_stop: bool) -> None:
    """Polls the queue tables; reruns the whole page once when a job starts or ends anywhere."""
    jobs = active_progress(app().cache_key)
    ids = tuple(p.job_id for p in jobs)
    # In a full page run the page itself shows fresh state; on its own, the panel must ask for it.
    alone = st.session_state.get("_panel_page_run") == st.session_state.get("_page_run")
    st.session_state["_panel_page_run"] = st.session_state.get("_page_run")
    seen, st.session_state["_active_jobs"] = st.session_state.get("_active_jobs"), ids
    for job_id in _ended_since_last_poll(seen, ids):  # say how it went
        notify(app().jobs.ended_sentence(app().jobs.progress(job_id)))
    if alone and seen is not None and (seen != ids or st.session_state.get("_notices")):
        st.rerun(scope="app")
    show_notices()
    for p in jobs:
        _job_panel(app().jobs.progress_view(p), show_stop)
    if not jobs:
        _last_job()


def _ended_since_last_poll(seen: tuple | None, active: tuple) -> list[int]:
    """Jobs active at the last poll and not now, and a job that started and ended between two polls."""
    latest = latest_progress(app().cache_key)
    newest = latest.job_id if latest else 0
    before, st.session_state["_newest_job"] = st.session_state.get("_newest_job"), newest
    ended = set(seen or ()) - set(active)
    if before is not None and newest > before and newest not in active:
        ended.add(newest)
    return sorted(ended)


def _last_job() -> None:
    latest = latest_progress(app().cache_key)
    if latest is None:
        st.caption("No generation jobs yet.")
        return
    view = app().jobs.progress_view(latest)
    st.caption(f"Last job {view.job_id} ({latest.status}): {view.bar_text} · {view.counts}")
    _errors(view)


def _job_panel(view, show_stop: bool) -> None:
    st.markdown(f"**{view.title}**")
    st.progress(view.fraction, text=view.bar_text)
    for line in view.current:
        st.caption(line)
    if view.eta:
        st.caption(view.eta)
    st.caption(view.counts)
    _errors(view)
    if show_stop and view.active:
        st.button("Stop", key=f"stop_job_{view.job_id}", icon=":material/stop_circle:",
                  help="Stop after the conversations being written now; everything done is kept.",
                  on_click=act, args=(app().jobs.stop, view.job_id))


def _errors(view) -> None:
    if not view.errors:
        return
    with st.expander(f"Errors ({len(view.errors)})", icon=":material/error:"):
        for line in view.errors:
            st.caption(line)
        st.button("Retry failed", key=f"retry_{view.job_id}", icon=":material/replay:",
                  on_click=act, args=(app().jobs.retry_failed, view.job_id))


def _runner_error() -> None:
    """What last went wrong in this server's background runner (also in the log)."""
    error = background_runner().last_error
    if error is not None:
        with st.expander("Runner problem", icon=":material/warning:"):
            st.caption(f"{error.at:%Y-%m-%d %H:%M:%S} UTC")
            st.text(error.message)
