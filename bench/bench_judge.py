"""Judge, repair and budget benchmarks (issue 13). Prints each figure; exits 1 if a target is missed.

1. Judge overhead per conversation outside the API (deterministic checks, the judge prompt, parsing
   and checking the verdict, its log and its row): median under 10 ms, on SQLite.
2. Calls: the 90-row plan against the local Messages API with the judge on and one repair round,
   at most 2.3 x the calls of generation alone. The fake plays a model that follows its prompt: it
   writes the edge case's must-have elements on the first try 80 % of the time and always when a
   repair asks for them, and its judge fails one conversation in ten on naturalness (a repair
   fixes that). The figure depends on that failure rate, which is printed with it.
3. Budget: jobs of 30 at concurrency 4 with a cap; the final spend never passes the cap by more
   than the cost of the items that were in flight when the cap was reached.
"""

from __future__ import annotations

import hashlib
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from brightrun_gen.brightrun import BrightRun  # noqa: E402
from brightrun_gen.config import Settings  # noqa: E402
from brightrun_gen.domain.catalog import load_catalog  # noqa: E402
from brightrun_gen.services import judging  # noqa: E402
from brightrun_gen.services.generation import generate_one  # noqa: E402
from brightrun_gen.services.setup import initialize, open_engine  # noqa: E402
from brightrun_gen.store import conversations as conv_store, tables as t  # noqa: E402
from brightrun_gen.store.budget import BUDGET_CANCELLED  # noqa: E402
from brightrun_gen.store.db import read  # noqa: E402
from tests.support.fake_messages_api import FakeMessagesAPI, default_conversation, default_verdict, request_text  # noqa: E402

KEY = "sk-ant-bench-judge"
failures: list[str] = []


def check(ok: bool, message: str) -> None:
    print(("ok   " if ok else "MISS ") + message)
    if not ok:
        failures.append(message)


def store(directory: str, name: str, settings: Settings):
    engine = open_engine(f"sqlite:///{directory}/{name}.db", settings)
    initialize(engine, settings)
    return engine


def plan_ids(engine) -> list[int]:
    return [r.id for r in conv_store.list_conversations(engine, conv_store.ConversationQuery(statuses=["not_generated"]))]


# --- 1. overhead outside the API ---------------------------------------------------------------


class Timed:
    """A provider whose calls are timed, so what remains is the judge's own work."""

    def __init__(self, inner):
        self.inner, self.name, self.model, self.seconds = inner, inner.name, inner.model, 0.0

    def generate(self, prompt):
        started = time.perf_counter()
        try:
            return self.inner.generate(prompt)
        finally:
            self.seconds += time.perf_counter() - started

    def count_tokens(self, prompt):
        return self.inner.count_tokens(prompt)


def judge_overhead(directory: str) -> None:
    """Each row written twice, judge off then on, one after the other on two stores: the same load
    on the machine for both, so the paired difference is the judge's own work."""
    off = Settings(_env_file=None, anthropic_api_key=None, provider="offline", judge=False)
    on = off.model_copy(update={"judge": True})
    stores = {False: store(directory, "overhead-off", off), True: store(directory, "overhead-on", on)}
    timed: list[Timed] = []
    make = judging.make_judge
    judging.make_judge = lambda s, name: (timed.append(Timed(make(s, name))) or timed[-1]) if s.judge else None
    overhead, without = [], []
    try:
        for cid in plan_ids(stores[False]):
            started = time.perf_counter()
            generate_one(stores[False], cid, settings=off)
            plain = time.perf_counter() - started
            started = time.perf_counter()
            generate_one(stores[True], cid, settings=on)
            overhead.append(time.perf_counter() - started - timed[-1].seconds - plain)
            without.append(plain)
    finally:
        judging.make_judge = make
        for engine in stores.values():
            engine.dispose()
    median = statistics.median(overhead) * 1000
    print(f"     generation without the judge: median {statistics.median(without) * 1000:.1f} ms per item "
          f"(offline generator, SQLite); the judge's calls are not counted")
    check(median < 10, f"judge overhead outside the API: median {median:.1f} ms per conversation (target < 10 ms)")


# --- 2. calls with the judge and a repair round ----------------------------------------------------

# The prompt names each must-have in words ("Adult Protective Services or the Eldercare Locator"); the
# fake writes it in the words the check recognises, as a model that follows the prompt would.
_WORDING = {m.element: m.any_of[0].rstrip("*")
            for edge in load_catalog(Settings(_env_file=None).catalog_dir).edge_cases for m in edge.must_include}
_MUST_INCLUDE = re.compile(r"must include \(data\):\n(.*?)\n[^\n]*must never contain", re.S)


def writer(body: dict) -> dict:
    """A model that follows its prompt: the edge case's must-haves (80 % of first tries; every repair)."""
    text = request_text(body)
    conversation = default_conversation("Alex", "their finances", int(hashlib.sha256(text.encode()).hexdigest()[:6], 16))
    repairing = "Repair request" in text
    phrases = []
    found = _MUST_INCLUDE.search(text)
    if found and (repairing or int(hashlib.sha256(text.encode()).hexdigest(), 16) % 5):
        phrases = [_WORDING[line.strip().removeprefix("- ")] for line in found.group(1).splitlines()
                   if line.strip().removeprefix("- ") in _WORDING]
    if phrases:
        extra = " ".join(f"Let me name this plainly: {p}." for p in phrases)
        conversation["turns"][1]["content"] += " " + extra
    return conversation


def judge(body: dict) -> dict:
    """A judge that fails one first version in ten on naturalness; repaired versions pass."""
    text = request_text(body)
    first = int(hashlib.sha256(text.encode()).hexdigest(), 16) % 10 == 0 and "Let me name" not in text
    return default_verdict(body, {"naturalness": 2} if first else None)


def call_ratio(directory: str) -> None:
    counts = {}
    for judge_on in (False, True):
        with FakeMessagesAPI(conversation_factory=writer, judge_factory=judge) as fake:
            settings = Settings(_env_file=None, anthropic_api_key=KEY, anthropic_base_url=fake.base_url,
                                provider="anthropic", judge=judge_on, repair_attempts=1, sdk_max_retries=0)
            engine = store(directory, f"calls-{judge_on}", settings)
            with BrightRun(settings, database_url=str(engine.url)) as app:
                job = app.jobs.enqueue(kind="all", concurrency=8)
                [done] = app.jobs.run([job.job_id], concurrency=8)
            counts[judge_on] = (fake.count(), done)
            engine.dispose()
    base, _ = counts[False]
    calls, done = counts[True]
    print(f"     generation alone: {base} calls; with the judge: {calls} calls for {done.succeeded} conversations, "
          f"{done.judged} judged, {done.repaired} repaired ({done.repaired / max(1, done.judged):.0%}), "
          f"{done.flagged} flagged")
    check(calls <= 2.3 * base, f"calls with judge and one repair round: {calls / base:.2f} x generation alone "
                               "(target <= 2.3 x)")


# --- 3. the budget cap -----------------------------------------------------------------------------


def budget(directory: str) -> None:
    for cap in (0.35, 0.6, 0.9):
        with FakeMessagesAPI(latency=0.05) as fake:
            settings = Settings(_env_file=None, anthropic_api_key=KEY, anthropic_base_url=fake.base_url,
                                provider="anthropic", sdk_max_retries=0)
            engine = store(directory, f"budget-{cap}", settings)
            ids = plan_ids(engine)[:30]
            with BrightRun(settings, database_url=str(engine.url)) as app:
                job = app.jobs.enqueue(kind="selected", ids=ids, concurrency=4, max_cost=cap)
                [done] = app.jobs.run([job.job_id], concurrency=4)
            spent, in_flight = spend(engine, job.job_id)
            engine.dispose()
        over = max(0.0, spent - cap)
        check(done.stopped_by_budget and over <= in_flight + 1e-9,
              f"cap ${cap:.2f}: {done.succeeded} of 30 written, spent ${spent:.4f}, over by ${over:.4f}; "
              f"in flight at the cap ${in_flight:.4f}")


def spend(engine, job_id: int) -> tuple[float, float]:
    """Everything the job spent, and what the items still running when the cap was reached cost."""
    q, g = t.generation_queue.c, t.generation_logs.c
    with read(engine) as conn:
        items = select(q.id).where(q.job_id == job_id)
        spent = conn.scalar(select(func.coalesce(func.sum(g.cost_usd), 0.0)).where(g.queue_item_id.in_(items)))
        stop = conn.scalar(select(func.min(q.finished_at)).where(q.job_id == job_id, q.error == BUDGET_CANCELLED))
        late = select(q.id).where(q.job_id == job_id, q.status.in_(("succeeded", "failed")), q.started_at <= stop,
                                  q.finished_at >= stop)
        in_flight = conn.scalar(select(func.coalesce(func.sum(g.cost_usd), 0.0)).where(g.queue_item_id.in_(late)))
    return float(spent), float(in_flight)


def main() -> int:
    with tempfile.TemporaryDirectory() as directory:
        judge_overhead(directory)
        call_ratio(directory)
        budget(directory)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
