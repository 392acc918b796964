"""Plan and prompt benchmarks (issue 12). Prints each figure; exits 1 if a target is missed.

1. A 1,000-row plan (40:35:15) builds, linted clean, in under 2 s.
2. The default 90-row job against the local Messages API stand-in (the real SDK, prompt caching
   counted the way the API does: prefixes ending at a cache breakpoint, at least 1,024 tokens),
   after `init`, importing the firm's real seeds and measuring its voice:
   - no set of example conversations appears in more than 25% of the prompts;
   - cache reads are at least 40% of all input tokens (read + written + uncached);
   - building one row's prompt takes under 5 ms (mean over the 90 rows, catalog cached).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from brightrun_gen.brightrun import BrightRun  # noqa: E402
from brightrun_gen.config import Settings  # noqa: E402
from brightrun_gen.domain.catalog import build_plan, load_catalog  # noqa: E402
from brightrun_gen.domain.planning import PlanRequest  # noqa: E402
from brightrun_gen.services.generation import prepare  # noqa: E402
from tests.support.fake_messages_api import FakeMessagesAPI  # noqa: E402

REAL_SEEDS = ROOT.parent / "shared" / "fixtures" / "real-seeds"
PLAN_SECONDS = 2.0
MAX_SET_SHARE = 0.25
MIN_CACHE_SHARE = 0.40
MAX_PROMPT_MS = 5.0
failures: list[str] = []


def check(ok: bool, message: str) -> None:
    if not ok:
        failures.append(message)


def plan_of_1000() -> None:
    catalog = load_catalog(ROOT / "seeds" / "catalog")
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        rows = build_plan(catalog, PlanRequest(size=1000))
        timings.append(time.perf_counter() - started)
    best = min(timings)
    tiers = Counter(r.dimensions.tier for r in rows)
    print(f"plan: {len(rows)} rows ({tiers[1]}/{tiers[2]}/{tiers[3]}), linted clean, in {best:.3f} s "
          f"(best of 3; target < {PLAN_SECONDS} s)")
    check(len(rows) == 1000 and best < PLAN_SECONDS, f"1,000-row plan took {best:.3f} s")


def default_job(tmp: Path) -> None:
    with FakeMessagesAPI() as fake:
        settings = Settings(_env_file=None, anthropic_api_key="sk-bench", anthropic_base_url=fake.base_url,
                            provider="anthropic", database_url=f"sqlite:///{tmp / 'job.db'}")
        with BrightRun(settings) as app:
            app.initialize()
            app.conversations.import_files([REAL_SEEDS])
            app.catalog.measure_voice()
            planned = [r.id for r in app.conversations.list(statuses=["not_generated"])]
            build_ms = prompt_build_ms(app, planned, settings)
            job = app.jobs.enqueue(kind="all")
            [done] = app.jobs.run([job.job_id])
            answered = [a for a in app.jobs.attempts(limit=1000) if a.outcome == "ok"]
    # The judge's and repair's calls carry no examples of their own: count the generation prompts.
    attempts = [a for a in answered if a.kind == "generate"]
    print(f"calls answered: {len(answered)}, of which {len(attempts)} generation prompts "
          f"({len(answered) - len(attempts)} judge or repair calls left out of the figures below)")
    sets = Counter(tuple(a.parameters.get("examples") or ()) for a in attempts)
    top_set, top_count = sets.most_common(1)[0]
    share = top_count / len(attempts)
    print(f"examples: {len(sets)} different sets over {len(attempts)} prompts; the most used, {list(top_set)}, "
          f"in {share:.1%} (target <= {MAX_SET_SHARE:.0%})")
    read = sum(a.cache_read_tokens for a in attempts)
    written = sum(a.cache_creation_tokens for a in attempts)
    plain = sum(a.input_tokens for a in attempts)
    cache_share = read / (read + written + plain)
    print(f"prompt cache: {read:,} of {read + written + plain:,} input tokens read from the cache ({cache_share:.1%}), "
          f"{written:,} written, {plain:,} uncached (target >= {MIN_CACHE_SHARE:.0%})")
    print(f"prompt build: {build_ms:.2f} ms per row, mean over {len(planned)} rows (target < {MAX_PROMPT_MS} ms)")
    check(done.succeeded == len(planned) == 90, f"the job generated {done.succeeded} of {len(planned)}")
    check(share <= MAX_SET_SHARE, f"one example set is in {share:.1%} of prompts")
    check(cache_share >= MIN_CACHE_SHARE, f"cache reads are {cache_share:.1%} of input tokens")
    check(build_ms < MAX_PROMPT_MS, f"a prompt takes {build_ms:.2f} ms to build")


def prompt_build_ms(app: BrightRun, ids: list[int], settings: Settings) -> float:
    prepare(app.engine, ids[0], settings=settings)  # the shared part is loaded once per process
    timings = []
    for cid in ids:
        started = time.perf_counter()
        prepare(app.engine, cid, settings=settings)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.mean(timings)


def main() -> int:
    plan_of_1000()
    with tempfile.TemporaryDirectory() as tmp:
        default_job(Path(tmp))
    for failure in failures:
        print(f"MISSED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
