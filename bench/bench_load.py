"""Many people on the dashboard while a job runs: no errors, live progress, quick pages.

Starts `streamlit run app.py` against the local Messages API server (tests/support), opens
SESSIONS dashboard sessions one after the other in one headless Chromium (a browser context
each), queues a job of JOB conversations from this process and, while it runs:

- progress: the sidebar of the first session is watched inside the page (a MutationObserver).
  "Shown after" is the time from queuing the job to the sidebar first showing it (one 2 s poll
  at most, then the page reruns once); from then to the job's end, the longest time between two
  visible changes of the sidebar is the "max gap" (the panel polls every 2 s; a gap also holds
  the difference in time two polls take to run and draw);
- page response, in the other sessions, ACTIVE at a time: reload the page, then choose a persona
  in the filter and clear it again.
    page load = `page.reload()` until the dashboard is drawn: the table caption
                ("110 conversations"), the grid's frame and the action buttons are there and
                Streamlit's status widget is gone;
    rerun     = the click on the filter option (or on "Clear all filters") until the caption
                says "Showing x of y conversations" (or no longer does), status widget gone.
  Both are end to end in the browser, so they include Chromium's own work on the same cores.
  The server's part of the same actions is timed from the browser's websocket frames: the
  request to run the page until the server's "script finished" message;
- errors: exception boxes (`stException`) and the app's console errors in every session.

The targets: no error, the job shown within 5 s, max gap <= 3 s (the 2 s poll plus 1 s; a
missed poll makes 4 s), page load p95 < 1 s and rerun p95 < 1 s. Prints the figures, with the
CPU time the server and Chromium used during the job, and exits 1 when a target is missed.

    python bench/bench_load.py [--sessions 20] [--job 100] [--latency 0.3] [--concurrency 4]
                               [--active 4] [--light-server] [--warm-up] [--option NAME=VALUE]

--light-server runs Streamlit with runner.postScriptGC=false and server.fileWatcherType=none;
--warm-up lets the server finish one conversation first, so the measured job is not its first
(the first one imports the anthropic SDK while the pages wait).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from playwright.async_api import Error as PlaywrightError, async_playwright  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from brightrun_gen.config import Settings  # noqa: E402
from brightrun_gen.services import runner as runner_service  # noqa: E402
from brightrun_gen.services.setup import initialize, open_engine  # noqa: E402
from brightrun_gen.store import conversations as conv_store  # noqa: E402
from brightrun_gen.store.db import write  # noqa: E402
from tests.support.fake_messages_api import FakeMessagesAPI  # noqa: E402
from tests.support.postgres import free_port  # noqa: E402
from tests.test_e2e_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.test_runner import FAKE_KEY, claude_settings, item_statuses, plan_ids  # noqa: E402

PAGE_TARGET = 1.0  # seconds, p95
MAX_GAP = 3.0  # seconds between two visible progress updates: the 2 s poll plus 1 s; a missed poll is 4 s
SHOWN_WITHIN = 2 + MAX_GAP  # a new job appears at the next poll, after the page reruns once
PERSONA = "Marcus Thompson"
VIEWPORT = {"width": 1280, "height": 800}
# Server options that take most of the server's own cost off every rerun: Streamlit runs a full
# gc.collect(2) after each script run (fragment runs too), and each new session's file watcher
# walks every loaded module. Not yet in .streamlit/config.toml: pass them to see the difference.
LIGHT_SERVER = {"runner.postScriptGC": "false", "server.fileWatcherType": "none"}

# The dashboard is done when its caption, the grid's frame and the action bar are there and
# Streamlit no longer shows that it is running. Polled inside the page every 50 ms.
DASHBOARD_DRAWN = """(filtered) => {
    if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
    const main = document.querySelector('[data-testid="stMain"]');
    if (!main || !main.querySelector('[data-testid="stCustomComponentV1"]')) return false;
    if (![...main.querySelectorAll('button')].some(b => b.innerText.includes('Generate all'))) return false;
    const pattern = filtered ? /^Showing \\d+ of \\d+ conversations$/ : /^\\d+ conversations$/;
    return [...main.querySelectorAll('[data-testid="stCaptionContainer"]')]
        .some(c => pattern.test(c.innerText.trim()));
}"""
# Timestamps (ms since the epoch) of every change of the sidebar's text, kept in the page.
WATCH_SIDEBAR = """() => {
    const sidebar = document.querySelector('[data-testid="stSidebar"]');
    window.__panelChanges = [];
    let last = sidebar.innerText;
    new MutationObserver(() => {
        const text = sidebar.innerText;
        if (text !== last) { last = text; window.__panelChanges.push(Date.now()); }
    }).observe(sidebar, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


@dataclass
class LoadResult:
    sessions: int
    job_size: int
    active: int
    server_options: dict
    opened: int = 0
    job_id: int | None = None
    job_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    shown_after: float = float("inf")
    panel_gaps: list[float] = field(default_factory=list)
    page_loads: list[float] = field(default_factory=list)
    reruns: list[float] = field(default_factory=list)
    server_runs: list[float] = field(default_factory=list)
    grid_paints: list[float] = field(default_factory=list)
    first_loads: list[float] = field(default_factory=list)
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def max_gap(self) -> float:
        return max(self.panel_gaps, default=float("inf"))

    def lines(self) -> list[str]:
        options = " ".join(f"{k}={v}" for k, v in self.server_options.items()) or "as .streamlit/config.toml says"
        cpu = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in self.cpu_seconds.items())
        return [
            f"sessions: {self.opened} of {self.sessions} opened ({self.active} of them reloading and filtering "
            "at any moment)",
            f"server options: {options}",
            f"job size: {self.job_size} conversations, ran {self.job_seconds:.1f} s",
            f"errors: {len(self.errors)}" + "".join(f"\n  {e}" for e in self.errors[:10]),
            f"progress panel: job shown {self.shown_after:.2f} s after it was queued (target <= {SHOWN_WITHIN} s); "
            f"then {len(self.panel_gaps)} "
            f"gaps between updates, max {self.max_gap:.2f} s, median "
            f"{statistics.median(self.panel_gaps) if self.panel_gaps else float('nan'):.2f} s (target <= {MAX_GAP} s): "
            + " ".join(f"{gap:.1f}" for gap in self.panel_gaps),
            f"page load, reload -> dashboard drawn: {_stats(self.page_loads)} (target p95 < {PAGE_TARGET} s)",
            f"rerun, filter change -> caption updated: {_stats(self.reruns)} (target p95 < {PAGE_TARGET} s)",
            f"server's part of those (run request -> script finished): {_stats(self.server_runs)}",
            f"grid rows painted after a reload (no target): {_stats(self.grid_paints)}",
            f"first load of each session before the job (no target): {_stats(self.first_loads)}",
            f"CPU time during the job ({self.job_seconds * (os.cpu_count() or 1):.0f} s on "
            f"{os.cpu_count()} CPUs): {cpu}",
        ]

    def missed(self) -> list[str]:
        missed = [f"{len(self.errors)} error(s)"] if self.errors else []
        if self.shown_after > SHOWN_WITHIN:
            missed.append(f"job shown after {self.shown_after:.2f} s > {SHOWN_WITHIN} s")
        if self.max_gap > MAX_GAP:
            missed.append(f"progress gap {self.max_gap:.2f} s > {MAX_GAP} s")
        for name, values in (("page load", self.page_loads), ("rerun", self.reruns)):
            if not values:
                missed.append(f"no {name} measured")
            elif percentile(values, 95) >= PAGE_TARGET:
                missed.append(f"{name} p95 {percentile(values, 95):.2f} s >= {PAGE_TARGET} s")
        return missed


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered), math.ceil(len(ordered) * p / 100)) - 1)]


def _stats(values: list[float]) -> str:
    if not values:
        return "none measured"
    return (f"n={len(values)} p50 {statistics.median(values):.2f} s, p95 {percentile(values, 95):.2f} s, "
            f"max {max(values):.2f} s")


# --- the server ----------------------------------------------------------------------------------


def claude_app_env(db_url: str, fake: FakeMessagesAPI, **extra: str) -> dict:
    """The environment of a server that generates with "Claude" at the local Messages API server.

    The secrets file is pinned to one that does not exist, so a developer's own [auth] or key
    does not change what the test sees."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "BRIGHTRUN_"))}
    env.update(ANTHROPIC_API_KEY=FAKE_KEY, ANTHROPIC_BASE_URL=fake.base_url, BRIGHTRUN_PROVIDER="anthropic",
               BRIGHTRUN_LEASE_SECONDS="3", BRIGHTRUN_DATABASE_URL=db_url,
               BRIGHTRUN_SECRETS_FILE=str(Path(tempfile.gettempdir()) / "brightrun-no-secrets.toml"))
    return {**env, **extra}


def start_claude_app(db_url: str, fake: FakeMessagesAPI, log: Path, options: dict[str, str] | None = None,
                     port: int | None = None, **extra: str) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on `port` (default: a free one), with Streamlit config `options` on top
    of .streamlit/config.toml; its output goes to `log` (a pipe nobody reads would fill up and stall
    the server)."""
    port = port or free_port()
    flags = [f"--{name}={value}" for name, value in (options or {}).items()]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
             "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false", *flags],
            cwd=REPO, env=claude_app_env(db_url, fake, **extra), stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                if answer.read().decode() == "ok":
                    return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("streamlit did not become healthy within 60 s")


def stop_app(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def prepare_store(db_url: str, job_size: int) -> list[int]:
    """`brightrun init`, plus planned rows copied from the plan when the job wants more than it has."""
    settings = Settings(_env_file=None, anthropic_api_key=None, provider="offline", database_url=db_url)
    engine = open_engine(db_url, settings)
    initialize(engine, settings)
    planned = conv_store.list_conversations(engine, conv_store.ConversationQuery(statuses=["not_generated"]))
    with write(engine) as conn:
        for n in range(job_size - len(planned)):
            conv_store.insert_conversation(conn, f"LOAD-{n + 1:03d}", planned[n % len(planned)].dimensions,
                                           source="plan", status="not_generated")
    ids = plan_ids(engine, job_size)
    engine.dispose()
    return ids


def cpu_seconds() -> dict[str, float]:
    """CPU time used so far by the Streamlit server and by Chromium's processes."""
    out = subprocess.run(["ps", "-eo", "cputimes,args", "--no-headers"], capture_output=True, text=True).stdout
    found = {"server": 0.0, "Chromium": 0.0}
    for line in out.splitlines():
        seconds, _, args = line.strip().partition(" ")
        if "streamlit run app.py" in args:
            found["server"] += int(seconds)
        elif "chromium" in args.split(" ", 1)[0]:
            found["Chromium"] += int(seconds)
    return found


# --- the sessions --------------------------------------------------------------------------------


class Session:
    """One browser context on the dashboard: its actions, timings and errors."""

    def __init__(self, number: int, page, base: str, result: LoadResult):
        self.number, self.page, self.base, self.result = number, page, base, result
        self._run_requested: float | None = None
        page.on("pageerror", lambda exc: result.errors.append(f"session {number}: page error: {exc}"))
        page.on("console", self._console)

    def _console(self, message) -> None:
        url = message.location.get("url", "")
        if message.type == "error" and not _base_path_probe(url):
            self.result.errors.append(f"session {self.number}: console error: {message.text[:300]} ({url})")

    async def trace_server_runs(self) -> None:
        """Time full page runs from the browser's websocket frames (fragment runs are left out)."""
        cdp = await self.page.context.new_cdp_session(self.page)
        cdp.on("Network.webSocketFrameSent", self._frame_sent)
        cdp.on("Network.webSocketFrameReceived", self._frame_received)
        await cdp.send("Network.enable")

    def _frame_sent(self, event: dict) -> None:
        msg = _decode(BackMsg, event["response"])
        if msg and msg.WhichOneof("type") == "rerun_script" and not msg.rerun_script.fragment_id:
            self._run_requested = self._run_requested or event["timestamp"]

    def _frame_received(self, event: dict) -> None:
        msg = _decode(ForwardMsg, event["response"])
        if (self._run_requested and msg and msg.WhichOneof("type") == "script_finished"
                and msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY):
            self.result.server_runs.append(event["timestamp"] - self._run_requested)
            self._run_requested = None

    async def drawn(self, filtered: bool = False) -> None:
        await self.page.wait_for_function(DASHBOARD_DRAWN, arg=filtered, polling=50, timeout=60_000)

    async def open(self) -> float:
        started = time.perf_counter()
        await self.page.goto(f"{self.base}/dashboard")
        await self.drawn()
        return time.perf_counter() - started

    async def reload(self) -> None:
        started = time.perf_counter()
        await self.page.reload(wait_until="commit")
        await self.drawn()
        self.result.page_loads.append(time.perf_counter() - started)
        grid = self.page.frame_locator('[data-testid="stCustomComponentV1"]').first
        await grid.locator(".ag-row").first.wait_for(state="visible", timeout=60_000)
        self.result.grid_paints.append(time.perf_counter() - started)

    async def filter_and_clear(self) -> None:
        page = self.page
        await page.locator('[data-testid="stMultiSelect"]').filter(has_text="Persona").first.locator("input").click()
        option = page.get_by_role("option", name=PERSONA).first
        await option.wait_for(state="visible")
        started = time.perf_counter()
        await option.click()
        await self.drawn(filtered=True)
        self.result.reruns.append(time.perf_counter() - started)
        await page.keyboard.press("Escape")
        clear = page.get_by_role("button", name="Clear all filters")
        started = time.perf_counter()
        await clear.click()
        await self.drawn(filtered=False)
        self.result.reruns.append(time.perf_counter() - started)

    async def exception_boxes(self) -> int:
        return await self.page.locator('[data-testid="stException"]').count()


def _decode(message_type, response: dict):
    if response.get("opcode") != 2:  # binary frames carry the protobuf messages
        return None
    try:
        return message_type.FromString(base64.b64decode(response["payloadData"]))
    except Exception:  # noqa: BLE001 - a frame that is not one of these messages
        return None


def _base_path_probe(url: str) -> bool:
    """Streamlit's frontend first asks for /<page>/_stcore/health and /host-config to find the
    server's base path, gets a 404, then uses /_stcore/...: expected, not an error of the app."""
    path = urlsplit(url).path
    return path.endswith(("/_stcore/health", "/_stcore/host-config")) and not path.startswith("/_stcore/")


async def take_turns(idle: asyncio.Queue, job_running: asyncio.Event, rng: random.Random) -> None:
    """One person per actor: take the session idle longest, reload it, filter and clear its table,
    with a pause of 0.5-1.5 s after each, give it back; until the job ends."""
    while job_running.is_set():
        session = await idle.get()
        try:
            await session.reload()
            await asyncio.sleep(rng.uniform(0.5, 1.5))
            if job_running.is_set():
                await session.filter_and_clear()
                await asyncio.sleep(rng.uniform(0.5, 1.5))
        finally:
            idle.put_nowait(session)


async def _drive(base: str, store, ids: list[int], fake: FakeMessagesAPI, result: LoadResult) -> None:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        sessions = []
        for n in range(result.sessions):  # one after the other, as people arrive
            context = await browser.new_context(viewport=VIEWPORT, reduced_motion="reduce")
            page = await context.new_page()
            page.set_default_timeout(60_000)
            session = Session(n, page, base, result)
            try:
                result.first_loads.append(await session.open())
            except PlaywrightError as exc:
                result.errors.append(f"session {n} did not open: {str(exc).splitlines()[0]}")
                break
            sessions.append(session)
            if n:
                await session.trace_server_runs()
        result.opened = len(sessions)
        watched = sessions[0].page
        await watched.evaluate(WATCH_SIDEBAR)

        cpu_before = cpu_seconds()
        queued_at = await watched.evaluate("Date.now()")
        job = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=claude_settings(fake))
        result.job_id = job.job_id
        started = time.perf_counter()
        job_running = asyncio.Event()
        job_running.set()
        idle: asyncio.Queue = asyncio.Queue()
        for session in sessions[1:]:
            idle.put_nowait(session)
        rng = random.Random(7)
        actors = [asyncio.create_task(take_turns(idle, job_running, rng))
                  for _ in range(min(result.active, len(sessions) - 1))]
        while not _job_done(store, job.job_id, len(ids)) and not any(a.done() for a in actors):
            await asyncio.sleep(0.2)
        result.job_seconds = time.perf_counter() - started
        done_at = await watched.evaluate("Date.now()")
        cpu_after = cpu_seconds()
        result.cpu_seconds = {name: cpu_after[name] - cpu_before[name] for name in cpu_after}
        job_running.clear()
        for outcome in await asyncio.gather(*actors, return_exceptions=True):
            if isinstance(outcome, BaseException):
                result.errors.append(f"driver: {outcome.__class__.__name__}: {str(outcome)[:300]}")

        changes = []
        for moment in await watched.evaluate("window.__panelChanges"):
            # One update draws in a few steps: changes within 250 ms of each other count once.
            if queued_at <= moment <= done_at and (not changes or moment - changes[-1] > 250):
                changes.append(moment)
        if changes:
            result.shown_after = (changes[0] - queued_at) / 1000
        result.panel_gaps = [(b - a) / 1000 for a, b in zip(changes, changes[1:])]
        for s in sessions:
            if boxes := await s.exception_boxes():
                result.errors.append(f"session {s.number}: {boxes} exception box(es) on the page")
        await browser.close()


def _warm_up(base: str, store, ids: list[int], fake: FakeMessagesAPI) -> None:
    """Start the server's runner (it starts with the first session) and let it finish a job."""
    async def open_once() -> None:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            await Session(-1, await browser.new_page(), base, LoadResult(1, 0, 0, {})).open()
            await browser.close()

    asyncio.run(open_once())
    job = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=claude_settings(fake))
    deadline = time.monotonic() + 60
    while not _job_done(store, job.job_id, len(ids)) and time.monotonic() < deadline:
        time.sleep(0.2)


def _job_done(store, job_id: int, total: int) -> bool:
    counts = item_statuses(store, job_id)
    return counts.get("pending", 0) + counts.get("running", 0) == 0 and sum(counts.values()) == total


def run_load(sessions: int, job_size: int, latency: float, concurrency: int, workdir: Path, *, active: int = 4,
             server_options: dict[str, str] | None = None, warm_up: bool = False,
             db_url: str | None = None) -> LoadResult:
    """Start the server and the sessions, run the job, return what was measured.

    With `warm_up`, one conversation is generated before the sessions open, so the server has
    imported the anthropic SDK (about a second of CPU, holding the GIL) before the measured job."""
    db_url = db_url or f"sqlite:///{workdir / 'load.db'}"
    ids = prepare_store(db_url, job_size + warm_up)
    warm_ids, ids = ids[:warm_up], ids[warm_up:]
    result = LoadResult(sessions=sessions, job_size=len(ids), active=active, server_options=server_options or {})
    with FakeMessagesAPI(latency=latency) as fake:
        process, base = start_claude_app(db_url, fake, workdir / "streamlit.log", server_options,
                                         BRIGHTRUN_CONCURRENCY=str(concurrency))
        store = open_engine(db_url)
        try:
            if warm_ids:
                _warm_up(base, store, warm_ids, fake)
            asyncio.run(_drive(base, store, ids, fake, result))
            counts = item_statuses(store, result.job_id) if result.job_id else {}
            if counts != {"succeeded": len(ids)}:
                result.errors.append(f"job ended with {counts}, not {len(ids)} succeeded")
        finally:
            stop_app(process)
            store.dispose()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--job", type=int, default=100, help="conversations in the job")
    parser.add_argument("--latency", type=float, default=0.3, help="seconds the fake API takes per call")
    parser.add_argument("--concurrency", type=int, default=4, help="the server's runner concurrency")
    parser.add_argument("--active", type=int, default=4, help="sessions reloading and filtering at the same time")
    parser.add_argument("--option", action="append", default=[], metavar="SECTION.NAME=VALUE",
                        help="a Streamlit config option for the server, on top of .streamlit/config.toml")
    parser.add_argument("--warm-up", action="store_true",
                        help="generate one conversation first, so the measured job is not the server's first")
    parser.add_argument("--light-server", action="store_true",
                        help="add " + " ".join(f"{k}={v}" for k, v in LIGHT_SERVER.items()))
    args = parser.parse_args()
    options = {**(LIGHT_SERVER if args.light_server else {}), **dict(o.split("=", 1) for o in args.option)}
    print(f"load average before the run: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        result = run_load(args.sessions, args.job, args.latency, args.concurrency, Path(tmp), active=args.active,
                          server_options=options, warm_up=args.warm_up)
    for line in result.lines():
        print(line)
    missed = result.missed()
    print("targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
