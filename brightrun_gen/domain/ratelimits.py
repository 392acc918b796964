"""Rate limits as the Messages API reports them, and the client-side buckets that mirror them.

Every answer carries `anthropic-ratelimit-{requests,input-tokens,output-tokens}-{limit,remaining,reset}`:
the limit per minute, what is left now, and when the bucket will be full again (RFC 3339). The API
refills each limit continuously (a token bucket), counts a call's output tokens from its `max_tokens`
when the call starts and gives back what the answer did not use when it ends. `LimitState` keeps the
same buckets on our side so that a call starts only when the tokens it is expected to use fit, and
the API has no reason to refuse it.

Pure: every function takes the time (seconds since the epoch); nothing here sleeps or reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping

KINDS = ("requests", "input_tokens", "output_tokens")
UNITS = {"requests": "requests", "input_tokens": "input tokens", "output_tokens": "output tokens"}
# The running average of a call's tokens follows the newest calls: a changed prompt shows within this many.
AVERAGE_WINDOW = 50
# While another call is learning the limits, look again this often.
PROBE_POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Reading:
    """One limit as one answer reported it."""

    limit: int  # per minute
    remaining: int  # available now
    full_in: float | None  # seconds until the bucket is full again; None when the header was missing


def read_headers(headers: Mapping[str, str], now: datetime) -> dict[str, Reading]:
    """The limits an answer's headers report, by kind ({} when there are none); bad values are skipped."""
    readings = {}
    for kind in KINDS:
        prefix = f"anthropic-ratelimit-{kind.replace('_', '-')}-"
        limit, remaining = _integer(headers.get(prefix + "limit")), _integer(headers.get(prefix + "remaining"))
        if limit and limit > 0 and remaining is not None:
            readings[kind] = Reading(limit, max(0, remaining), _seconds_until(headers.get(prefix + "reset"), now))
    return readings


def _integer(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def _seconds_until(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, (datetime.fromisoformat(value.replace("Z", "+00:00")) - now).total_seconds())
    except (TypeError, ValueError):
        return None


@dataclass
class Bucket:
    """Our copy of one of the API's buckets: refilled at `per_minute / 60` a second up to `capacity`."""

    per_minute: float
    capacity: float
    level: float  # what is left at `at`; negative while calls hold more than the bucket had
    at: float

    @property
    def rate(self) -> float:
        return self.per_minute / 60

    def level_at(self, now: float) -> float:
        return min(self.capacity, self.level + max(0.0, now - self.at) * self.rate)

    def refill(self, now: float) -> None:
        self.level, self.at = self.level_at(now), max(self.at, now)

    def seconds_until(self, amount: float, now: float) -> float:
        return max(0.0, (amount - self.level_at(now)) / self.rate)

    def observe(self, reading: Reading, now: float) -> None:
        """Take the API's word: its limit and bucket size, and never more left than it says."""
        self.refill(now)
        self.per_minute, self.capacity = reading.limit, _capacity(reading)
        self.level = min(self.level, reading.remaining)

    @classmethod
    def from_reading(cls, reading: Reading, now: float) -> "Bucket":
        return cls(reading.limit, _capacity(reading), reading.remaining, now)


def _capacity(reading: Reading) -> float:
    """What the bucket holds when full: what is left plus what refills until the reset time.

    The headers do not say the bucket's size; the reset time is when it will be full. A bucket never
    holds more than a minute's worth; without a reset time, assume it does hold a minute's worth."""
    if reading.full_in is None:
        return float(reading.limit)
    return min(float(reading.limit), max(1.0, reading.remaining + reading.full_in * reading.limit / 60))


@dataclass(frozen=True)
class Demand:
    """What one call asks of each bucket."""

    reserve: dict[str, float]  # taken when the call starts (for output tokens: max_tokens, as the API does)
    fits: dict[str, float]  # what must be left for it to start: the tokens it is expected to use


@dataclass
class LimitState:
    """The limits of one API key and model: the buckets, the average call, and whether limits are known.

    `reported` is None until the first answer: then one call at a time goes out (a probe), since a
    whole first wave could be refused. False when answers carry no rate-limit headers: nothing to pace.
    """

    buckets: dict[str, Bucket] = field(default_factory=dict)
    averages: dict[str, tuple[float, int]] = field(default_factory=dict)
    reported: bool | None = None
    probe_until: float | None = None

    def expected(self, kind: str) -> float | None:
        """The running average of a call's use of `kind`, None before any call."""
        mean, samples = self.averages.get(kind, (0.0, 0))
        return mean if samples else None

    def demand(self, max_tokens: int) -> Demand:
        output = min(float(max_tokens), self.expected("output_tokens") or float(max_tokens))
        uncached_input = self.expected("input_tokens") or 0.0
        return Demand(reserve={"requests": 1.0, "input_tokens": uncached_input, "output_tokens": float(max_tokens)},
                      fits={"requests": 1.0, "input_tokens": uncached_input, "output_tokens": output})

    def admit(self, count: int, demand: Demand, now: float, probe_seconds: float) -> tuple[int, dict, float]:
        """How many of `count` calls may start now, what each of them took from the buckets, and (when
        none may) how many seconds until one fits."""
        if self.reported is False or count <= 0:
            return count, {}, 0.0
        if not self.buckets:  # nothing known yet: one call learns the limits
            if self.probe_until is not None and now < self.probe_until:
                return 0, {}, min(PROBE_POLL_SECONDS, self.probe_until - now)
            self.probe_until = now + probe_seconds
            return 1, {}, 0.0
        for bucket in self.buckets.values():
            bucket.refill(now)
        granted = 0
        while granted < count and all(b.level >= min(demand.fits[k], b.capacity) for k, b in self.buckets.items()):
            for kind, bucket in self.buckets.items():
                bucket.level -= demand.reserve[kind]
            granted += 1
        taken = {kind: demand.reserve[kind] for kind in self.buckets}
        if granted:
            return granted, taken, 0.0
        return 0, {}, max(b.seconds_until(min(demand.fits[k], b.capacity), now) for k, b in self.buckets.items())

    def settle(self, reserved: dict[str, float], used: dict[str, float] | None, now: float) -> None:
        """A call ended: give back what it reserved and take what it used (nothing when it failed)."""
        for kind, amount in reserved.items():
            bucket = self.buckets.get(kind)
            if bucket is not None:
                bucket.refill(now)
                bucket.level = min(bucket.capacity, bucket.level + amount - (used or {}).get(kind, 0.0))
        for kind in ("input_tokens", "output_tokens"):
            if used and kind in used:
                mean, samples = self.averages.get(kind, (0.0, 0))
                samples = min(samples + 1, AVERAGE_WINDOW)
                self.averages[kind] = (mean + (used[kind] - mean) / samples, samples)

    def observe(self, readings: Mapping[str, Reading], now: float, *, answered: bool) -> None:
        """What an answer's headers said. An answer without any means the API reports no limits."""
        if readings:
            self.reported, self.probe_until = True, None
            for kind, reading in readings.items():
                if kind in self.buckets:
                    self.buckets[kind].observe(reading, now)
                else:
                    self.buckets[kind] = Bucket.from_reading(reading, now)
        elif answered and self.reported is None:
            self.reported, self.probe_until = False, None
        elif not answered:
            self.probe_until = None  # a failed probe: the next call learns the limits

    def seconds_for(self, calls: int, now: float) -> tuple[float, str | None]:
        """How long `calls` more calls take at the limits: for each limit, what they are expected to use
        beyond what its bucket holds now, at its rate. The slowest limit decides; which one is returned."""
        slowest, kind_of = 0.0, None
        for kind, bucket in self.buckets.items():
            per_call = 1.0 if kind == "requests" else self.expected(kind)
            if not per_call:
                continue
            seconds = max(0.0, calls * per_call - bucket.level_at(now)) / bucket.rate
            if seconds > slowest:
                slowest, kind_of = seconds, kind
        return slowest, kind_of

    def limit_text(self, kind: str) -> str:
        """'180,000 output tokens a minute'."""
        return f"{self.buckets[kind].per_minute:,.0f} {UNITS[kind]} a minute"

    def to_json(self) -> dict:
        return {"reported": self.reported, "probe_until": self.probe_until,
                "buckets": {k: [b.per_minute, b.capacity, b.level, b.at] for k, b in self.buckets.items()},
                "averages": {k: [mean, n] for k, (mean, n) in self.averages.items()}}

    @classmethod
    def from_json(cls, data: Mapping | None) -> "LimitState":
        if not data:
            return cls()
        return cls(buckets={k: Bucket(*v) for k, v in (data.get("buckets") or {}).items() if k in KINDS},
                   averages={k: (float(v[0]), int(v[1])) for k, v in (data.get("averages") or {}).items()},
                   reported=data.get("reported"), probe_until=data.get("probe_until"))
