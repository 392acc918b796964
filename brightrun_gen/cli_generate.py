"""`brightrun generate | estimate | logs | status | stop | resume | worker`."""

from __future__ import annotations

import argparse
import sys
import time

from brightrun_gen.cli_common import app_for, parse_where
from brightrun_gen.config import PROVIDERS
from brightrun_gen.domain.verdicts import verdict_line
from brightrun_gen.errors import InputError


def register(sub, common) -> None:
    p = sub.add_parser("generate", parents=[common], help="generate one row, some rows or all of them")
    p.add_argument("id", nargs="?", help="one conversation id or key (a job of one, run here)")
    _selection_args(p)
    p.add_argument("--concurrency", type=int, help="conversations at once (default: setting, 4)")
    p.add_argument("--batch", action="store_true", help="use the Message Batches API (half price, slower)")
    p.add_argument("--provider", choices=PROVIDERS)
    p.add_argument("--model")
    p.add_argument("--max-cost", type=float, metavar="USD",
                   help="budget cap: stop claiming before the job would spend more (default: setting max_cost_usd)")
    p.set_defaults(func=cmd_generate)
    p = sub.add_parser("estimate", parents=[common], help="expected cost and time of generating rows")
    _selection_args(p)
    p.add_argument("--provider", choices=PROVIDERS)
    p.add_argument("--model")
    p.add_argument("--batch", action="store_true")
    p.set_defaults(func=cmd_estimate)
    p = sub.add_parser("logs", parents=[common], help="the generation attempts (of one conversation)")
    p.add_argument("id", nargs="?")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_logs)
    p = sub.add_parser("status", parents=[common], help="progress of a job (default: recent jobs)")
    p.add_argument("job", nargs="?", type=int)
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("stop", parents=[common], help="stop a job; finished conversations stay")
    p.add_argument("job", type=int)
    p.set_defaults(func=cmd_stop)
    p = sub.add_parser("resume", parents=[common], help="run unfinished job(s) to completion in the foreground")
    p.add_argument("job", nargs="?", type=int)
    p.add_argument("--concurrency", type=int)
    p.add_argument("--max-cost", type=float, metavar="USD",
                   help="a new budget cap for JOB; a job stopped at its cap goes on")
    p.set_defaults(func=cmd_resume)
    p = sub.add_parser("worker", parents=[common], help="a long-running worker that drains the queue")
    p.add_argument("--once", action="store_true", help="drain what is queued now, then exit")
    p.add_argument("--concurrency", type=int)
    p.set_defaults(func=cmd_worker)


def _selection_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--all", action="store_true", help="every row not yet generated (or failed)")
    p.add_argument("--ids", nargs="+", metavar="ID", help="these conversations")
    p.add_argument("--where", action="append", metavar="KEY=VALUE", help="rows matching a dimension (repeatable)")


def _selection(args, app) -> tuple[str, list[int], dict]:
    chosen = [bool(args.all), bool(args.ids), bool(args.where)]
    if sum(chosen) != 1:
        raise InputError("choose exactly one of ID, --all, --ids ID... or --where KEY=VALUE")
    if args.ids:
        return "selected", [app.conversations.find_id(i) for i in args.ids], {}
    where = parse_where(args.where) if args.where else {}
    return ("filter" if where else "all"), [], where


def cmd_generate(args) -> int:
    app = app_for(args)
    if args.id:
        if args.all or args.ids or args.where:
            raise InputError("give either one ID or a selection (--all, --ids, --where), not both")
        return _generate_single(app, args)
    kind, ids, where = _selection(args, app)
    result = app.jobs.enqueue(kind=kind, ids=ids, where=where, provider=args.provider, model=args.model,
                              concurrency=args.concurrency, use_batch=args.batch, max_cost=args.max_cost)
    print(f"job {result.job_id}: {result.enqueued} queued" + (f", {result.skipped} already queued" if result.skipped else ""))
    advice = None if args.batch else app.jobs.batch_advice(result.enqueued, provider=args.provider, model=args.model)
    if advice:
        print(advice, file=sys.stderr)
    return _run_jobs(app, [result.job_id], args.concurrency)


def _generate_single(app, args) -> int:
    """A job of one, run here: the same queue, runner and retries as the UI's Generate button."""
    bar = ProgressBar()
    result = app.jobs.generate_now(args.id, provider=args.provider, model=args.model, on_progress=bar.draw,
                                   max_cost=args.max_cost)
    bar.finish()
    if result.status == "failed":
        print(f"{result.key}: failed after {result.attempts} attempt(s): {result.error}", file=sys.stderr)
        return 1
    print(f"{result.key}: generated version {result.version} with {result.model}, quality {result.quality_score}/10, "
          f"cost ${result.cost_usd:.4f}, {result.attempts} attempt(s)")
    judged = app.conversations.as_json(result.key)["judgement"]
    if judged:
        print(f"  {verdict_line(judged)}")
    return 0


def _run_jobs(app, job_ids: list[int], concurrency: int | None) -> int:
    bar = ProgressBar()
    failed = 0
    for snap in app.jobs.run(job_ids, concurrency=concurrency, on_progress=bar.draw):
        bar.finish()
        print(snap.summary())
        for error in snap.errors:
            print(f"  {error['key']}: {error['error']}")
        if snap.stopped_by_budget:
            print(f"  to go on: brightrun resume {snap.job_id} --max-cost USD (more than ${snap.max_cost_usd:.2f})")
        failed += snap.failed
    return 1 if failed else 0


class ProgressBar:
    """One line on stderr, redrawn in place: bar, counts, cost, ETA, current item."""

    def __init__(self, width: int = 30):
        self.width = width
        self.tty = sys.stderr.isatty()
        self._last = ""

    def draw(self, snap) -> None:
        filled = int(self.width * snap.fraction)
        eta = f" ETA {_duration(snap.eta_seconds)}" if snap.eta_seconds is not None and snap.active else ""
        current = f"  {snap.current[0]}" if snap.current else ""
        line = (f"[{'#' * filled}{'.' * (self.width - filled)}] {snap.done}/{snap.total} "
                f"ok {snap.succeeded} failed {snap.failed} ${snap.cost_usd:.4f}{eta}{current}")
        if line != self._last:
            sys.stderr.write(("\r\033[K" + line) if self.tty else line + "\n")
            sys.stderr.flush()
            self._last = line

    def finish(self) -> None:
        if self.tty and self._last:
            sys.stderr.write("\n")
        self._last = ""


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def cmd_estimate(args) -> int:
    app = app_for(args)
    kind, ids, where = _selection(args, app)
    if kind != "selected":
        ids = app.jobs.ids_for_filter(where)
    print(app.jobs.estimate(ids, provider=args.provider, model=args.model, use_batch=args.batch).line())
    return 0


def cmd_logs(args) -> int:
    for e in app_for(args).jobs.attempts(args.id, limit=args.limit):
        detail = e.error or ""
        print(f"{e.created_at:%Y-%m-%d %H:%M:%S} {e.conversation_key:12s} {e.kind:8s} attempt {e.attempt} {e.outcome:7s} "
              f"{e.model} {e.template_name} stop={e.stop_reason} in={e.input_tokens} out={e.output_tokens} "
              f"cache_read={e.cache_read_tokens} ${e.cost_usd:.4f} {e.duration_ms}ms {detail}")
    return 0


def cmd_status(args) -> int:
    app = app_for(args)
    jobs = [args.job] if args.job else [j.id for j in app.jobs.list(limit=10)]
    if not jobs:
        print("no generation jobs yet")
    for job_id in jobs:
        snap = app.jobs.progress(job_id)
        eta = f", ETA {_duration(snap.eta_seconds)}" if snap.active and snap.eta_seconds is not None else ""
        print(snap.summary() + eta)
        for label in snap.current:
            print(f"  {label}")
    return 0


def cmd_stop(args) -> int:
    print(app_for(args).jobs.stop(args.job))
    return 0


def cmd_resume(args) -> int:
    app = app_for(args)
    if args.max_cost is not None:
        if not args.job:
            raise InputError("--max-cost needs the JOB it caps: brightrun resume JOB --max-cost USD")
        taken = app.jobs.raise_cap(args.job, args.max_cost)
        print(f"job {args.job}: budget cap ${args.max_cost:.2f}" + (f", {taken} item(s) taken again" if taken else ""))
    jobs = [args.job] if args.job else [j.id for j in reversed(app.jobs.list(active_only=True, limit=100))]
    if not jobs:
        print("nothing to resume: no unfinished jobs")
        return 0
    released = app.jobs.release_dead_owners()
    if released:
        print(f"reclaimed {released} item(s) from workers that are gone")
    return _run_jobs(app, jobs, args.concurrency)


def cmd_worker(args) -> int:
    app = app_for(args)
    runner = app.jobs.runner(concurrency=args.concurrency)
    print(f"worker {runner.owner} started", file=sys.stderr)
    if args.once:
        app.jobs.release_dead_owners()
        runner.run_until_idle()
        return 0
    runner.start_background()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        runner.shutdown()
    return 0
