"""What the fake remembers of each request, and which requests a path prefix means."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

# Sub-resources of /v1/messages that `count("/v1/messages")` does not include.
SEPARATE_ENDPOINTS = ("/v1/messages/batches", "/v1/messages/count_tokens")


@dataclass
class RecordedRequest:
    """One HTTP request as the server received it.

    `headers` has lower-cased names (x-api-key, authorization, anthropic-version, ...), values
    as sent. `body` is the parsed JSON object, or None. `time` is `time.monotonic()` at arrival,
    `answered` the same clock as the answer starts to go out (None while the server is "thinking").
    `status` and `behaviour` are filled in once the server has decided how to answer; `output_tokens`
    once a message answered it (the tokens its usage reports), `remaining` with the output tokens the
    fake's limit had left as the answer went out (None without a limit).
    """

    method: str
    path: str
    headers: dict[str, str]
    body: dict | None
    time: float
    query: str = ""
    raw_body: bytes = b""
    status: int | None = None
    behaviour: str | None = None
    answered: float | None = None
    output_tokens: int | None = None
    remaining: int | None = None

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


def max_in_flight(requests: Iterable[RecordedRequest]) -> int:
    """The most requests that were in flight at one moment: arrived, and not yet answered.

    An answer sent at the very moment another request arrives does not overlap it, so calls made
    one after the other count 1 however fast they are; unanswered requests count as in flight."""
    events = []
    for r in requests:
        events.append((r.time, 1))
        events.append((r.answered if r.answered is not None else math.inf, -1))
    most = current = 0
    for _, change in sorted(events):  # at equal times, -1 sorts before +1
        current += change
        most = max(most, current)
    return most


def path_matches(path: str, prefix: str) -> bool:
    """Whether `path` is under `prefix`; the SEPARATE_ENDPOINTS match only a prefix that names them."""
    prefix = prefix.rstrip("/") or "/"
    if path == prefix:
        return True
    if not path.startswith(prefix.rstrip("/") + "/"):
        return False
    for sub in SEPARATE_ENDPOINTS:
        path_under_sub = path == sub or path.startswith(sub + "/")
        prefix_under_sub = prefix == sub or prefix.startswith(sub + "/")
        if path_under_sub and not prefix_under_sub:
            return False
    return True
