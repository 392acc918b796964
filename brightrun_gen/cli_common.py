"""What every command group shares: the store from --db, --where parsing, JSON output."""

from __future__ import annotations

import argparse
import json
from typing import Sequence

from brightrun_gen.errors import InputError
from brightrun_gen.services.setup import open_engine
from brightrun_gen.store import conversations as conv_store


def engine_for(args: argparse.Namespace):
    return open_engine(args.db)


def print_json(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def parse_where(pairs: Sequence[str]) -> dict[str, list[str]]:
    """KEY=VALUE pairs (repeatable, comma lists allowed) into a dimension filter."""
    where: dict[str, list[str]] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise InputError(f"--where {pair!r}: expected KEY=VALUE, e.g. --where persona=marcus_thompson")
        if key not in conv_store.DIMENSION_COLUMNS:
            raise InputError(f"--where {pair!r}: unknown key {key!r}; use one of {', '.join(conv_store.DIMENSION_COLUMNS)}")
        where.setdefault(key, []).extend(v.strip() for v in value.split(","))
    return where
