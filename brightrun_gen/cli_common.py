"""What every command group shares: the app from --db, --where parsing, JSON output, logging."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Sequence

from brightrun_gen.brightrun import BrightRun
from brightrun_gen.config import get_settings
from brightrun_gen.domain.models import DIMENSION_NAMES, VARIATION_FILTERS
from brightrun_gen.errors import InputError

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def app_for(args: argparse.Namespace) -> BrightRun:
    """The app on --db (or the configured database), schema up to date; built once per command."""
    if getattr(args, "_app", None) is None:
        args._app = BrightRun(get_settings(), database_url=args.db)
    return args._app


def configure_logging(args: argparse.Namespace) -> None:
    """Log lines go to stderr: WARNING by default, -v for INFO, -vv (or --log-level DEBUG) for DEBUG."""
    level = args.log_level or ("DEBUG" if args.verbose >= 2 else "INFO" if args.verbose == 1 else "WARNING")
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)


def print_json(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def parse_where(pairs: Sequence[str]) -> dict[str, list[str]]:
    """KEY=VALUE pairs (repeatable, comma lists allowed) into a dimension filter."""
    where: dict[str, list[str]] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise InputError(f"--where {pair!r}: expected KEY=VALUE, e.g. --where persona=marcus_thompson")
        if key not in DIMENSION_NAMES + VARIATION_FILTERS:
            raise InputError(f"--where {pair!r}: unknown key {key!r}; use one of "
                             f"{', '.join(DIMENSION_NAMES + VARIATION_FILTERS)}")
        where.setdefault(key, []).extend(v.strip() for v in value.split(","))
    return where
