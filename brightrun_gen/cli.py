"""`brightrun`: the command line over the same services the app uses."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from brightrun_gen import cli_dataset, cli_documents, cli_export, cli_generate, cli_judge, cli_plan, cli_review
from brightrun_gen.cli_judge import show_judgement
from brightrun_gen.cli_common import LOG_LEVELS, app_for, configure_logging, parse_where, print_json
from brightrun_gen.config import get_settings
from brightrun_gen.domain.vocabulary import STATUSES
from brightrun_gen.errors import BrightRunError, InputError


def cmd_init(args) -> int:
    app = app_for(args)
    report = app.initialize()
    print(f"database: {app.database}")
    for line in report.lines():
        print(line)
    return 1 if any(r.outcome == "failed" for r in report.seeds) else 0


def cmd_import(args) -> int:
    results = app_for(args).conversations.import_files(args.paths)
    for result in results:
        print(result.line())
    imported = [r for r in results if r.outcome == "imported"]
    print(f"{len(imported)} imported ({sum(r.conversations for r in imported)} conversations, "
          f"{sum(r.turns for r in imported)} turns), "
          f"{sum(r.outcome == 'duplicate' for r in results)} duplicate, "
          f"{sum(r.outcome == 'failed' for r in results)} failed")
    return 1 if any(r.outcome == "failed" for r in results) else 0


def cmd_list(args) -> int:
    where = parse_where(args.where)
    if args.tier:
        where["tier"] = [str(args.tier)]
    rows = app_for(args).conversations.list(where=where, statuses=args.status or (), persona_text=args.persona or "")
    if args.json:
        print_json([r.as_dict() for r in rows])
        return 0
    for r in rows:
        d = r.dimensions
        score = f"{r.quality_score:4.1f}" if r.quality_score is not None else "   -"
        print(f"{r.id:5d}  {r.key:16.16s} T{d.tier}  {r.status:13s} {score}  {d.persona:26.26s} "
              f"{d.emotion_start}->{d.emotion_end}  {d.topic}")
    print(f"{len(rows)} conversation(s)")
    return 0


def cmd_show(args) -> int:
    app = app_for(args)
    if args.json:
        print_json(app.conversations.as_json(args.id))
        return 0
    detail = app.conversations.detail(args.id)
    row = detail.row
    print(f"#{row.id} {row.key}  tier {row.dimensions.tier}  {row.status}  model: {row.model or '-'}  "
          f"score: {row.quality_score if row.quality_score is not None else '-'}")
    for name, value in row.dimensions.model_dump().items():
        if value is not None:
            print(f"  {name}: {value}")
    history = app.reviews.history(row.id)
    if history:
        last = history[-1]
        print(f"decision: {last['action']} (version {last['version']}) by {last['reviewer']} at "
              f"{last['at']:%Y-%m-%d %H:%M}" + (f": {last['notes']}" if last["notes"] else ""))
    if row.failed_at:
        print(f"last attempt failed at {row.failed_at:%Y-%m-%d %H:%M}: {row.last_error}")
    for turn in detail.turns:
        print(f"\n[{turn.role}] ({turn.word_count} words)\n{turn.content}")
    if detail.quality:
        failed = [c for c in detail.quality["criteria"] if not c["passed"]]
        print("\nquality: " + (", ".join(f"{c['name']}: {c['detail']}" for c in failed) or "all rules pass"))
    show_judgement(app.conversations.as_json(args.id)["judgement"])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="brightrun", description="Plan, generate, review and export training conversations.")
    parser.add_argument("--db", help="SQLAlchemy database URL (default: BRIGHTRUN_DATABASE_URL or data/brightrun.db)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more: -v for INFO, -vv for DEBUG")
    parser.add_argument("--log-level", choices=LOG_LEVELS, type=str.upper, help="log level (default WARNING)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--log-level", choices=LOG_LEVELS, type=str.upper, default=argparse.SUPPRESS,
                        help=argparse.SUPPRESS)

    p = sub.add_parser("init", parents=[common], help="create or migrate the schema, load catalog, plan and seeds")
    p.set_defaults(func=cmd_init)
    p = sub.add_parser("import-seeds", parents=[common], help="import seed/conversation files or folders")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("list", parents=[common], help="list conversations")
    p.set_defaults(func=cmd_list)
    p.add_argument("--status", action="append", choices=STATUSES)
    p.add_argument("--tier", type=int, choices=[1, 2, 3])
    p.add_argument("--persona", help="text to match in the persona key, name or archetype")
    p.add_argument("--where", action="append", metavar="KEY=VALUE", help="filter on a dimension (repeatable)")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("show", parents=[common], help="show one conversation with its turns and metadata")
    p.add_argument("id", help="numeric id or key (e.g. T1-001)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)
    for group in COMMAND_GROUPS:
        group.register(sub, common)
    return parser


# Command groups kept in their own modules; each has register(subparsers, common_parent).
COMMAND_GROUPS: list = [cli_generate, cli_export, cli_plan, cli_documents, cli_dataset, cli_judge, cli_review]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args)
    try:
        if getattr(args, "db", None) is None:
            args.db = get_settings().database_url
        return args.func(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrightRunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
