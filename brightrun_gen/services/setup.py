"""Opening the store and `brightrun init`: schema, catalog, plan, templates, our seed conversations."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from brightrun_gen.config import Settings, get_settings
from brightrun_gen.domain.catalog import build_plan, load_catalog
from brightrun_gen.services import judging
from brightrun_gen.services.importing import ImportResult, import_paths
from brightrun_gen.services.templates import sync_templates
from brightrun_gen.store import catalog_repo, conversations as conv_store
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

    def lines(self) -> list[str]:
        seeds = sum(1 for r in self.seeds if r.outcome == "imported")
        return [
            f"schema: {', '.join(self.migrations) if self.migrations else 'up to date'}",
            f"catalog: {self.catalog_added} entries added",
            f"prompt templates: {self.templates_added} added",
            f"judge rubric: {'new version stored' if self.rubric_added else 'up to date'}",
            f"plan: {self.planned_added} conversations added",
            f"seed conversations: {seeds} imported",
            *[r.line() for r in self.seeds if r.outcome == "failed"],
        ]


def open_engine(url: str | None = None, settings: Settings | None = None) -> Engine:
    """An engine on `url` (or the configured database) with the schema up to date."""
    settings = settings or get_settings()
    engine = make_engine(url or settings.database_url)
    migrate(engine)
    return engine


def initialize(engine: Engine, settings: Settings | None = None) -> InitReport:
    """Idempotent: a second run adds nothing."""
    settings = settings or get_settings()
    applied = migrate(engine)
    catalog = load_catalog(settings.catalog_dir)
    plan = build_plan(catalog)
    with write(engine) as conn:
        added = catalog_repo.save_catalog(conn, catalog)
        taken = conv_store.existing_keys(conn, [row.key for row in plan])
        new_rows = [row for row in plan if row.key not in taken]
        for row in new_rows:
            conv_store.insert_conversation(conn, row.key, row.dimensions, source="plan", status="not_generated")
    templates = sync_templates(engine, settings.prompts_dir)
    rubric = judging.sync_rubric(engine, settings)
    seeds = import_paths(engine, [settings.seed_dir])
    return InitReport(applied, added, len(new_rows), templates, seeds, rubric)


def database_label(engine: Engine) -> str:
    """Which database is in use, without its password."""
    return describe(engine)
