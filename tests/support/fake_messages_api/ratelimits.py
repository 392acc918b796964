"""The fake's output-token limit: a token bucket as the API keeps one, and the headers that report it.

The bucket holds `bucket_seconds` of `per_minute` and refills continuously. A call is refused (429,
retry-after: when the bucket will hold tokens again) when the bucket is empty as it arrives; else its
`max_tokens` is taken at once (the API counts output tokens from max_tokens when a call starts) and
what the answer did not use is given back as it is sent.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from tests.support.fake_messages_api.replies import now, rfc3339


class OutputTokenBucket:
    """Thread-safe; times are `time.monotonic()`."""

    def __init__(self, per_minute: int, bucket_seconds: float) -> None:
        if per_minute <= 0 or bucket_seconds <= 0:
            raise ValueError("output_tokens_per_minute and bucket_seconds must be > 0")
        self.per_minute = per_minute
        self.rate = per_minute / 60
        self.capacity = self.rate * bucket_seconds
        self._level = self.capacity
        self._at = time.monotonic()
        self._lock = threading.Lock()
        self.refused = 0

    def _refill(self) -> None:
        moment = time.monotonic()
        self._level = min(self.capacity, self._level + (moment - self._at) * self.rate)
        self._at = moment

    def take(self, max_tokens: int) -> float | None:
        """Take a starting call's max_tokens; when the bucket is empty, refuse: seconds until it is not."""
        with self._lock:
            self._refill()
            if self._level <= 0:
                self.refused += 1
                return -self._level / self.rate + 0.001
            self._level -= max_tokens
            return None

    def give_back(self, tokens: float) -> None:
        with self._lock:
            self._refill()
            self._level = min(self.capacity, self._level + tokens)

    def headers(self) -> dict[str, str]:
        """The anthropic-ratelimit-output-tokens-* headers: limit a minute, tokens left, when full again."""
        with self._lock:
            self._refill()
            level = self._level
        full_in = max(0.0, (self.capacity - level) / self.rate)
        return {
            "anthropic-ratelimit-output-tokens-limit": str(self.per_minute),
            "anthropic-ratelimit-output-tokens-remaining": str(max(0, int(level))),
            "anthropic-ratelimit-output-tokens-reset": rfc3339(now() + timedelta(seconds=full_in)),
        }
