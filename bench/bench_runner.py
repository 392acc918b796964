"""Runner benchmarks (issue: generate selected / all). Prints each figure; exits 1 if a target is missed.

1. Throughput: 100 conversations against the local Messages API server with 0.5 s per call,
   at concurrency 8, within 1.25 x the ideal ceil(100/8) x 0.5 s; and the speed-up over concurrency 1.
2. Overhead per conversation outside the API call (render, validate, score, save, log):
   median under 10 ms on SQLite and on PostgreSQL.
3. Under 20 % injected 429s the job completes with zero lost items; how many calls were retried.
"""

from __future__ import annotations

import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from brightrun_gen.config import Settings  # noqa: E402
from brightrun_gen.llm.offline import OfflineProvider  # noqa: E402
from brightrun_gen.services import progress, runner as runner_service  # noqa: E402
from brightrun_gen.services.generation import generate_one, prepare  # noqa: E402
from brightrun_gen.services.setup import initialize, open_engine  # noqa: E402
from brightrun_gen.store import conversations as conv_store  # noqa: E402
from tests.support.fake_messages_api import FakeMessagesAPI  # noqa: E402
from tests.support.postgres import TemporaryPostgres  # noqa: E402

LATENCY = 0.5
N = 100
failures: list[str] = []


def fresh_store(url: str):
    settings = Settings(_env_file=None, anthropic_api_key=None)
    engine = open_engine(url, settings)
    initialize(engine, settings)
    return engine


def plan_ids(engine, n: int) -> list[int]:
    rows = conv_store.list_conversations(engine, conv_store.ConversationQuery(statuses=["not_generated"]))
    ids = [r.id for r in rows]
    while len(ids) < n:  # the plan has 90 rows: add copies for a round 100
        ids += ids
    return ids[:n]


def add_rows(engine, n: int) -> None:
    """Extra planned rows (copies of T1 rows) so a job has exactly `n` items."""
    from brightrun_gen.store.db import write

    rows = conv_store.list_conversations(engine, conv_store.ConversationQuery(statuses=["not_generated"]))
    with write(engine) as conn:
        for i in range(n - len(rows)):
            conv_store.insert_conversation(conn, f"BENCH-{i:03d}", rows[i].dimensions, source="plan", status="not_generated")


def run_job(url: str, fake, concurrency: int, n: int = N, **settings_overrides) -> tuple[float, object, object]:
    engine = fresh_store(url)
    add_rows(engine, n)
    # One call per item: the judge's calls and overhead are bench_judge.py's figures.
    settings = Settings(_env_file=None, anthropic_api_key="sk-bench", anthropic_base_url=fake.base_url,
                        provider="anthropic", judge=False, **settings_overrides)
    ids = conv_store.list_conversations(engine, conv_store.ConversationQuery(statuses=["not_generated"]))
    job = runner_service.enqueue(engine, kind="selected", conversation_ids=[r.id for r in ids][:n],
                                 settings=settings, concurrency=concurrency)
    runner = runner_service.Runner(engine, settings, concurrency=concurrency)
    started = time.perf_counter()
    runner.run_until_idle(job.job_id)
    elapsed = time.perf_counter() - started
    return elapsed, progress.job_progress(engine, job.job_id), runner


def throughput(tmp: Path) -> None:
    with FakeMessagesAPI(latency=LATENCY) as fake:
        elapsed8, snap8, _ = run_job(f"sqlite:///{tmp / 'c8.db'}", fake, 8)
        ideal = math.ceil(N / 8) * LATENCY
        ratio = elapsed8 / ideal
        print(f"throughput: {snap8.succeeded}/{N} at concurrency 8 in {elapsed8:.2f} s; ideal {ideal:.2f} s; ratio {ratio:.3f} (target <= 1.25)")
        if ratio > 1.25 or snap8.succeeded != N:
            failures.append("throughput")
        elapsed1, snap1, _ = run_job(f"sqlite:///{tmp / 'c1.db'}", fake, 1)
        print(f"throughput: concurrency 1 took {elapsed1:.2f} s; speed-up of concurrency 8: {elapsed1 / elapsed8:.1f}x")


class InstantProvider:
    """Answers at once with a fixed valid conversation: what remains is our own overhead."""

    name = "offline"
    model = "offline"

    def __init__(self):
        self._offline = OfflineProvider()

    def generate(self, prompt):
        return self._offline.generate(prompt)

    def count_tokens(self, prompt):
        return 0


def overhead(url: str, label: str) -> None:
    engine = fresh_store(url)
    settings = Settings(_env_file=None, anthropic_api_key=None, provider="offline", judge=False)
    provider = InstantProvider()
    ids = plan_ids(engine, 60)
    timings = []
    for cid in ids:
        prompt = prepare(engine, cid).prompt
        api_started = time.perf_counter()
        provider.generate(prompt)
        api = time.perf_counter() - api_started
        started = time.perf_counter()
        generate_one(engine, cid, settings=settings, provider=provider)
        timings.append((time.perf_counter() - started - api) * 1000)
    median = statistics.median(timings[5:])  # the first calls warm caches and connections
    print(f"overhead per conversation on {label}: median {median:.2f} ms, p90 {sorted(timings)[int(len(timings) * 0.9)]:.2f} ms (target < 10 ms)")
    if median >= 10:
        failures.append(f"overhead {label}")
    engine.dispose()


def rate_limited(tmp: Path) -> None:
    with FakeMessagesAPI(latency=0.05, rate_limit_fraction=0.2, seed=42, retry_after=0.05) as fake:
        elapsed, snap, runner = run_job(f"sqlite:///{tmp / 'rl.db'}", fake, 8)
        calls = fake.count()
        lost = N - snap.succeeded
        print(f"429s: {N} conversations under 20% injected 429s: {snap.succeeded} succeeded, {lost} lost, "
              f"{calls - N} calls retried, {runner.backoff.pauses} runner-wide pauses, {elapsed:.1f} s")
        if lost:
            failures.append("rate limits")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        throughput(tmp)
        overhead(f"sqlite:///{tmp / 'overhead.db'}", "SQLite")
        pg = TemporaryPostgres().start()
        try:
            overhead(pg.url(pg.create_database()), "PostgreSQL")
        finally:
            pg.stop()
        rate_limited(tmp)
    if failures:
        print("MISSED: " + ", ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
