"""`brightrun plan`, `brightrun voice` and `brightrun prompt`: the plan, the firm's voice, the exact prompt."""

from __future__ import annotations

from brightrun_gen.brightrun import Plan
from brightrun_gen.cli_common import app_for, print_json
from brightrun_gen.domain.planning import parse_tiers
from brightrun_gen.domain.voice import voice_lines

PLAN_ACTIONS = ("build", "check", "coverage", "fill", "repair")


def cmd_plan(args) -> int:
    plan = app_for(args).plan
    if args.action == "check":
        return _check(plan, args.json)
    if args.action == "coverage":
        return _coverage(plan, args.by, args.json)
    if args.action == "fill":
        change = plan.fill_gaps(args.target, by=args.by, seed=args.seed)
    elif args.action == "repair":
        change = plan.repair(seed=args.seed)
    else:
        change = plan.build(args.size, seed=args.seed, tiers=parse_tiers(args.tiers))
    if args.json:
        print_json({"added": change.added, "rebuilt": change.rebuilt, "tiers": change.tiers})
    else:
        print(change.line())
    return 0


def _check(plan: Plan, as_json: bool) -> int:
    result = plan.check()
    if as_json:
        print_json(result.as_dict())
    else:
        for contradiction in result.contradictions:
            print(contradiction.line())
        print(f"{result.rows} planned row(s): " + ("no contradictions" if result.clean else
                                                    f"{len(result.contradictions)} contradiction(s)"))
    return 0 if result.clean else 1


def _coverage(plan: Plan, by: str, as_json: bool) -> int:
    grid = plan.coverage(by)
    if as_json:
        print_json({"by": grid.by, "columns": grid.columns, "cells": [
            {"persona": p, "column": c, "counts": grid.cell(p, c).counts, "feasible": grid.cell(p, c).feasible}
            for p, _ in grid.personas for c in grid.columns]})
        return 0
    width = max(len(c) for c in grid.columns) + 1
    print(f"{'persona':28s}" + "".join(f"{c[:width - 1]:>{width}s}" for c in grid.columns))
    for key, label in grid.personas:
        cells = [grid.cell(key, c) for c in grid.columns]
        print(f"{label[:27]:28s}" + "".join(f"{(str(x.total) if x.feasible else '-'):>{width}s}" for x in cells))
    print("counts are conversations of every status; '-' marks a cell no row can fill")
    return 0


def cmd_voice(args) -> int:
    catalog = app_for(args).catalog
    if args.paths or not args.show:
        report = catalog.measure_voice(args.paths)
        profile, source, note = report.profile, report.source, "stored" if report.stored else "unchanged"
    else:
        found = catalog.voice()
        if found is None:
            print("no voice profile yet: run `brightrun voice` after importing the firm's seed files")
            return 1
        (profile, source), note = found, "in use"
    if args.json:
        print_json({"source": source, "profile": profile.model_dump()})
        return 0
    print(f"voice profile ({note}), measured from {source}")
    for line in voice_lines(profile):
        print(f"  {line}")
    return 0


def cmd_prompt(args) -> int:
    view = app_for(args).conversations.prompt(args.id)
    if args.json:
        print_json(view.as_dict())
        return 0
    for section in ("system", "context", "request"):
        print(f"===== {section} =====")
        print(getattr(view, section).rstrip("\n"))
    print("===== summary =====")
    for line in view.summary():
        print(line)
    return 0


def register(sub, common) -> None:
    p = sub.add_parser("plan", parents=[common], help="build or extend the plan, check it, see and fill its coverage")
    p.add_argument("action", nargs="?", choices=PLAN_ACTIONS, default="build",
                   help="build (default): extend to --size; check: list contradictions (exit 1 if any); "
                        "coverage: persona × storyline counts; fill: add rows to cells below --target; "
                        "repair: rebuild contradictory rows nobody has written yet")
    p.add_argument("--size", type=int, default=Plan.DEFAULT_SIZE, help=f"rows in the plan (default {Plan.DEFAULT_SIZE})")
    p.add_argument("--seed", type=int, default=Plan.DEFAULT_SEED, help="seed for the plan's ties (default %(default)s)")
    p.add_argument("--tiers", default=":".join(map(str, Plan.DEFAULT_TIERS)),
                   help="shares of tiers 1:2:3 (default %(default)s)")
    p.add_argument("--by", choices=Plan.COVERAGE_BY, default="storyline", help="coverage columns (default %(default)s)")
    p.add_argument("--target", type=int, default=1, help="fill: conversations wanted per cell (default %(default)s)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("voice", parents=[common], help="measure the firm's voice from its real conversations")
    p.add_argument("--from", dest="paths", nargs="+", metavar="PATH",
                   help="seed files or folders (default: the firm's conversations already imported)")
    p.add_argument("--show", action="store_true", help="show the profile in use without measuring again")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_voice)

    p = sub.add_parser("prompt", parents=[common], help="print the exact prompt a conversation would be sent")
    p.add_argument("id", help="numeric id or key (e.g. T2-014)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_prompt)
