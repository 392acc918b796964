"""The one way a test waits: poll a fact until it holds, never a fixed sleep."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float = 60.0, what: str = "condition",
               interval: float = 0.05) -> T:
    """Call `condition` every `interval` seconds until it returns something truthy, and return that;
    fail naming `what` after `timeout` seconds. The condition reads persisted or observed state
    (a table, a page, a server's record), so the wait ends as soon as the fact is true."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
