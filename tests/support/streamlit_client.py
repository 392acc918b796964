"""A viewer of a Streamlit page that speaks the browser's websocket protocol, without a browser.

It asks for script runs as the frontend does (a BackMsg `rerun_script` with every widget's value),
keeps what each run draws by delta path, and repeats the auto-reruns the server asks for
(`st.fragment(run_every=...)`) on the same timer the frontend uses. Load tests use it to put many
people on a page at the cost of a socket each; what a browser adds (drawing, AG Grid's bundle) is
tested by the Playwright tests.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

MAIN, SIDEBAR = 0, 1  # the first number of a delta path: which container the element is in
FULL_RUN_DONE = ForwardMsg.FINISHED_SUCCESSFULLY


@dataclass(frozen=True)
class Drawn:
    """One element as the page holds it: its kind, its text (if any) and its proto."""

    kind: str
    text: str
    proto: object


def element_text(kind: str, element) -> str:
    """The words a person reads on an element; '' for elements without text of their own."""
    part = getattr(element, kind)
    if kind in ("markdown", "heading", "alert"):
        return part.body
    if kind == "progress":
        return part.text
    if kind == "exception":
        return f"{part.type}: {part.message}"
    if kind in ("multiselect", "button", "selectbox", "checkbox", "text_input"):
        return part.label
    return ""


class SessionClosed(RuntimeError):
    """The server closed the websocket, or it broke."""


class StreamlitClient:
    """One browser tab on one page. Use `async with StreamlitClient(base, page) as tab`.

    `on_delta(path, drawn, at)` is called for every element the server sends, with its arrival time
    (time.monotonic()), including the ones of auto-reruns."""

    def __init__(self, base_url: str, page_name: str, on_delta=None):
        self.url = base_url.replace("http://", "ws://", 1).rstrip("/") + "/_stcore/stream"
        self.page_name = page_name
        self.on_delta = on_delta
        self.drawn: dict[tuple[int, ...], Drawn] = {}
        self._drawn_at: dict[tuple[int, ...], int] = {}  # path -> number of the delta that drew it
        self._deltas = self._run_started = 0
        self._full_run_open = False
        self.lost_finishes = 0  # full runs that ended without their script_finished (see _handle)
        self.exceptions: list[str] = []
        self._widgets: dict[str, WidgetState] = {}
        self._page_hash = ""
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}
        self._full_runs_done = 0
        self._updated = asyncio.Condition()  # notified after every message
        self._closed: BaseException | None = None

    async def __aenter__(self) -> StreamlitClient:
        self._ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=None,
                                            open_timeout=60, ping_interval=None)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        for _, timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    # --- asking for runs -----------------------------------------------------------------------

    async def run(self, until=None, timeout: float = 60) -> float:
        """Ask for a full run of the page with the current widget values; wait until the server says
        it finished and, with `until`, until `until(self)` holds too (what a person waits to see).
        Returns the seconds from the request to then."""
        def seen() -> bool:
            return self._full_runs_done > done_before and (until is None or until(self))

        async with self._updated:
            done_before = self._full_runs_done
        started = time.monotonic()
        await self._send_rerun()
        async with self._updated:
            await asyncio.wait_for(self._updated.wait_for(lambda: self._closed is not None or seen()), timeout)
        if self._closed is not None:
            raise SessionClosed(f"{self.page_name}: the websocket closed: {self._closed}")
        return time.monotonic() - started

    async def set_multiselect(self, label: str, values: list[str], until=None) -> float:
        """Choose `values` (as the widget shows them) in the multiselect labelled `label`, as a person
        picking options does, and run the page (see run())."""
        widget = self.widget("multiselect", label)
        unknown = set(values) - set(widget.options)
        if unknown:
            raise ValueError(f"{label}: no option(s) {sorted(unknown)}; the widget offers {list(widget.options)}")
        state = WidgetState(id=widget.id)
        state.string_array_value.data.extend(values)
        self._widgets[widget.id] = state
        return await self.run(until)

    async def _send_rerun(self, fragment_id: str = "") -> None:
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.page_name = self.page_name
        rerun.page_script_hash = self._page_hash
        rerun.widget_states.widgets.extend(self._widgets.values())
        if fragment_id:
            rerun.fragment_id = fragment_id
            rerun.is_auto_rerun = True
        try:
            await self._ws.send(msg.SerializeToString())
        except websockets.ConnectionClosed as exc:
            self._closed = self._closed or exc

    # --- reading what was drawn ----------------------------------------------------------------

    def widget(self, kind: str, label: str):
        for drawn in self.drawn.values():
            if drawn.kind == kind and drawn.text == label:
                return getattr(drawn.proto, kind)
        raise LookupError(f"no {kind} labelled {label!r} on {self.page_name}")

    def texts(self, container: int = MAIN) -> list[str]:
        """The text of every element in `container`, in the order of their paths."""
        return [d.text for path, d in sorted(self.drawn.items()) if path[0] == container and d.text]

    # --- the websocket -------------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                finished = self._handle(ForwardMsg.FromString(raw))
                async with self._updated:
                    self._full_runs_done += finished
                    self._updated.notify_all()
        except websockets.ConnectionClosed as exc:
            self._closed = exc
        else:
            self._closed = SessionClosed("closed by the server")
        finally:
            self._closed = self._closed or SessionClosed("closed")
            async with self._updated:
                self._updated.notify_all()

    def _handle(self, msg: ForwardMsg) -> bool:
        """Take in one message; True when it shows that a full run finished."""
        kind = msg.WhichOneof("type")
        if kind == "new_session":  # a run starts (fragment runs too)
            self._page_hash = msg.new_session.page_script_hash
            fragment_run = bool(msg.metadata.run.fragment_ids)
            ended = fragment_run and self._full_run_open
            if ended:
                # Fragment runs never cut a full run short, so the full run before this one finished
                # without its script_finished. Seen under load; Streamlit 1.67 drops the finish event
                # of a runner that is no longer the session's current one, which a fragment rerun
                # arriving while that runner shuts down makes happen.
                self.lost_finishes += 1
                self._full_run_done()
            self._full_run_open = not fragment_run
            self._run_started = self._deltas
            return ended
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            element_kind = element.WhichOneof("type")
            path = tuple(msg.metadata.delta_path)
            drawn = Drawn(element_kind, element_text(element_kind, element), element)
            self._deltas += 1
            self.drawn[path] = drawn
            self._drawn_at[path] = self._deltas
            if element_kind == "exception":
                self.exceptions.append(drawn.text)
            if self.on_delta:
                self.on_delta(path, drawn, time.monotonic())
        elif kind == "auto_rerun":
            self._start_timer(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment_id in msg.stop_auto_rerun.fragment_ids:
                self._stop_timer(fragment_id)
        elif kind == "script_finished":
            if msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                self.exceptions.append(f"{self.page_name}: the script did not compile")
            if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                self._full_run_open = False  # cut short: the full run the server starts next will finish
            if msg.script_finished != FULL_RUN_DONE:
                return False
            self._full_run_done()
            return True
        return False

    def _full_run_done(self) -> None:
        # Like the frontend: what a full run did not draw again is gone from the page.
        self._full_run_open = False
        self.drawn = {path: d for path, d in self.drawn.items() if self._drawn_at[path] > self._run_started}
        self._drawn_at = {path: self._drawn_at[path] for path in self.drawn}

    def _start_timer(self, fragment_id: str, interval: float) -> None:
        """Like the frontend: one timer per fragment, kept while the interval stays the same."""
        if fragment_id in self._timers and self._timers[fragment_id][0] == interval:
            return
        self._stop_timer(fragment_id)
        self._timers[fragment_id] = (interval, asyncio.create_task(self._tick(fragment_id, interval)))

    def _stop_timer(self, fragment_id: str) -> None:
        if fragment_id in self._timers:
            self._timers.pop(fragment_id)[1].cancel()

    async def _tick(self, fragment_id: str, interval: float) -> None:
        while self._closed is None:
            await asyncio.sleep(interval)
            await self._send_rerun(fragment_id)
