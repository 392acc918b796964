"""`brightrun review`: record a decision from the command line, as the Review page does."""

from __future__ import annotations

import argparse

from brightrun_gen.cli_common import app_for, print_json
from brightrun_gen.domain.vocabulary import DECISION_LABELS

ACTIONS = ("approve", "needs-edit", "reject")


def register(subparsers, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "review", parents=[common], help="approve, mark needs-edit or reject a conversation",
        description="Record a review decision with its reviewer and notes, exactly as the Review page "
                    "records it (the conversation's status, its notes and an audit event).")
    p.add_argument("id", help="numeric id or key (e.g. T1-001)")
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("--notes", help="what is good, what needs to change (kept with the decision)")
    p.add_argument("--reviewer", help="who decides (default: the BRIGHTRUN_REVIEWER setting)")
    p.add_argument("--json", action="store_true", help="print the conversation's decision as JSON")
    p.set_defaults(func=cmd_review)


def cmd_review(args: argparse.Namespace) -> int:
    app = app_for(args)
    row = app.reviews.decide(args.id, args.action, reviewer=args.reviewer, notes=args.notes)
    decision = app.reviews.history(row.id)[-1]
    if args.json:
        print_json({"id": row.id, "key": row.key, "status": row.status, "version": decision["version"],
                    "reviewer": decision["reviewer"], "notes": decision["notes"], "at": decision["at"]})
        return 0
    notes = f": {decision['notes']}" if decision["notes"] else ""
    print(f"{row.key}: {DECISION_LABELS[row.status].lower()} (version {decision['version']}) "
          f"by {decision['reviewer']}{notes}")
    return 0
