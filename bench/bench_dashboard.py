"""Dashboard speed with 10,000 conversations: data load < 1 s, filter change < 300 ms, preview < 300 ms.

Builds a temporary SQLite store (`brightrun init` plus ~9,900 generated conversations of 12 turns
written through the bulk store path), then times the service calls the dashboard page makes.
Prints each figure and exits 1 if any is over its limit.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from brightrun_gen.config import Settings  # noqa: E402
from brightrun_gen.domain.models import Turn  # noqa: E402
from brightrun_gen.services import dashboard  # noqa: E402
from brightrun_gen.services.setup import initialize, open_engine  # noqa: E402
from brightrun_gen.store import bulk, conversations as conv_store  # noqa: E402
from brightrun_gen.store.db import write  # noqa: E402

TARGET = 10_000
REPEATS = 5
LIMITS = {"dashboard data load": 1.0, "filter change": 0.3, "preview": 0.3}
STATUSES = ["generated", "approved", "needs_edit", "rejected"]
MODELS = ["offline", "claude-sonnet-5-5"]


def build_store(url: str):
    """An initialized store filled up to TARGET conversations."""
    settings = Settings(_env_file=None, anthropic_api_key=None, provider="offline", database_url=url)
    engine = open_engine(url, settings)
    initialize(engine, settings)
    planned = conv_store.list_conversations(engine)
    rng = random.Random(7)
    rows = [_conversation(n, rng.choice(planned).dimensions, rng) for n in range(TARGET - len(planned))]
    started = time.perf_counter()
    with write(engine) as conn:
        bulk.add_conversations(conn, rows)
    print(f"store: {len(planned)} from init + {len(rows)} bulk-added in {time.perf_counter() - started:.1f} s")
    return engine


def _conversation(n: int, dimensions, rng: random.Random) -> bulk.BulkConversation:
    turns = [Turn(role="user" if i % 2 == 0 else "assistant",
                  content=f"Turn {i} of bench conversation {n}. " + "words " * rng.randint(20, 120))
             for i in range(12)]
    return bulk.BulkConversation(key=f"BENCH-{n:05d}", dimensions=dimensions, turns=turns,
                                 model=rng.choice(MODELS), status=rng.choice(STATUSES),
                                 quality={"score": round(rng.uniform(5, 10), 1), "criteria": []})


def timed(label: str, fn) -> bool:
    """Best of REPEATS (the first call also warms caches); True when within the limit."""
    best = min(_seconds(fn) for _ in range(REPEATS))
    ok = best <= LIMITS[label]
    print(f"{label}: {best * 1000:.0f} ms (limit {LIMITS[label] * 1000:.0f} ms) {'ok' if ok else 'TOO SLOW'}")
    return ok


def _seconds(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        engine = build_store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        choices = dashboard.filter_choices(engine)
        narrow = {"persona": choices.options["persona"][:1], "tier": [1, 2], "status": ["generated", "approved"]}
        everything = dashboard.load_dashboard(engine, {})
        filtered = dashboard.load_dashboard(engine, narrow)
        print(f"rows: {everything.shown} unfiltered, {filtered.shown} with {narrow}")
        key = everything.table["key"].iloc[len(everything.table) // 2]
        results = [
            timed("dashboard data load", lambda: (dashboard.filter_choices(engine), dashboard.load_dashboard(engine, {}))),
            timed("filter change", lambda: dashboard.load_dashboard(engine, narrow)),
            timed("preview", lambda: dashboard.preview(engine, key)),
        ]
        engine.dispose()
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
