"""`brightrun export`: the command line door to the app's exports."""

from __future__ import annotations

import argparse

from brightrun_gen.cli_common import app_for, parse_where, print_json
from brightrun_gen.domain.exportformats import FORMATS
from brightrun_gen.domain.vocabulary import STATUSES

ANY_STATUS = "any"


def register(subparsers, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "export", parents=[common], help="export conversations for training (approved only by default)",
        description="Formats: " + "; ".join(f"{f.name}: {f.description}" for f in FORMATS.values()),
    )
    p.add_argument("--format", "-f", required=True, choices=list(FORMATS))
    p.add_argument("--status", action="append", choices=[*STATUSES, ANY_STATUS],
                   help="status to export (repeatable; default approved, or any with --id)")
    p.add_argument("--tier", type=int, choices=[1, 2, 3])
    p.add_argument("--where", action="append", metavar="KEY=VALUE", help="filter on a dimension (repeatable)")
    p.add_argument("--id", action="append", dest="ids", metavar="ID_OR_KEY", help="export this conversation (repeatable)")
    p.add_argument("--split", type=float, metavar="RATIO", help="write train/val files, RATIO of each tier to train")
    p.add_argument("--seed", type=int, default=0, help="seed of the split (default 0)")
    p.add_argument("--include-offline", action="store_true", help="also export conversations the offline provider wrote")
    p.add_argument("--no-system", action="store_true", help="leave the advisor's system prompt out")
    p.add_argument("--dedupe", type=float, metavar="THRESHOLD",
                   help="leave out the later of each pair at least this similar (0.5 to 1); seeds always stay")
    p.add_argument("-o", "--output", required=True, metavar="PATH", help="file to write (split: PATH.train/.val)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_export)


def request_from_args(app, args: argparse.Namespace):
    where = parse_where(args.where)
    if args.tier:
        where["tier"] = [str(args.tier)]
    statuses = args.status
    if statuses and ANY_STATUS in statuses:
        statuses = []
    return app.exports.request(
        format=args.format, output=args.output, statuses=statuses, where=where, ids=args.ids or (),
        include_offline=args.include_offline, include_system=not args.no_system,
        split=args.split, seed=args.seed, dedupe=args.dedupe,
    )


def cmd_export(args: argparse.Namespace) -> int:
    app = app_for(args)
    result = app.exports.write(request_from_args(app, args))
    if args.json:
        print_json(_as_json(result))
        return 0
    for line in report_lines(result):
        print(line)
    return 0


def report_lines(result) -> list[str]:
    lines = [f"exported {result.conversations} conversation(s), {result.turns} turns, as {result.format}"]
    for f in result.files:
        label = f" ({f.split})" if f.split else ""
        lines.append(f"  {f.path}{label}: {f.conversations} conversation(s), {f.records} record(s), {f.bytes} bytes")
    lines.append(f"manifest: {result.manifest_path}")
    if result.offline_included:
        lines.append(f"offline conversations: {result.offline_included} included")
    if result.offline_excluded:
        lines.append(f"offline conversations: {result.offline_excluded} left out (--include-offline adds them)")
    if result.dedupe:
        lines.append(f"near-duplicates: {result.dedupe['dropped']} left out (similarity {result.dedupe['threshold']:g} "
                     "or more to one exported; listed in the manifest)")
    for reason, count in result.left_out.items():
        lines.append(f"left out: {count} conversation(s): {reason}")
    return lines


def _as_json(result) -> dict:
    return {
        "format": result.format,
        "conversations": result.conversations,
        "turns": result.turns,
        "files": [{**f.as_dict(), "path": str(f.path)} for f in result.files],
        "manifest": str(result.manifest_path),
        "offline_included": result.offline_included,
        "offline_excluded": result.offline_excluded,
        "left_out": result.left_out,
        "counts": result.counts,
        "dedupe": result.dedupe,
    }
