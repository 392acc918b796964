"""Pacing benchmarks (issue 16). Prints each figure; exits 1 if a target is missed.

Before = `pace_rate_limits=false`: main's behaviour (full concurrency, the SDK's retries and the
runner's shared back-off on 429). After = the default: admission from the rate-limit headers.

1. Rate limited: 40 rows at concurrency 16 against the local Messages API enforcing 180,000 output
   tokens a minute with a 5 s bucket: wall time <= 1.15 x the limit-bound ideal (output tokens beyond
   the bucket / rate), and <= 10 % of calls refused. The store is new: the first call learns the limit.
   The answers are the size of a typical conversation (estimate.TYPICAL_OUTPUT_TOKENS, 2,500 tokens;
   max_tokens stays at its default, 8,000). The API counts max_tokens against the limit while a call
   runs, so with answers far smaller than max_tokens fewer calls fit at once: the same job with the
   fake's own short answers (about 1,400 tokens) is printed too, without a target.
2. No limit: 100 rows at concurrency 8, 0.5 s a call (bench_runner's throughput): wall time <= 1.1 x
   the ideal ceil(100/8) x 0.5 s once the store knows the account reports no limits; on first contact
   one call goes alone to learn that, which is printed as well. Each job follows a job of one row in
   the same store, so that every variant starts with the same warm caches.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from brightrun_gen.config import Settings  # noqa: E402
from brightrun_gen.services import progress, runner as runner_service  # noqa: E402
from brightrun_gen.services.estimate import TYPICAL_OUTPUT_TOKENS  # noqa: E402
from brightrun_gen.services.setup import initialize, open_engine  # noqa: E402
from brightrun_gen.store import conversations as conv_store  # noqa: E402
from brightrun_gen.store.db import write  # noqa: E402
from tests.support.fake_messages_api import (  # noqa: E402
    FakeMessagesAPI, default_conversation, extract_persona_topic, request_text)

RATE, BUCKET_SECONDS, LIMITED_ROWS, LIMITED_CONCURRENCY, LIMITED_LATENCY = 180_000, 5.0, 40, 16, 0.5
FREE_ROWS, FREE_CONCURRENCY, FREE_LATENCY = 100, 8, 0.5
failures: list[str] = []
# Before, the runner's shared back-off warns at every 429: the figures below count them.
logging.getLogger("brightrun_gen").setLevel(logging.ERROR)


def typical_conversation(body: dict) -> dict:
    """The fake's conversation grown to a typical answer's size: its turns get more paragraphs."""
    persona, topic = extract_persona_topic(request_text(body))
    turns = default_conversation(persona, topic, next(_numbers))["turns"]
    grown, n = [dict(turn) for turn in turns], len(turns)
    for i in itertools.count():  # the fake counts a token per 4 characters of the answer's JSON
        if len(json.dumps({"turns": grown})) >= 4 * TYPICAL_OUTPUT_TOKENS:
            return {"turns": grown}
        grown[i % n]["content"] += " " + turns[(i + 2) % n]["content"]  # a paragraph of the same role


_numbers = itertools.count()


def new_store(path: Path, rows: int):
    settings = Settings(_env_file=None, anthropic_api_key=None)
    engine = open_engine(f"sqlite:///{path}", settings)
    initialize(engine, settings)
    planned = conv_store.list_conversations(engine, conv_store.ConversationQuery(statuses=["not_generated"]))
    with write(engine) as conn:  # copies of planned rows, so a job has exactly `rows` items
        for i in range(rows - len(planned)):
            conv_store.insert_conversation(conn, f"BENCH-{i:03d}", planned[i].dimensions, source="plan",
                                           status="not_generated")
    return engine


def run(engine, fake, rows: int, concurrency: int, paced: bool):
    """One job of `rows` items through a runner; (seconds, final progress)."""
    # One call per item: the judge's calls are bench_judge.py's figures.
    settings = Settings(_env_file=None, anthropic_api_key="sk-bench", anthropic_base_url=fake.base_url,
                        provider="anthropic", judge=False, pace_rate_limits=paced)
    ids = [r.id for r in conv_store.list_conversations(engine, conv_store.ConversationQuery(statuses=["not_generated"]))]
    job = runner_service.enqueue(engine, kind="selected", conversation_ids=ids[:rows], settings=settings,
                                 concurrency=concurrency)
    started = time.perf_counter()
    runner_service.Runner(engine, settings, concurrency=concurrency).run_until_idle(job.job_id)
    return time.perf_counter() - started, progress.job_progress(engine, job.job_id)


def rate_limited(tmp: Path, paced: bool, typical: bool = True) -> tuple[float, float]:
    label = ("after" if paced else "before") + ("" if typical else ", short answers")
    factory = typical_conversation if typical else None
    with FakeMessagesAPI(latency=LIMITED_LATENCY, output_tokens_per_minute=RATE, bucket_seconds=BUCKET_SECONDS,
                         conversation_factory=factory) as fake:
        engine = new_store(tmp / f"limited-{paced}-{typical}.db", LIMITED_ROWS)
        elapsed, snap = run(engine, fake, LIMITED_ROWS, LIMITED_CONCURRENCY, paced)
        calls = fake.requests_to("/v1/messages")
        refused = sum(r.status == 429 for r in calls)
        tokens = sum(r.output_tokens or 0 for r in calls if r.status == 200)
        ideal = (tokens - fake.output_limit.capacity) / fake.output_limit.rate
        engine.dispose()
    ratio, share = elapsed / ideal, refused / len(calls)
    print(f"rate limited, {label}: {snap.succeeded}/{LIMITED_ROWS} succeeded ({snap.failed} failed) in {elapsed:.1f} s; "
          f"ideal {ideal:.1f} s ({tokens:,} output tokens, {fake.output_limit.capacity:,.0f} in the bucket, "
          f"{RATE // 60:,}/s); ratio {ratio:.2f}; {refused} of {len(calls)} calls refused ({share:.0%}); "
          f"the job counted {snap.calls_refused} refused, {snap.wait_seconds:.1f} s waiting")
    if paced and typical and (ratio > 1.15 or share > 0.10 or snap.succeeded != LIMITED_ROWS):
        failures.append(f"rate limited: ratio {ratio:.2f} (target <= 1.15), {share:.0%} refused (target <= 10%)")
    return ratio, share


def unlimited(tmp: Path, paced: bool, known: bool) -> float:
    label = "before" if not paced else "after, limits known" if known else "after, first contact"
    with FakeMessagesAPI(latency=FREE_LATENCY) as fake:
        engine = new_store(tmp / f"free-{paced}-{known}.db", FREE_ROWS + 1)
        # An earlier job warms the store's caches for every variant; paced, it also learns that the
        # answers carry no rate-limit headers.
        run(engine, fake, 1, 1, paced and known)
        elapsed, snap = run(engine, fake, FREE_ROWS, FREE_CONCURRENCY, paced)
        engine.dispose()
    ideal = math.ceil(FREE_ROWS / FREE_CONCURRENCY) * FREE_LATENCY
    ratio = elapsed / ideal
    print(f"no limit, {label}: {snap.succeeded}/{FREE_ROWS} at concurrency {FREE_CONCURRENCY} in {elapsed:.2f} s; "
          f"ideal {ideal:.2f} s; ratio {ratio:.3f}")
    if paced and known and (ratio > 1.1 or snap.succeeded != FREE_ROWS):
        failures.append(f"no limit: ratio {ratio:.3f} (target <= 1.1)")
    return ratio


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rate_limited(tmp, paced=False)
        rate_limited(tmp, paced=True)
        rate_limited(tmp, paced=True, typical=False)
        unlimited(tmp, paced=False, known=False)
        unlimited(tmp, paced=True, known=True)
        unlimited(tmp, paced=True, known=False)
    if failures:
        print("MISSED: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
