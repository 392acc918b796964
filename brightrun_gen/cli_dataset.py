"""`brightrun dedupe` and `brightrun phrases`: the dataset as a whole, from the command line."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from brightrun_gen.brightrun import Dataset
from brightrun_gen.cli_common import app_for, print_json

OFFLINE = " [offline]"


def register(subparsers, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("dedupe", parents=[common],
                              help="near-duplicate conversations (or turns) across the whole store")
    p.add_argument("--threshold", type=float, metavar="X",
                   help="least similarity of a listed pair, 0.5 to 1 (default: the near_duplicate_threshold setting)")
    p.add_argument("--scope", choices=Dataset.SCOPES, default="conversations",
                   help="compare whole conversations (default) or single turns of different conversations")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="pairs to print, most similar first (0: all)")
    p.add_argument("--json", action="store_true", help='print {"pairs": [...]} with every pair')
    p.set_defaults(func=cmd_dedupe)
    p = subparsers.add_parser("phrases", parents=[common],
                              help="phrases many conversations share, by role and position (the avoid list's source)")
    p.add_argument("--role", choices=Dataset.ROLES, help="only the advisor's (assistant) or the client's (user) turns")
    p.add_argument("--position", choices=Dataset.POSITIONS,
                   help="only the role's first turn (opening), last turn (closing), or any turn")
    p.add_argument("--top", type=int, default=50, metavar="N", help="phrases per role and position (default 50)")
    p.add_argument("--no-offline", action="store_true", help="leave conversations the offline generator wrote out")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_phrases)


def cmd_dedupe(args: argparse.Namespace) -> int:
    data = app_for(args).dataset
    threshold = data.threshold if args.threshold is None else args.threshold
    pairs = data.near_duplicates(threshold, args.scope)
    if args.json:
        print_json({"threshold": threshold, "scope": args.scope, "pairs": [p.as_dict() for p in pairs]})
        return 0
    shown = pairs if args.limit <= 0 else pairs[:args.limit]
    for pair in shown:
        print(f"{pair.similarity:.2f}  {_side(pair.a, pair.a_turn, pair.a_offline)}  ~  "
              f"{_side(pair.b, pair.b_turn, pair.b_offline)}")
    more = f" (showing {len(shown)}; --limit 0 shows all)" if len(shown) < len(pairs) else ""
    print(f"{len(pairs)} pair(s) of {args.scope} at similarity {threshold:.2f} or more{more}; "
          "the second of each pair was written later")
    return 0


def _side(key: str, turn: int | None, offline: bool) -> str:
    return f"{key}{f' turn {turn}' if turn else ''}{OFFLINE if offline else ''}"


def cmd_phrases(args: argparse.Namespace) -> int:
    stats = app_for(args).dataset.phrases(role=args.role, position=args.position, top=args.top,
                                           include_offline=not args.no_offline)
    if args.json:
        print_json({"conversations": stats.conversations, "offline": stats.offline, "per_role": stats.per_role,
                    "name_openings": {role: {"turns": turns, "open_with_name": named}
                                      for role, (named, turns) in stats.name_openings.items()},
                    "phrases": [{**asdict(p), "share": round(p.share, 3)} for p in stats.phrases]})
        return 0
    slot = None
    for phrase in stats.phrases:
        if (phrase.role, phrase.position) != slot:
            slot = (phrase.role, phrase.position)
            print(f"\n{phrase.role} · {phrase.position} (of {stats.per_role.get(phrase.role, 0)} conversations)")
        offline = f"  ({phrase.offline} offline)" if phrase.offline else ""
        print(f"  {phrase.share:4.0%} {phrase.conversations:5d}  {phrase.text}{offline}  e.g. {', '.join(phrase.examples)}")
    print(f"\n{stats.conversations} conversation(s) read ({stats.offline} offline); "
          f"{len(stats.phrases)} phrase(s) shown, each in 3 or more")
    for role, (named, turns) in stats.name_openings.items():
        if turns and args.role in (None, role):
            print(f"{role} turns that open with the client's first name: {named} of {turns} ({named / turns:.0%})")
    return 0
