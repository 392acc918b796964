"""The queue runner: enqueue jobs, claim items with a lease, run them with bounded concurrency.

One runner per process (a Streamlit server's background thread, or `brightrun worker`).
Workers share nothing but the database: an item is claimed under a lease that a heartbeat
renews, and closed in the same transaction that stores its conversation, so after any crash
an expired lease makes the item claimable again and nothing is stored twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Sequence

from sqlalchemy import Connection, Engine

from brightrun_gen.config import Settings, get_settings
from brightrun_gen.errors import BrightRunError, InputError, LeaseLost, RateLimited
from brightrun_gen.llm.base import Provider
from brightrun_gen.llm.factory import make_provider, preload_provider
from brightrun_gen.services import batches, budget, generation, pacing, repair
from brightrun_gen.store import conversations as conv_store, queue
from brightrun_gen.store.db import read, write

logger = logging.getLogger(__name__)

# An item that keeps coming back (crashes, rate limits) is given up after this many claims.
MAX_CLAIMS = 8


@dataclass(frozen=True)
class RunnerError:
    """The last thing that went wrong in a runner's own loop, for the sidebar and the log."""

    at: datetime
    message: str


@dataclass(frozen=True)
class EnqueueResult:
    job_id: int
    enqueued: int
    skipped: int


def enqueue(engine: Engine, *, kind: str, conversation_ids: Sequence[int] = (), where: dict | None = None,
            settings: Settings | None = None, provider: str | None = None, model: str | None = None,
            concurrency: int | None = None, use_batch: bool = False, max_cost_usd: float | None = None) -> EnqueueResult:
    """Create a job for one row, a selection, a filter or all rows (approved and seeds excluded
    from filters; explicit ids are taken as asked). Rows already queued are not added twice."""
    settings = settings or get_settings()
    if kind not in ("single", "selected", "filter", "all"):
        raise InputError(f"job kind {kind!r} is unknown")
    ids = list(conversation_ids) if kind in ("single", "selected") else ids_for_filter(engine, where or {})
    if not ids:
        raise InputError("nothing to generate: the selection is empty")
    provider_name = provider or settings.effective_provider
    provider_obj = make_provider(settings, provider_name, model)  # fails early without a key
    cap = budget.cap_values(engine, settings, provider_obj, max_cost_usd, use_batch=use_batch)
    with write(engine) as conn:
        job_id = queue.create_job(conn, kind=kind, selection={"ids": ids} if kind in ("single", "selected") else {"where": where or {}},
                                  provider=provider_name, model=provider_obj.model,
                                  concurrency=concurrency or settings.concurrency, use_batch=use_batch,
                                  account=getattr(provider_obj, "account", None), **cap)
        added = queue.enqueue_items(conn, job_id, ids)
        queue.finalize_jobs(conn)
    return EnqueueResult(job_id, added, len(ids) - added)


def ids_for_filter(engine: Engine, where: dict) -> list[int]:
    statuses = ["not_generated", "failed"] if not where.get("status") else list(where["status"])
    dims = {k: v for k, v in where.items() if k != "status"}
    rows = conv_store.list_conversations(engine, conv_store.ConversationQuery(where=dims, statuses=statuses))
    return [r.id for r in rows]


def stop(engine: Engine, job_id: int) -> int:
    """Stop a job: nothing new is claimed, pending items are cancelled; returns how many."""
    with write(engine) as conn:
        return queue.stop_job(conn, job_id)


def retry_failed(engine: Engine, job_id: int) -> int:
    with write(engine) as conn:
        return queue.reopen_failed(conn, job_id)


def new_owner() -> str:
    """host:pid:random — lets a resume on the same host tell that an owner process is gone."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def release_dead_owners(engine: Engine) -> int:
    """Expire the leases of workers on this host whose process no longer exists."""
    host = socket.gethostname()
    with write(engine) as conn:
        dead = [o for o in queue.running_owners(conn) if _is_dead_local_owner(o, host)]
        return queue.expire_leases_of(conn, dead)


def _is_dead_local_owner(owner: str, host: str) -> bool:
    parts = owner.split(":")
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


class Backoff:
    """One back-off shared by every thread of a runner: a 429/529 pauses all calls, then recovers."""

    def __init__(self, base: float = 0.5, cap: float = 30.0):
        self.base, self.cap = base, cap
        self._until = 0.0
        self._streak = 0
        self._lock = threading.Lock()
        self.pauses = 0

    def rate_limited(self, retry_after: float | None) -> None:
        """Pause every thread: at least retry-after, longer while the limits keep coming."""
        with self._lock:
            self._streak += 1
            self.pauses += 1
            growing = min(self.cap, self.base * 2 ** (self._streak - 1))
            pause = max(retry_after or 0.0, growing)
            self._until = max(self._until, time.monotonic() + pause)
        logger.warning("rate limited (%s in a row): every call of this runner pauses %.1f s", self._streak, pause)

    def succeeded(self) -> None:
        with self._lock:
            self._streak = 0

    def wait(self, stop: threading.Event) -> float:
        """Wait out the pause, if any; the seconds waited."""
        started = time.monotonic()
        while not stop.is_set():
            remaining = self._until - time.monotonic()
            if remaining <= 0:
                break
            stop.wait(remaining)
        return time.monotonic() - started


class Runner:
    """Claims and runs items until told to stop; run_until_idle() for the foreground."""

    def __init__(self, engine: Engine, settings: Settings | None = None, *, concurrency: int | None = None,
                 provider_factory: Callable[[str, str], Provider] | None = None, owner: str | None = None):
        self.engine = engine
        self.settings = settings or get_settings()
        self.concurrency = concurrency or self.settings.concurrency
        self.owner = owner or new_owner()
        self.backoff = Backoff()
        self._provider_factory = provider_factory or (lambda name, model: make_provider(self.settings, name, model))
        self._providers: dict[tuple[str, str], Provider] = {}
        self._providers_lock = threading.Lock()
        self._in_flight: dict[int, Future] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._activity = threading.Event()  # an item ended or a call returned: room may have come back
        self.pacing = pacing.Pacing(engine, self.settings, self.concurrency, notify=self._activity.set)
        self._thread: threading.Thread | None = None
        self.last_error: RunnerError | None = None

    def _handled(self, what: str, exc: BaseException) -> None:
        """Log an exception the runner survives, and keep it for the sidebar; a repeat logs at DEBUG."""
        message = f"{what}: {exc.__class__.__name__}: {exc}"
        repeat = self.last_error is not None and self.last_error.message == message
        logger.log(logging.DEBUG if repeat else logging.ERROR, "%s", message, exc_info=not repeat)
        self.last_error = RunnerError(datetime.now(timezone.utc), message)

    # --- lifecycle ---------------------------------------------------------------------

    def start_background(self, poll_seconds: float = 1.0) -> "Runner":
        """Run forever in a daemon thread (once per Streamlit server process)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, args=(poll_seconds,), name="brightrun-runner", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        """Look for work now instead of at the next poll (a page just enqueued a job)."""
        self._wake.set()

    def shutdown(self) -> None:
        self._stop.set()
        self._wake.set()
        self._activity.set()
        if self._thread:
            self._thread.join(timeout=30)

    def _serve(self, poll_seconds: float) -> None:
        logger.info("runner %s started (concurrency %s)", self.owner, self.concurrency)
        try:
            preload_provider(self.settings)
        except Exception as exc:  # noqa: BLE001 - a missing SDK is reported again by the job that needs it
            self._handled("loading the provider", exc)
        try:
            released = release_dead_owners(self.engine)
            if released:
                logger.info("took back %s item(s) from workers on this host that are gone", released)
        except Exception as exc:  # noqa: BLE001 - expired leases are taken back by the claims anyway
            self._handled("releasing dead workers' items", exc)
        while not self._stop.is_set():
            try:
                worked = self.run_until_idle()
            except Exception as exc:  # noqa: BLE001 - the background runner must survive a bad moment (DB restart)
                self._handled("the runner's loop", exc)
                worked = False
            if not worked:
                self._wake.wait(poll_seconds)
                self._wake.clear()

    # --- the loop ------------------------------------------------------------------------

    def run_until_idle(self, job_id: int | None = None, on_progress: Callable[[], None] | None = None) -> bool:
        """Run claimable items (of one job, or of all) until none is left; True if any ran."""
        worked = batches.advance_batch_jobs(self, job_id)
        heartbeat_stop = threading.Event()
        heartbeat = threading.Thread(target=self._heartbeat, args=(heartbeat_stop,), name="brightrun-heartbeat", daemon=True)
        heartbeat.start()
        try:
            with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="brightrun-gen") as pool:
                worked |= self._drain(pool, job_id, on_progress)
        finally:
            heartbeat_stop.set()
            heartbeat.join()
        return worked

    def _drain(self, pool: ThreadPoolExecutor, job_id: int | None, on_progress) -> bool:
        worked = False
        while not self._stop.is_set():
            self._activity.clear()
            self._reap(on_progress)
            free = self.pacing.slots() - len(self._in_flight)
            claimed, wait = self._claim(free, job_id) if free > 0 else ([], 0.0)
            for item, ticket in claimed:
                worked = True
                with self._lock:
                    future = self._in_flight[item.id] = pool.submit(self._run_item, item, ticket)
                future.add_done_callback(lambda _: self._activity.set())
            if not claimed and not self._in_flight and not wait:
                return worked
            # Until an item ends, a call returns, or (held back by the rate limits) room comes back.
            self._activity.wait(min(wait, 1.0) if wait else 1.0)
        return worked

    def _claim(self, limit: int, job_id: int | None) -> tuple[list[tuple[queue.ClaimedItem, pacing.Ticket]], float]:
        """Items to run now, each with its call's admission; or none, and how long the rate limits hold them."""
        paused = self.backoff.wait(self._stop)
        with read(self.engine) as conn:
            next_job = queue.next_claimable_job(conn, job_id)
            job = queue.get_job(conn, next_job) if next_job else None
        if job is None:
            return [], 0.0
        tickets, wait = self._admit(job, limit)
        self.pacing.note_hold(job.id, held=not tickets, paused=paused)
        if not tickets:
            return [], wait
        with write(self.engine) as conn:
            limit = budget.admit(conn, len(tickets), job.id)  # a job at its budget cap stops claiming here
            items = queue.claim_items(conn, self.owner, self.settings.lease_seconds, limit, job_id=job.id) if limit else []
            over = [i for i in items if i.attempts > MAX_CLAIMS]
            for item in over:
                logger.warning("queue item %s (conversation %s) given up after %s attempts", item.id,
                            item.conversation_id, item.attempts - 1)
                self._close(conn, item.id, "failed", f"given up after {item.attempts - 1} attempts")
                conv_store.mark_failed(conn, item.conversation_id, f"given up after {item.attempts - 1} attempts")
        if over:
            queue.close_finished_jobs(self.engine)
        taken = [i for i in items if i.attempts <= MAX_CLAIMS]
        for unused in tickets[len(taken):]:
            self.pacing.release(unused)
        if taken:
            logger.info("claimed %s item(s): %s", len(taken), ", ".join(f"{i.id} (claim {i.attempts})" for i in taken))
        return list(zip(taken, tickets)), 0.0

    def _admit(self, job: queue.Job, limit: int) -> tuple[list[pacing.Ticket], float]:
        try:
            provider = self._provider(job)
        except BrightRunError:  # e.g. no key: the item's own attempt fails it with the reason
            return [pacing.Ticket(None)] * limit, 0.0
        return self.pacing.admit(provider, limit)

    def _reap(self, on_progress) -> None:
        with self._lock:
            done = [item_id for item_id, f in self._in_flight.items() if f.done()]
            for item_id in done:
                self._in_flight.pop(item_id)
        if done and on_progress:
            on_progress()

    def _heartbeat(self, stop: threading.Event) -> None:
        # Renew at a third of the lease so one slow database round trip never loses an item.
        while not stop.wait(self.settings.lease_seconds / 3):
            with self._lock:
                ids = list(self._in_flight)
            try:
                with write(self.engine) as conn:
                    queue.renew_leases(conn, self.owner, ids, self.settings.lease_seconds)
            except Exception as exc:  # noqa: BLE001 - a missed beat is retried at the next one
                self._handled("renewing leases", exc)

    # --- one item ----------------------------------------------------------------------

    def _provider(self, job: queue.Job) -> Provider:
        key = (job.provider, job.model)
        with self._providers_lock:
            if key not in self._providers:
                self._providers[key] = self._provider_factory(job.provider, job.model)
            return self._providers[key]

    def _run_item(self, item: queue.ClaimedItem, ticket: pacing.Ticket) -> None:
        try:
            self._generate(item, ticket)
        except Exception as exc:  # noqa: BLE001 - e.g. the release failed too: the lease runs out, a claim retakes it
            self._handled(f"queue item {item.id}", exc)
        try:
            queue.close_finished_jobs(self.engine)
        except Exception as exc:  # noqa: BLE001 - the next item or poll closes the job
            self._handled("closing finished jobs", exc)

    def _generate(self, item: queue.ClaimedItem, ticket: pacing.Ticket) -> None:
        with read(self.engine) as conn:
            job = queue.get_job(conn, item.job_id)
        if job.status != "running":
            logger.info("queue item %s cancelled: job %s is %s", item.id, job.id, job.status)
            self.pacing.release(ticket)
            with write(self.engine) as conn:
                queue.cancel_item(conn, item.id, self.owner)
            return
        self.backoff.wait(self._stop)
        provider = None
        try:
            provider = self.pacing.paced(self._provider(job), ticket, job.id, self._stop)
            generation.generate_one(self.engine, item.conversation_id, settings=self.settings,
                                    provider=provider, queue_item_id=item.id,
                                    finish=self._finisher(item.id),
                                    revision=repair.revision_for(self.engine, job, item.conversation_id))
            self.backoff.succeeded()
        except RateLimited as exc:
            self.backoff.rate_limited(exc.retry_after)
            logger.info("queue item %s back in the queue: %s", item.id, exc)
            self._release(item, str(exc), counts_as_attempt=False)
        except LeaseLost:
            # Another worker owns the item now and will store its result.
            logger.warning("queue item %s: lease lost to another worker; its result is theirs", item.id)
        except BrightRunError as exc:
            if getattr(exc, "retryable", False):
                logger.warning("queue item %s will be retried: %s", item.id, exc)
                self._release(item, str(exc), counts_as_attempt=True)
            else:
                logger.warning("queue item %s failed: %s", item.id, exc)
                self._fail(item, str(exc))
        except Exception as exc:  # noqa: BLE001 - e.g. the database briefly full or gone
            # Retried like a server error (bounded by MAX_CLAIMS); if even the release fails,
            # the lease runs out and another claim picks the item up.
            self._handled(f"queue item {item.id}", exc)
            self._release(item, f"unexpected error: {exc.__class__.__name__}: {exc}", counts_as_attempt=True)
        finally:
            self.pacing.close(provider, ticket)

    def _finisher(self, item_id: int):
        def finish(conn: Connection, status: str, error: str | None) -> None:
            self._close(conn, item_id, status, error)

        return finish

    def _close(self, conn: Connection, item_id: int, status: str, error: str | None) -> None:
        if not queue.finish_item(conn, item_id, self.owner, status, error):
            raise LeaseLost(f"queue item {item_id} was taken over by another worker")

    def _release(self, item: queue.ClaimedItem, error: str, *, counts_as_attempt: bool) -> None:
        with write(self.engine) as conn:
            queue.release_item(conn, item.id, self.owner, error, counts_as_attempt=counts_as_attempt)

    def _fail(self, item: queue.ClaimedItem, error: str) -> None:
        try:
            with write(self.engine) as conn:
                conv_store.mark_failed(conn, item.conversation_id, error)
                self._close(conn, item.id, "failed", error)
        except LeaseLost:
            logger.warning("queue item %s: lease lost before it could be marked failed", item.id)


def start_background_runner(engine: Engine, settings: Settings | None = None) -> Runner:
    """The runner of a server process: a daemon thread that picks up jobs from any tab or CLI."""
    return Runner(engine, settings).start_background()
