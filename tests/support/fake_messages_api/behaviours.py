"""The script of the fake: the behaviours a test queues, checked when they are queued."""

from __future__ import annotations

from typing import Any, NamedTuple

BEHAVIOURS = frozenset(
    {
        "ok",
        "429",
        "529",
        "500",
        "slow",
        "prose",
        "truncated",
        "bad_quality",
        "refusal",
        "malformed",
        "wrong_roles",
        "expired",
        "canceled",
        "text",
        "json",
        "error",
    }
)


class Behaviour(NamedTuple):
    name: str
    args: tuple = ()


def slow(seconds: float) -> tuple[str, float]:
    """The behaviour ("slow", seconds): sleep server-side, then answer "ok"."""
    return ("slow", float(seconds))


def normalise(behaviour: Any) -> Behaviour:
    """A behaviour as a test writes it ("429", 429, ("slow", 2.0), ...) as a `Behaviour`; a
    mistake in the script fails where the test queues it, not later in a handler thread."""
    if isinstance(behaviour, Behaviour):
        return behaviour
    if isinstance(behaviour, int) and not isinstance(behaviour, bool):
        behaviour = str(behaviour)
    if isinstance(behaviour, str):
        if behaviour == "slow":
            raise ValueError('"slow" needs a duration: use ("slow", seconds) or slow(seconds)')
        if behaviour not in BEHAVIOURS or behaviour in ("text", "json", "error"):
            raise ValueError(f"unknown behaviour {behaviour!r}; known: {sorted(BEHAVIOURS)}")
        return Behaviour(behaviour)
    if isinstance(behaviour, (tuple, list)) and behaviour and behaviour[0] in BEHAVIOURS:
        name, *args = behaviour
        if name == "slow" and (len(args) != 1 or not isinstance(args[0], (int, float))):
            raise ValueError('use ("slow", seconds)')
        if name == "text" and not (1 <= len(args) <= 2 and isinstance(args[0], str)):
            raise ValueError('use ("text", text) or ("text", text, stop_reason)')
        if name == "json" and len(args) != 1:
            raise ValueError('use ("json", obj)')
        if name == "error" and not (2 <= len(args) <= 3 and isinstance(args[0], int)):
            raise ValueError('use ("error", status, error_type) or ("error", status, error_type, message)')
        return Behaviour(name, tuple(args))
    raise ValueError(f"unknown behaviour {behaviour!r}")
