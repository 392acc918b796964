"""Opening the store and `brightrun init`: schema, catalog, plan, templates, our seed conversations."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from brightrun_gen.config import Settings, get_settings
from brightrun_gen.domain.catalog import build_plan, load_catalog
from brightrun_gen.domain.models import Dimensions
from brightrun_gen.domain.seedfiles import parse_seed_file
from brightrun_gen.errors import SeedFileError
from brightrun_gen.services import judging, planning
from brightrun_gen.services.importing import ImportResult, expand_paths, import_paths
from brightrun_gen.services.templates import sync_templates
from brightrun_gen.store import catalog_repo, conversations as conv_store, plan_rows
from brightrun_gen.store.db import describe, make_engine, write
from brightrun_gen.store.migrations import migrate


@dataclass
class InitReport:
    migrations: list[str]
    catalog_added: int
    planned_added: int
    templates_added: int
    seeds: list[ImportResult] = field(default_factory=list)
    rubric_added: bool = False
    contradictions: int = 0  # in rows stored before (a plan made under older catalog rules)

    def lines(self) -> list[str]:
        seeds = sum(1 for r in self.seeds if r.outcome == "imported")
        updated = sum(1 for r in self.seeds if r.outcome == "updated")
        stale = [f"plan check: {self.contradictions} contradiction(s) in stored rows: `brightrun plan check` lists "
                 "them, `brightrun plan repair` rebuilds the unwritten ones"] if self.contradictions else []
        return [
            f"schema: {', '.join(self.migrations) if self.migrations else 'up to date'}",
            f"catalog: {self.catalog_added} entries added or updated",
            f"prompt templates: {self.templates_added} added",
            f"judge rubric: {'new version stored' if self.rubric_added else 'up to date'}",
            f"plan: {self.planned_added} conversations added",
            f"seed conversations: {seeds} imported" + (f", {updated} file(s) brought up to date" if updated else ""),
            *[r.line() for r in self.seeds if r.outcome == "failed"],
            *stale,
        ]


def open_engine(url: str | None = None, settings: Settings | None = None) -> Engine:
    """An engine on `url` (or the configured database) with the schema up to date."""
    settings = settings or get_settings()
    engine = make_engine(url or settings.database_url)
    migrate(engine)
    return engine


def initialize(engine: Engine, settings: Settings | None = None) -> InitReport:
    """Idempotent: a second run adds nothing.

    The default plan is built before anything is written; a catalog that yields contradictions
    (`brightrun plan check` lists them) stops init with the first one.
    """
    settings = settings or get_settings()
    applied = migrate(engine)
    catalog = load_catalog(settings.catalog_dir)
    plan = build_plan(catalog, seeds=_our_seed_stories(settings))
    with write(engine) as conn:
        added = catalog_repo.save_catalog(conn, catalog)
        taken = conv_store.existing_keys(conn, [row.key for row in plan])
        new_rows = [row for row in plan if row.key not in taken]
        for row in new_rows:
            plan_rows.add_planned_row(conn, row)
    templates = sync_templates(engine, settings.prompts_dir)
    rubric = judging.sync_rubric(engine, settings)
    seeds = import_paths(engine, [settings.seed_dir], refresh_seeds=True)
    stale = len(planning.check(engine).contradictions)
    return InitReport(applied, added, len(new_rows), templates, seeds, rubric_added=rubric, contradictions=stale)


def _our_seed_stories(settings: Settings) -> list[Dimensions]:
    """What our own seed conversations are about, read from their files: no planned row re-runs one."""
    found = []
    for path in expand_paths([settings.seed_dir]):
        try:
            found += [record.dimensions for record in parse_seed_file(path)]
        except SeedFileError:
            continue  # the import below reports the file
    return found


def database_label(engine: Engine) -> str:
    """Which database is in use, without its password."""
    return describe(engine)
