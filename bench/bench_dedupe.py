"""Near-duplicates at scale: 10,000 conversations of 12 turns.

    python bench/bench_dedupe.py [--database sqlite|postgresql]   (`make bench` runs every bench/bench_*.py)

The store is built in a temporary folder (or a temporary PostgreSQL server) with the bulk store
path: 10,000 conversations of text drawn from a 6,000-word vocabulary (Zipf-like, so common words
repeat as in real text), of which PLANTED are light rewrites of earlier ones (a few words changed
in a few turns). Each measurement runs in a process of its own, so its peak resident memory
(ru_maxrss, interpreter and imports included) is its own:

- dedupe of the conversations (`brightrun dedupe`) from an empty index: signatures of every
  conversation, stored as the index, then every similar pair; must take < 30 s and peak < 500 MB,
  and find every planted pair;
- dedupe of single turns (`--scope turns`): the same limits;
- checking one new conversation against the indexed store (what generation does): median of
  CHECKS runs < 50 ms.

Like timeit, a dedupe gets up to three runs and counts its best, so one moment of a busy machine
does not fail it; the CPU seconds beside the wall clock show when it waited for a processor.
Prints one line per figure and exits 1 when any limit is missed.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from brightrun_gen.config import Settings  # noqa: E402
from brightrun_gen.domain.catalog import build_plan, load_catalog  # noqa: E402
from brightrun_gen.domain.models import Turn  # noqa: E402
from brightrun_gen.services import dedupe  # noqa: E402
from brightrun_gen.services.setup import open_engine  # noqa: E402
from brightrun_gen.store import bulk, tables as t  # noqa: E402
from brightrun_gen.store.db import write  # noqa: E402

CONVERSATIONS = 10_000
TURNS = 12
PLANTED = 50
THRESHOLD = 0.8
MAX_SECONDS, MAX_MB, MAX_CHECK_MS = 30.0, 500.0, 50.0
CHECKS = 25
ATTEMPTS = 3
VOCABULARY = [f"w{n}" for n in range(6_000)]
WEIGHTS = [1 / (rank + 10) for rank in range(len(VOCABULARY))]  # Zipf-like: a few words are everywhere


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        return run_one(sys.argv[2], sys.argv[3])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="brightrun-bench-") as tmp:
        server = None
        if args.database == "postgresql":
            from tests.support.postgres import TemporaryPostgres

            server = TemporaryPostgres().start()
            url = server.url(server.create_database())
        else:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        try:
            started = time.perf_counter()
            planted = build_store(url)
            print(f"store ({args.database}): {CONVERSATIONS} conversations x {TURNS} turns, {PLANTED} planted "
                  f"rewrites, built in {time.perf_counter() - started:.1f} s")
            results = [measure(url, "conversations", planted), measure(url, "turns", planted), measure(url, "check")]
        finally:
            if server:
                server.stop()
    failed = [r["label"] for r in results if not r["ok"]]
    print("PASS" if not failed else f"FAIL: {', '.join(failed)}")
    return 1 if failed else 0


# --- the store -------------------------------------------------------------------------------


def build_store(url: str) -> list[tuple[str, str]]:
    """The bulk-written store; returns the planted (original, rewrite) key pairs."""
    settings = Settings(_env_file=None, database_url=url)
    engine = open_engine(url, settings)
    plan = build_plan(load_catalog(settings.catalog_dir))
    rng = random.Random(7)
    originals = CONVERSATIONS - PLANTED
    texts = [conversation_texts(rng) for _ in range(originals)]
    sources = rng.sample(range(originals), PLANTED)
    texts += [light_rewrite(texts[n], rng) for n in sources]
    items = [bulk.BulkConversation(key=f"D{n:05d}", dimensions=plan[n % len(plan)].dimensions,
                                   turns=[Turn(role=role, content=content) for role, content in turns],
                                   model="claude-sonnet-5-5")
             for n, turns in enumerate(texts)]
    with write(engine) as conn:
        bulk.add_conversations(conn, items)
    engine.dispose()
    return [(f"D{source:05d}", f"D{originals + n:05d}") for n, source in enumerate(sources)]


def conversation_texts(rng: random.Random) -> list[tuple[str, str]]:
    """Twelve alternating turns: clients 40–120 words, the advisor 90–220."""
    return [("user", words(rng, 40, 120)) if i % 2 == 0 else ("assistant", words(rng, 90, 220)) for i in range(TURNS)]


def words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(VOCABULARY, WEIGHTS, k=rng.randint(low, high))) + "."


def light_rewrite(turns: list[tuple[str, str]], rng: random.Random) -> list[tuple[str, str]]:
    """Three words changed in each of three turns."""
    rewritten = list(turns)
    for index in rng.sample(range(len(turns)), 3):
        role, content = rewritten[index]
        tokens = content.split()
        for position in rng.sample(range(len(tokens)), 3):
            tokens[position] = "rewritten"
        rewritten[index] = (role, " ".join(tokens))
    return rewritten


# --- one measurement per process -------------------------------------------------------------


def measure(url: str, what: str, planted: list[tuple[str, str]] | None = None) -> dict:
    if what == "check":
        run = run_in_process(url, what)
        ok = run is not None and run["median_ms"] < MAX_CHECK_MS
        if run:
            print(f"check one conversation against {CONVERSATIONS:,}: median {run['median_ms']:.1f} ms, max "
                  f"{run['max_ms']:.1f} ms over {CHECKS} checks (limit {MAX_CHECK_MS:.0f} ms)   {'ok' if ok else 'OVER LIMIT'}")
        return {"label": what, "ok": ok}
    runs = []
    for _ in range(ATTEMPTS):
        run = run_in_process(url, what)
        if run is None:
            return {"label": what, "ok": False}
        runs.append(run)
        if run["seconds"] < MAX_SECONDS and run["peak_mb"] < MAX_MB:
            break
    best = min(runs, key=lambda r: r["seconds"])
    found = {tuple(pair) for pair in best["pairs"]}
    missed = [p for p in planted if p not in found] if what == "conversations" else []
    ok = best["seconds"] < MAX_SECONDS and best["peak_mb"] < MAX_MB and not missed
    print(f"dedupe --scope {what:13s} {best['seconds']:5.1f} s (cpu {best['cpu_seconds']:5.1f} s, best of "
          f"{len(runs)})   peak {best['peak_mb']:6.1f} MB   {best['count']} pair(s) at {THRESHOLD}"
          + (f", {PLANTED - len(missed)} of {PLANTED} planted rewrites found" if what == "conversations" else "")
          + f"   {'ok' if ok else 'OVER LIMIT'}")
    return {"label": f"dedupe --scope {what}", "ok": ok}


def run_in_process(url: str, what: str) -> dict | None:
    done = subprocess.run([sys.executable, __file__, "--one", what, url], capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return None
    return json.loads(done.stdout)


def run_one(what: str, url: str) -> int:
    engine = open_engine(url, Settings(_env_file=None, database_url=url))
    if what == "check":
        return _check(engine)
    if what == "conversations":  # from an empty index, as on a store that was never indexed
        with write(engine) as conn:
            conn.execute(t.signature_bands.delete())
            conn.execute(t.conversation_signatures.delete())
    started, cpu_started = time.perf_counter(), time.process_time()
    pairs = dedupe.pairs(engine, THRESHOLD, what)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mb": _peak_mb(), "count": len(pairs),
                      "pairs": [(p.a, p.b) for p in pairs if p.scope == "conversations"]}))
    return 0


def _check(engine) -> int:
    rng = random.Random(11)
    timings = []
    for _ in range(CHECKS):
        turns = [Turn(role=role, content=content) for role, content in conversation_texts(rng)]
        started = time.perf_counter()
        dedupe.near_duplicate(engine, turns, threshold=THRESHOLD)
        timings.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"median_ms": statistics.median(timings), "max_ms": max(timings)}))
    return 0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports kilobytes


if __name__ == "__main__":
    sys.exit(main())
