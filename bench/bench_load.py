"""Many people on the dashboard while a job runs: no errors, live progress, quick pages.

Starts `streamlit run app.py` against the local Messages API server (tests/support), puts SESSIONS
people on the dashboard, queues a job of JOB conversations from this process (as the CLI or another
tab would) and, until it ends, lets every person do what a reviewer does: reload the page, pause,
choose a persona in the filter, pause, clear it, pause (1-3 s each). A person is a websocket client
that speaks the browser's protocol (tests/support/streamlit_client.py), with the same
auto-reruns of the progress panel the browser runs; the browser's own drawing is left to the
Playwright tests, so the figures are the server's.

Measured:
- page load: connect and run the page (a browser reload) until the run finished and the table's
  caption says "y conversations";
- rerun: choose or clear the filter until the run finished and the caption says
  "Showing x of y conversations" (or "y conversations") as it should;
- progress delay: for every conversation the job finishes and every person, the time from the
  item being stored (its `finished_at`) to that person's sidebar first showing a count that
  includes it. This is "progress updates within 2 s" as a person sees it;
- job shown: from queuing the job to the last person's sidebar showing it;
- errors: exception boxes on any page, a caption still wrong 30 s after the action, broken
  sockets, tracebacks in the server's log, items not succeeded.

Targets: no error, progress delay p95 <= 2 s (max printed), page load p95 < 1 s, rerun p95 < 1 s.
Prints the figures with the CPU time the server used, and exits 1 when a target is missed.

    python bench/bench_load.py [--sessions 20] [--job 100] [--latency 2] [--concurrency 4]
                               [--database sqlite|postgresql] [--option SECTION.NAME=VALUE]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402

from brightrun_gen.config import Settings  # noqa: E402
from brightrun_gen.services import runner as runner_service  # noqa: E402
from brightrun_gen.services.setup import initialize, open_engine  # noqa: E402
from brightrun_gen.store import conversations as conv_store, tables as t  # noqa: E402
from brightrun_gen.store.db import read, write  # noqa: E402
from tests.support.fake_claude import claude_settings  # noqa: E402
from tests.support.fake_messages_api import FakeMessagesAPI  # noqa: E402
from tests.support.postgres import TemporaryPostgres  # noqa: E402
from tests.support.store_state import item_statuses, plan_ids  # noqa: E402
from tests.support.streamlit_client import SIDEBAR, StreamlitClient  # noqa: E402
from tests.support.streamlit_server import start_claude_app, stop_app  # noqa: E402
from tests.support.waiting import wait_until  # noqa: E402

PAGE_TARGET = 1.0  # seconds, p95 of page loads and of reruns
PROGRESS_TARGET = 2.0  # seconds, p95 of the progress delay
PERSONA = "Marcus Thompson"
THINK = (1.0, 3.0)  # seconds a person pauses between two actions
TIMEOUT = 30.0  # seconds a page may take to show what it should before it counts as an error
JOB_TIMEOUT = 3600.0  # seconds a job may run before the bench gives up on it
SHOWN = re.compile(r"^Showing \d+ of \d+ conversations$")
ALL_SHOWN = re.compile(r"^\d+ conversations$")
COUNT = re.compile(r"\b(\d+) of (\d+)\b")


@dataclass
class LoadResult:
    sessions: int
    job_size: int
    backend: str
    job_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    page_loads: list[float] = field(default_factory=list)
    reruns: list[float] = field(default_factory=list)
    progress_delays: list[float] = field(default_factory=list)
    shown_after: list[float] = field(default_factory=list)
    lost_finishes: int = 0
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        cpu = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.cpu_seconds.items())
        return [
            f"{self.sessions} sessions on the dashboard, each reloading and filtering with {THINK[0]:g}-{THINK[1]:g} s "
            f"pauses, while a job of {self.job_size} conversations ran for {self.job_seconds:.1f} s ({self.backend})",
            f"errors: {len(self.errors)}" + "".join(f"\n  {e}" for e in self.errors[:10]),
            f"page load, connect -> page drawn: {_stats(self.page_loads)} (target p95 < {PAGE_TARGET:g} s)",
            f"rerun, filter chosen or cleared -> table and caption drawn: {_stats(self.reruns)} "
            f"(target p95 < {PAGE_TARGET:g} s)",
            f"progress delay, conversation stored -> every sidebar shows it: {_stats(self.progress_delays)} "
            f"(target p95 <= {PROGRESS_TARGET:g} s)",
            f"job shown in every sidebar after it was queued: {_stats(self.shown_after)}",
            f"full runs that ended without Streamlit's script_finished message (a Streamlit race, see "
            f"tests/support/streamlit_client.py; the page was drawn all the same): {self.lost_finishes}",
            f"CPU during the job ({self.job_seconds * (os.cpu_count() or 1):.0f} s on {os.cpu_count()} CPUs): {cpu}",
        ]

    def missed(self) -> list[str]:
        missed = [f"{len(self.errors)} error(s)"] if self.errors else []
        for name, values, target in (("page load", self.page_loads, PAGE_TARGET), ("rerun", self.reruns, PAGE_TARGET)):
            if not values:
                missed.append(f"no {name} measured")
            elif percentile(values, 95) >= target:
                missed.append(f"{name} p95 {percentile(values, 95):.2f} s >= {target:g} s")
        if not self.progress_delays:
            missed.append("no progress delay measured")
        elif percentile(self.progress_delays, 95) > PROGRESS_TARGET:
            missed.append(f"progress delay p95 {percentile(self.progress_delays, 95):.2f} s > {PROGRESS_TARGET:g} s")
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


# --- one person ----------------------------------------------------------------------------------


class Person:
    """One reviewer on the dashboard: what they did, how long it took, what their sidebar showed."""

    def __init__(self, number: int, base: str, result: LoadResult, rng: random.Random):
        self.number, self.base, self.result, self.rng = number, base, result, rng
        self.job_id: int | None = None
        self.sightings: list[tuple[float, int]] = []  # (wall-clock time, conversations done) as shown
        self.first_seen: float | None = None

    def watch(self, path: tuple[int, ...], drawn, at: float) -> None:
        """Note what the sidebar says of the job: its progress bar, or the last-job line once done."""
        if self.job_id is None or path[0] != SIDEBAR:
            return
        if drawn.kind == "progress" or drawn.text.startswith(f"Last job {self.job_id} "):
            found = COUNT.search(drawn.text)
            if found:
                now = time.time()
                self.first_seen = self.first_seen or now
                self.sightings.append((now, int(found.group(1))))

    def saw_done(self, total: int) -> bool:
        """Whether this person's sidebar has shown all `total` conversations of the job done."""
        return any(done >= total for _, done in self.sightings)

    async def open(self) -> StreamlitClient:
        tab = StreamlitClient(self.base, "dashboard", on_delta=self.watch)
        started = time.monotonic()
        await tab.__aenter__()
        await self._timed(self.result.page_loads, tab, ALL_SHOWN, "loading the page", started,
                          lambda until: tab.run(until))
        return tab

    async def filter_and_clear(self, tab: StreamlitClient, keep_going: asyncio.Event) -> None:
        await self._timed(self.result.reruns, tab, SHOWN, f"choosing {PERSONA}", time.monotonic(),
                          lambda until: tab.set_multiselect("Persona", [PERSONA], until))
        await self.pause()
        if keep_going.is_set():
            await self._timed(self.result.reruns, tab, ALL_SHOWN, "clearing the filter", time.monotonic(),
                              lambda until: tab.set_multiselect("Persona", [], until))

    async def _timed(self, into: list[float], tab: StreamlitClient, caption: re.Pattern, what: str,
                     started: float, action) -> None:
        """Run `action(until)` until the page has finished and shows `caption`; note the seconds
        from `started` in `into`, or an error when the caption is still missing after TIMEOUT."""
        def drawn(tab: StreamlitClient) -> bool:
            return any(caption.match(text) for text in tab.texts())

        try:
            await asyncio.wait_for(action(drawn), TIMEOUT)
            into.append(time.monotonic() - started)
        except asyncio.TimeoutError:
            self.result.errors.append(f"session {self.number}: no caption like {caption.pattern!r} "
                                      f"{TIMEOUT:g} s after {what}")
        for text in tab.exceptions:
            self.result.errors.append(f"session {self.number}: exception on the page: {text[:300]}")
        tab.exceptions.clear()

    async def pause(self) -> None:
        await asyncio.sleep(self.rng.uniform(*THINK))

    async def review_while(self, keep_going: asyncio.Event, tab: StreamlitClient) -> None:
        """Reload, filter, clear, with pauses, until the job ends; then leave."""
        try:
            while keep_going.is_set():
                await self.pause()
                await self.leave(tab)
                tab = await self.open()
                await self.pause()
                if keep_going.is_set():
                    await self.filter_and_clear(tab, keep_going)
        except Exception as exc:  # noqa: BLE001 - a broken session is an error to report, not a crash
            self.result.errors.append(f"session {self.number}: {exc.__class__.__name__}: {str(exc)[:300]}")
        finally:
            await self.leave(tab)

    async def leave(self, tab: StreamlitClient) -> None:
        await tab.close()
        self.result.lost_finishes += tab.lost_finishes
        tab.lost_finishes = 0

    def delays(self, finished: list[float]) -> list[float]:
        """For the k-th stored conversation (at finished[k-1]), how long until this person saw a count >= k."""
        delays, sightings = [], sorted(self.sightings)
        for k, stored_at in enumerate(finished, start=1):
            seen = next((at for at, done in sightings if done >= k and at >= stored_at), None)
            if seen is None:
                self.result.errors.append(f"session {self.number}: never showed {k} of {len(finished)} done")
                return delays
            delays.append(seen - stored_at)
        return delays


# --- the run -------------------------------------------------------------------------------------


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


def finished_times(store, job_id: int) -> list[float]:
    """When each item of the job was stored, as wall-clock seconds, oldest first."""
    q = t.generation_queue.c
    with read(store) as conn:
        stamps = conn.scalars(select(q.finished_at).where(q.job_id == job_id, q.status == "succeeded"))
        return sorted((s if s.tzinfo else s.replace(tzinfo=timezone.utc)).timestamp() for s in stamps)


def server_cpu_seconds(pid: int) -> float:
    out = subprocess.run(["ps", "-o", "cputimes=", "-p", str(pid)], capture_output=True, text=True).stdout
    return float(out.strip() or 0)


async def _drive(base: str, store, ids: list[int], fake: FakeMessagesAPI, server_pid: int,
                 result: LoadResult) -> None:
    rng = random.Random(7)
    people = [Person(n, base, result, random.Random(rng.random())) for n in range(result.sessions)]
    tabs = []
    for person in people:  # one after the other, as people arrive
        tabs.append(await person.open())
    result.page_loads.clear()  # the arrivals came before the job; the figures are for during it

    cpu_before, bench_before = server_cpu_seconds(server_pid), time.process_time()
    job = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=claude_settings(fake))
    queued_at, started = time.time(), time.monotonic()
    for person in people:
        person.job_id = job.job_id
    keep_going = asyncio.Event()
    keep_going.set()
    actors = [asyncio.create_task(p.review_while(keep_going, tab)) for p, tab in zip(people, tabs)]
    # The sessions run on this event loop: wait on a thread, polling the store and what each sidebar showed.
    await asyncio.to_thread(wait_until, lambda: _job_done(store, job.job_id, len(ids)), JOB_TIMEOUT,
                            f"the job of {len(ids)} to end", 0.5)
    result.job_seconds = time.monotonic() - started
    result.cpu_seconds = {"server": server_cpu_seconds(server_pid) - cpu_before,
                          f"the {result.sessions} clients (this process)": time.process_time() - bench_before}
    try:
        await asyncio.to_thread(wait_until, lambda: all(p.saw_done(len(ids)) for p in people), TIMEOUT,
                                "every sidebar to show the job's end", 0.1)
    except AssertionError:
        pass  # Person.delays() names each session that never showed it
    keep_going.clear()
    await asyncio.gather(*actors)

    counts = item_statuses(store, job.job_id)
    if counts != {"succeeded": len(ids)}:
        result.errors.append(f"job ended with {counts}, not {len(ids)} succeeded")
    finished = finished_times(store, job.job_id)
    for person in people:
        result.progress_delays.extend(person.delays(finished))
        if person.first_seen is None:
            result.errors.append(f"session {person.number} never showed the job")
        else:
            result.shown_after.append(person.first_seen - queued_at)


def _job_done(store, job_id: int, total: int) -> bool:
    counts = item_statuses(store, job_id)
    return counts.get("pending", 0) + counts.get("running", 0) == 0 and sum(counts.values()) == total


def run_load(sessions: int, job_size: int, latency: float, concurrency: int, workdir: Path, *,
             db_url: str | None = None, server_options: dict[str, str] | None = None) -> LoadResult:
    """Start the server and the sessions, run the job, return what was measured."""
    db_url = db_url or f"sqlite:///{workdir / 'load.db'}"
    ids = prepare_store(db_url, job_size)
    result = LoadResult(sessions=sessions, job_size=len(ids), backend=db_url.split(":", 1)[0])
    log = workdir / "streamlit.log"
    with FakeMessagesAPI(latency=latency) as fake:
        process, base = start_claude_app(db_url, fake, log, server_options, BRIGHTRUN_CONCURRENCY=str(concurrency))
        store = open_engine(db_url)
        try:
            asyncio.run(_drive(base, store, ids, fake, process.pid, result))
        finally:
            stop_app(process)
            store.dispose()
    for line in log.read_text(errors="replace").splitlines():
        if "Traceback" in line or " ERROR " in line:
            result.errors.append(f"server log: {line[:300]}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--job", type=int, default=100, help="conversations in the job")
    parser.add_argument("--latency", type=float, default=2.0, help="seconds the fake API takes per call")
    parser.add_argument("--concurrency", type=int, default=4, help="the server's runner concurrency")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--option", action="append", default=[], metavar="SECTION.NAME=VALUE",
                        help="a Streamlit config option for the server, on top of .streamlit/config.toml")
    args = parser.parse_args()
    options = dict(o.split("=", 1) for o in args.option)
    print(f"load average before the run: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp, ExitStack() as stack:
        db_url = None
        if args.database == "postgresql":
            server = TemporaryPostgres().start()
            stack.callback(server.stop)
            db_url = server.url(server.create_database())
        result = run_load(args.sessions, args.job, args.latency, args.concurrency, Path(tmp), db_url=db_url,
                          server_options=options)
    for line in result.lines():
        print(line)
    missed = result.missed()
    print("targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
