"""Pacing a runner's calls to the rate limits the Messages API reports, instead of bouncing off them.

A call starts only when the tokens it is expected to use fit in the buckets the API reports
(domain.ratelimits). The buckets live in the database, one row per API key fingerprint and model,
changed under a row lock: every thread of a runner and every worker on the database share one view.
The runner asks before it claims items (`Pacing.admit`), so items wait in the queue rather than in a
thread; a later call of the same item (a regeneration, a repair) asks again on its own.

Concurrency adapts as well (AIMD): the window of items in flight grows by one per window of answers
and halves when the API refuses a call (429) or is overloaded (529) all the same.

The judge runs on its own model, whose limits the API counts apart; its calls are not paced here.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import Engine

from brightrun_gen.config import Settings
from brightrun_gen.domain.pricing import Usage
from brightrun_gen.domain.ratelimits import LimitState
from brightrun_gen.errors import ProviderError
from brightrun_gen.llm.base import Answer, Provider
from brightrun_gen.store import ratelimits as store
from brightrun_gen.store.db import read, write

logger = logging.getLogger(__name__)

# Answers without rate-limit headers mean nothing limits the calls: the database is asked again this often.
UNLIMITED_RECHECK_SECONDS = 30.0


class Window:
    """How many items a runner keeps in flight: one more per window of answers, half on a refusal."""

    def __init__(self, ceiling: int):
        self.ceiling = max(1, ceiling)
        self.size = self.ceiling
        self.epoch = 0  # bumped by each decrease: refusals of calls sent before it do not halve it again
        self._answers = 0  # answers since the window last grew
        self._lock = threading.Lock()

    def slots(self) -> int:
        return self.size

    def answered(self) -> None:
        with self._lock:
            self._answers += 1
            if self._answers >= self.size and self.size < self.ceiling:
                self.size, self._answers = self.size + 1, 0

    def refused(self, epoch: int) -> None:
        with self._lock:
            if epoch != self.epoch:
                return
            self.size, self.epoch, self._answers = max(1, self.size // 2), self.epoch + 1, 0
            size = self.size
        logger.info("the API refused a call: at most %s item(s) in flight from now on, growing back", size)


@dataclass(frozen=True)
class Ticket:
    """One call's admission: what it took from the shared buckets, and under which window."""

    pacer: "Pacer | None"
    reserved: dict = field(default_factory=dict)
    epoch: int = 0


class Pacer:
    """The shared buckets of one account and model, read and changed in the database."""

    def __init__(self, engine: Engine, account: str, model: str, max_tokens: int, probe_seconds: float):
        self.engine, self.account, self.model = engine, account, model
        self.max_tokens, self.probe_seconds = max_tokens, probe_seconds
        self._unlimited_until = 0.0

    def admit(self, count: int) -> tuple[int, dict, float]:
        """How many of `count` calls may start, what each took, and the seconds until one fits."""
        if time.monotonic() < self._unlimited_until:
            return count, {}, 0.0
        with write(self.engine) as conn:
            state = LimitState.from_json(store.locked_state(conn, self.account, self.model))
            granted, reserved, wait = state.admit(count, state.demand(self.max_tokens), time.time(), self.probe_seconds)
            if granted and state.reported is not False:
                store.save_state(conn, self.account, self.model, state.to_json())
        if state.reported is False:
            self._unlimited_until = time.monotonic() + UNLIMITED_RECHECK_SECONDS
        return granted, reserved, wait

    def settle(self, reserved: dict, used: dict | None, readings: dict, *, answered: bool) -> None:
        """A call ended (or its admission went unused): settle its reservation, learn from its headers."""
        if not readings and time.monotonic() < self._unlimited_until:
            return
        now = time.time()
        with write(self.engine) as conn:
            state = LimitState.from_json(store.locked_state(conn, self.account, self.model))
            state.settle(reserved, used, now)
            state.observe(readings, now, answered=answered)
            store.save_state(conn, self.account, self.model, state.to_json())
        if readings:
            self._unlimited_until = 0.0


def used_by(usage: Usage) -> dict[str, float]:
    """What a call counts against each limit; cache reads do not count as input."""
    return {"requests": 1.0, "input_tokens": float(usage.input_tokens + usage.cache_creation_tokens),
            "output_tokens": float(usage.output_tokens)}


class Pacing:
    """One runner's pacing: its window, the buckets of each account and model, and what the calls of
    each job were refused and waited (stored on the job, for the CLI summary and the progress panel)."""

    def __init__(self, engine: Engine, settings: Settings, ceiling: int, notify: Callable[[], None] = lambda: None):
        self.engine, self.enabled = engine, settings.pace_rate_limits
        self.window = Window(ceiling)
        self.probe_seconds = settings.request_timeout
        self._notify = notify  # wakes the runner's loop: a call ended, room may have come back
        self._pacers: dict[tuple[str, str], Pacer] = {}
        self._lock = threading.Lock()
        self._held: tuple[int, float] | None = None  # (job, since when) the limits hold its claims back

    def slots(self) -> int:
        return self.window.slots() if self.enabled else self.window.ceiling

    def _pacer(self, provider: Provider) -> Pacer | None:
        account = getattr(provider, "account", None)
        if not self.enabled or account is None:
            return None
        with self._lock:
            key = (account, provider.model)
            if key not in self._pacers:
                self._pacers[key] = Pacer(self.engine, account, provider.model, getattr(provider, "max_tokens", 0),
                                          self.probe_seconds)
            return self._pacers[key]

    def admit(self, provider: Provider, count: int) -> tuple[list[Ticket], float]:
        """Tickets for at most `count` calls that fit now, and (when none does) the seconds until one will."""
        pacer = self._pacer(provider)
        if pacer is None:
            return [Ticket(None)] * count, 0.0
        granted, reserved, wait = pacer.admit(count)
        return [Ticket(pacer, reserved, self.window.epoch)] * granted, wait

    def release(self, ticket: Ticket) -> None:
        """An admission that no call used: its tokens go back."""
        if ticket.pacer is not None:
            ticket.pacer.settle(ticket.reserved, None, {}, answered=False)

    def paced(self, provider: Provider, ticket: Ticket, job_id: int, stop: threading.Event) -> "PacedProvider":
        """The provider as one item's calls see it: each call admitted, each answer reported back."""
        return PacedProvider(provider, self, ticket, job_id, stop)

    def close(self, provider: "PacedProvider | None", ticket: Ticket) -> None:
        """An item is done: an admission none of its calls used goes back."""
        if provider is None:
            self.release(ticket)
        else:
            provider.close()

    def wait_for_ticket(self, provider: Provider, stop: threading.Event) -> Ticket:
        """Admission for a later call of an item (a regeneration, a repair): wait until it fits."""
        while True:
            tickets, wait = self.admit(provider, 1)
            if tickets:
                return tickets[0]
            if stop.wait(wait):
                raise ProviderError("the runner stopped while a call waited for the rate limit", retryable=True)

    def note_hold(self, job_id: int, *, held: bool, paused: float = 0.0) -> None:
        """The runner's loop asked to claim for a job and was `held` back, or not: the time the limits held
        the job's claims (and a shared pause after a 429) counts as the job's waiting time. One loop asks,
        so the times add up to wall time, unlike the overlapping waits of the item threads."""
        waited, now = paused, time.monotonic()
        if self._held and (not held or self._held[0] != job_id):
            if self._held[0] == job_id:
                waited += now - self._held[1]
            self._held = None
        if held and self._held is None:
            self._held = (job_id, now)
        if waited > 0.001:
            self.record(job_id, wait_seconds=waited)

    def ended(self, ticket: Ticket, job_id: int, *, used: dict | None, readings: dict, refused: int) -> None:
        """A call ended, answered (`used` is what it used) or not."""
        if ticket.pacer is not None:
            ticket.pacer.settle(ticket.reserved, used, readings, answered=used is not None)
            if refused:
                self.window.refused(ticket.epoch)
            elif used is not None:
                self.window.answered()
        if refused:
            self.record(job_id, refused=refused)
        self._notify()

    def record(self, job_id: int, *, refused: int = 0, wait_seconds: float = 0.0) -> None:
        try:
            with write(self.engine) as conn:
                store.add_to_job(conn, job_id, refused=refused, wait_seconds=wait_seconds)
        except Exception as exc:  # noqa: BLE001 - a lost figure must not fail a conversation
            logger.warning("job %s: could not count %s refused call(s) / %.1f s waited: %s", job_id, refused,
                           wait_seconds, exc)


class PacedProvider:
    """A provider whose every call is admitted by the runner's pacing and reported back to it."""

    def __init__(self, provider: Provider, pacing: Pacing, ticket: Ticket, job_id: int, stop: threading.Event):
        self._provider, self._pacing, self._job_id, self._stop = provider, pacing, job_id, stop
        self._ticket: Ticket | None = ticket  # the admission the item was claimed with serves its first call

    def __getattr__(self, name: str):  # name, model, account, max_tokens, count_tokens, ...
        return getattr(self._provider, name)

    def generate(self, prompt) -> Answer:
        return self._call(self._provider.generate, prompt)

    def structured(self, prompt) -> Answer:
        return self._call(self._provider.structured, prompt)

    def _call(self, method, prompt) -> Answer:
        ticket = self._ticket or self._pacing.wait_for_ticket(self._provider, self._stop)
        self._ticket = None
        try:
            answer = method(prompt)
        except BaseException as exc:
            self._pacing.ended(ticket, self._job_id, used=None, readings=getattr(exc, "rate_limits", {}),
                               refused=getattr(exc, "refused", 0))
            raise
        self._pacing.ended(ticket, self._job_id, used=used_by(answer.usage), readings=answer.rate_limits,
                           refused=answer.refused)
        return answer

    def close(self) -> None:
        """Give back the admission if no call used it (the item ended before its call)."""
        if self._ticket is not None:
            self._pacing.release(self._ticket)
            self._ticket = None


# --- what the limits mean for a job's time ---------------------------------------------------------


@dataclass(frozen=True)
class LimitTime:
    """How long calls take at the account's limits, and which limit decides."""

    seconds: float
    limit: str  # '180,000 output tokens a minute'


def time_at_limits(engine: Engine, account: str | None, model: str, calls: int) -> LimitTime | None:
    """The time `calls` more calls need at the limits the API last reported for this account and
    model (with what they are expected to use), or None when no limit is known."""
    if account is None or calls <= 0:
        return None
    with read(engine) as conn:
        state = LimitState.from_json(store.read_state(conn, account, model))
    seconds, kind = state.seconds_for(calls, time.time())
    if kind is None:
        return None
    return LimitTime(seconds, state.limit_text(kind))
