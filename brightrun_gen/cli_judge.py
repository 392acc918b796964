"""`brightrun repair | judge | report templates`: repairs from a reviewer's notes, judging stored
conversations, template scorecards."""

from __future__ import annotations

import sys

from brightrun_gen.cli_common import app_for, print_json
from brightrun_gen.cli_generate import ProgressBar
from brightrun_gen.config import PROVIDERS
from brightrun_gen.domain.verdicts import verdict_line


def register(sub, common) -> None:
    p = sub.add_parser("repair", parents=[common],
                       help="write a new version of a conversation from a reviewer's notes (approved text stays)")
    p.add_argument("id", help="numeric id or key")
    p.add_argument("--notes", required=True, help="what should change, as a reviewer would write it")
    p.add_argument("--version", type=int, help="the version to start from (default: the current one)")
    p.add_argument("--provider", choices=PROVIDERS)
    p.add_argument("--model")
    p.set_defaults(func=cmd_repair)
    p = sub.add_parser("judge", parents=[common],
                       help="judge conversations as they are (seeds, imports, a new rubric): no gate, no repair")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--provider", choices=PROVIDERS, help="whose judge: Claude's (anthropic) or the offline one")
    p.set_defaults(func=cmd_judge)
    p = sub.add_parser("report", parents=[common], help="reports over the log and the decisions")
    reports = p.add_subparsers(dest="report", required=True, metavar="REPORT")
    t = reports.add_parser("templates", parents=[common],
                           help="per template and rubric version: decisions, approval rate, judge scores, cost")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=cmd_report_templates)


def cmd_repair(args) -> int:
    app = app_for(args)
    bar = ProgressBar()
    result = app.reviews.repair_now(args.id, args.notes, provider=args.provider, model=args.model,
                                    version=args.version, on_progress=bar.draw)
    bar.finish()
    if result.status == "failed":
        print(f"{result.key}: repair failed after {result.attempts} attempt(s): {result.error}", file=sys.stderr)
        return 1
    versions = app.judgements.panel(args.id).versions
    newest = versions[-1]
    kept = "" if newest.current else f"; version {app.conversations.detail(args.id).row.current_version} stays approved"
    print(f"{result.key}: version {newest.version} written with {result.model} from version "
          f"{newest.parent_version} ({newest.label}), cost ${result.cost_usd:.4f}{kept}")
    judged = app.judgements.panel(args.id, version=newest.version).judgement
    if judged:
        print(f"  {verdict_line(judged)}")
    return 0


def cmd_judge(args) -> int:
    app = app_for(args)
    for ref in args.ids:
        judged = app.judgements.judge(ref, provider=args.provider)
        print(f"{ref}: {verdict_line(judged)}")
    return 0


def show_judgement(judged: dict | None) -> None:
    """The judgement of `show ID`: the verdict, then each criterion with its evidence and fix."""
    if not judged:
        return
    print(f"\n{verdict_line(judged)}")
    for c in judged["criteria"]:
        where = f"turn {c['evidence_turn']}" if c["evidence_turn"] else "not a quote"
        quote = f"\"{c['evidence']}\" ({where})" if c["evidence"] else "(nothing in the conversation says it)"
        print(f"  {c['name']} {c['score']}/5: {quote} -> {c['suggestion']}")


def cmd_report_templates(args) -> int:
    cards = app_for(args).report.templates()
    if args.json:
        print_json([card.as_dict() for card in cards])
        return 0
    if not cards:
        print("no generated conversations yet: nothing to score")
        return 0
    for c in cards:
        rate = "-" if c.approval_rate is None else f"{c.approval_rate:.0%}"
        agree = "-" if c.agreement is None else f"{c.agreement:.0%}"
        print(f"{c.template} {c.template_hash[:10]}  rubric {c.rubric_hash[:10]}: {c.generated} generated, "
              f"{c.approved} approved, {c.needs_edit} needs edit, {c.rejected} rejected, approval {rate}, "
              f"{c.mean_attempts} attempts and ${c.mean_cost_usd:.4f} per version")
        if c.criteria:
            print("    judge: " + ", ".join(f"{name} {score:.1f}" for name, score in c.criteria.items()))
        print(f"    judge vs reviewers: agree {agree} of {c.judged_and_decided}, passed but rejected "
              f"{c.passed_but_rejected}, failed but approved {c.failed_but_approved}")
    return 0
