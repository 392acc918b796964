"""Firm documents at scale on SQLite: import 500 documents / 20,000 chunks, then retrieve per row.

Targets (issue 14): the import in < 60 s, retrieval for one row < 20 ms at 20,000 chunks (95th
percentile over every planned row, with the index built), the process's peak memory during the
import < 300 MB. Prints the figures and exits 1 on a miss.

    .venv/bin/python bench/bench_documents.py [--documents 500]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from brightrun_gen.brightrun import BrightRun  # noqa: E402
from brightrun_gen.config import Settings  # noqa: E402

IMPORT_SECONDS = 60.0
RETRIEVAL_MS = 20.0
PEAK_MB = 300.0
SECTIONS = 40  # one chunk each at the default budget: 500 documents make 20,000 chunks

SUBJECTS = ["emergency fund", "credit card balance", "student loan", "Roth IRA", "401(k) match", "index fund",
            "term life policy", "disability cover", "mortgage prepayment", "Social Security claim", "college fund",
            "business line of credit", "required minimum distribution", "umbrella policy", "sinking fund"]
RULES = ["keeps {n} months of expenses in cash", "pays {n}% of take-home pay toward it", "reviews it every {n} months",
         "never lets it fall below ${n},000", "checks it against a {n}% target", "moves it after {n} years"]
FILLER = ("The planner explains the reason before the rule, asks what the client already knows and writes the "
          "next step down with a date. Clients with irregular income start smaller and build up over a year.")


def document(rng: random.Random, number: int) -> str:
    parts = [f"# Practice note {number}: {rng.choice(SUBJECTS)}"]
    for section in range(SECTIONS):
        subject = rng.choice(SUBJECTS)
        parts.append(f"## {subject.capitalize()} rule {section + 1}")
        sentences = [f"For a {subject}, the firm {rng.choice(RULES).format(n=rng.randint(2, 12))}." for _ in range(5)]
        parts.append(" ".join(sentences) + " " + FILLER + " " + FILLER)
    return "\n\n".join(parts)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=500)
    args = parser.parse_args()
    rng = random.Random(14)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        for number in range(args.documents):
            (folder / f"note-{number:04d}.md").write_text(document(rng, number), encoding="utf-8")
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(_env_file=None, anthropic_api_key=None, provider="offline", database_url=url)
        with BrightRun(settings, database_url=url) as app:
            app.initialize()
            before = peak_mb()
            started = time.perf_counter()
            results = app.documents.import_files([folder])
            import_seconds = time.perf_counter() - started
            import_peak = peak_mb()
            chunks = sum(r.chunks for r in results)
            failed = [r.line() for r in results if r.outcome != "imported"]
            rows = [row.key for row in app.conversations.list() if row.source == "plan"]
            started = time.perf_counter()
            app.documents.for_row(rows[0])
            build_seconds = time.perf_counter() - started
            timings = []
            for key in rows:
                started = time.perf_counter()
                app.documents.for_row(key)
                timings.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(timings, n=20)[-1]
    print(f"import: {len(results)} documents, {chunks} chunks in {import_seconds:.1f} s "
          f"({chunks / import_seconds:,.0f} chunks/s; target < {IMPORT_SECONDS:.0f} s)")
    print(f"peak memory: {import_peak:.0f} MB during the import ({before:.0f} MB before it; target < {PEAK_MB:.0f} MB)")
    print(f"retrieval: index of {chunks} chunks built in {build_seconds:.2f} s; per row over {len(timings)} rows: "
          f"median {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, max {max(timings):.1f} ms "
          f"(target p95 < {RETRIEVAL_MS:.0f} ms)")
    misses = []
    if failed:
        misses.append(f"{len(failed)} documents not imported: {failed[:3]}")
    if import_seconds >= IMPORT_SECONDS:
        misses.append("import too slow")
    if import_peak >= PEAK_MB:
        misses.append("import peak memory too high")
    if p95 >= RETRIEVAL_MS:
        misses.append("retrieval too slow")
    for miss in misses:
        print(f"MISS: {miss}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
