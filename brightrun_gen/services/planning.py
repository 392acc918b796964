"""The plan in the store: check it, extend it to a size, see its coverage, fill its gaps.

Rows already in the store are never changed here; new rows are linted before they are written
and written in one transaction, so a plan is extended completely or not at all.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Sequence

import pandas as pd

from sqlalchemy import Engine

from brightrun_gen.domain.catalog import build_plan
from brightrun_gen.domain.lint import Contradiction, check_catalog, check_plan
from brightrun_gen.domain.models import VARIATION_LABELS, Catalog, PlannedRow
from brightrun_gen.domain.planning import DEFAULT_SEED, Planner, PlanRequest
from brightrun_gen.errors import InputError
from brightrun_gen.store import catalog_repo, insights as insight_store, plan_rows
from brightrun_gen.store.db import read, write

logger = logging.getLogger(__name__)

# Grid columns: the storyline (each arc, then scenarios and edge cases) or the content category.
COVERAGE_BY = ("storyline", "content_category")
STORYLINE_TIERS = {"scenario": 2, "edge case": 3}


@dataclass(frozen=True)
class PlanCheck:
    rows: int
    contradictions: list[Contradiction]

    @property
    def clean(self) -> bool:
        return not self.contradictions

    def as_dict(self) -> dict:
        return {"rows": self.rows, "clean": self.clean, "contradictions": [c.as_dict() for c in self.contradictions]}


@dataclass(frozen=True)
class PlanChange:
    """Rows added to the plan (or rebuilt in place), and the plan's size per tier afterwards."""

    added: list[str]
    tiers: dict[int, int]
    rebuilt: list[str] = field(default_factory=list)

    def line(self) -> str:
        size = sum(self.tiers.values())
        split = ", ".join(f"tier {t}: {n}" for t, n in sorted(self.tiers.items()))
        rebuilt = f", {len(self.rebuilt)} contradictory unwritten row(s) rebuilt" if self.rebuilt else ""
        return f"plan: {len(self.added)} conversation(s) added{rebuilt}; {size} in the plan ({split})"


@dataclass(frozen=True)
class CoverageCell:
    counts: dict[str, int]  # conversations per status
    feasible: bool  # whether a row can be planned here at all

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class CoverageGrid:
    """Persona × storyline (or content category): conversations per status in each cell."""

    by: str
    personas: list[tuple[str, str]]  # (key, label)
    columns: list[str]
    cells: dict[tuple[str, str], CoverageCell] = field(default_factory=dict)

    def cell(self, persona: str, column: str) -> CoverageCell:
        return self.cells.get((persona, column), CoverageCell({}, False))

    def table(self, statuses: Sequence[str] = ()) -> pd.DataFrame:
        """Conversations per cell (of `statuses`, or all), persona labels down, columns across;
        a cell no row can fill is empty (None)."""
        def count(cell: CoverageCell):
            if not cell.feasible and not cell.total:
                return None
            return sum(n for status, n in cell.counts.items() if not statuses or status in statuses)

        rows = {label: [count(self.cell(key, c)) for c in self.columns] for key, label in self.personas}
        return pd.DataFrame.from_dict(rows, orient="index", columns=self.columns).astype("Int64")

    def gaps(self, target: int) -> dict[tuple[str, str], int]:
        """Rows missing per feasible cell to reach `target` conversations."""
        return {(p, c): target - self.cell(p, c).total for p, _ in self.personas for c in self.columns
                if self.cell(p, c).feasible and self.cell(p, c).total < target}


def check(engine: Engine) -> PlanCheck:
    """Every contradiction in the stored plan and in the catalog it is built from."""
    catalog = catalog_repo.load_catalog(engine)
    with read(engine) as conn:
        rows = plan_rows.plan_rows(conn)
        seeds = plan_rows.story_dimensions(conn)
    problems = check_catalog(catalog) + check_plan([r.row for r in rows], catalog, seeds)
    return PlanCheck(len(rows), problems)


def stored_rows(engine: Engine) -> list[plan_rows.StoredPlanRow]:
    """The plan's rows in id order, each with its status and variation."""
    with read(engine) as conn:
        return plan_rows.plan_rows(conn)


def extend(engine: Engine, request: PlanRequest) -> PlanChange:
    """Add balanced rows until the plan has `request.size` rows; rows already there stay as they are."""
    catalog = catalog_repo.load_catalog(engine)
    with read(engine) as conn:
        existing = [r.row for r in plan_rows.plan_rows(conn)]
        seeds = [d for _, d in plan_rows.story_dimensions(conn)]
    new_rows = build_plan(catalog, request, existing=existing, seeds=seeds)
    return _add(engine, new_rows, existing)


def repair(engine: Engine, seed: int = DEFAULT_SEED) -> PlanChange:
    """Rebuild, under the same keys, the contradictory rows that were never written, tried or queued
    (a plan made before the catalog's rules, say); every other row stays as it is."""
    catalog = catalog_repo.load_catalog(engine)
    with read(engine) as conn:
        stored = plan_rows.plan_rows(conn)
        seeds = plan_rows.story_dimensions(conn)
    bad = {c.row for c in check_plan([r.row for r in stored], catalog, seeds)}
    candidates = [r for r in stored if r.row.key in bad]
    with write(engine) as conn:
        removed = set(plan_rows.remove_unwritten(conn, [r.id for r in candidates]))
        kept = [r.row for r in stored if r.id not in removed]
        planner = Planner(catalog, seed, kept, [d for _, d in seeds])
        rebuilt = [planner.row(r.row.dimensions.tier).model_copy(update={"key": r.row.key})
                   for r in candidates if r.id in removed]
        for row in rebuilt:
            plan_rows.add_planned_row(conn, row)
    logger.info("plan: rebuilt %s contradictory unwritten row(s)", len(rebuilt))
    tiers = Counter(r.dimensions.tier for r in [*kept, *rebuilt])
    return PlanChange([], {t: tiers.get(t, 0) for t in (1, 2, 3)}, [r.key for r in rebuilt])


def coverage(engine: Engine, by: str = "storyline") -> CoverageGrid:
    """Every persona with facts against every arc and storyline (or content category)."""
    if by not in COVERAGE_BY:
        raise InputError(f"coverage by {by!r} is unknown; use one of {', '.join(COVERAGE_BY)}")
    catalog = catalog_repo.load_catalog(engine)
    planner = _planner(engine, catalog, DEFAULT_SEED)
    personas = [(p.key, f"{p.name} – {p.archetype}") for p in catalog.personas if p.facts is not None]
    columns = _columns(catalog, by)
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for found in insight_store.counts_by(engine, "persona", "story" if by == "storyline" else by):
        counts[(found["row"], str(found["column"]))][found["status"]] += found["count"]
    cells = {(p, c): CoverageCell(dict(counts[(p, c)]), _feasible(planner, by, p, c))
             for p, _ in personas for c in columns}
    return CoverageGrid(by, personas, columns, cells)


def fill_gaps(engine: Engine, target: int, by: str = "storyline", seed: int = DEFAULT_SEED) -> PlanChange:
    """Add rows to every feasible cell of the grid that has fewer than `target` conversations."""
    if target < 0:
        raise InputError(f"target per cell {target}: expected 0 or more")
    grid = coverage(engine, by)
    catalog = catalog_repo.load_catalog(engine)
    planner = _planner(engine, catalog, seed)
    existing = planner.existing
    new_rows = []
    for (persona, column), missing in sorted(grid.gaps(target).items()):
        tier, arc, category = _cell_request(by, column)
        new_rows += [planner.row(tier, persona=persona, arc=arc, category=category) for _ in range(missing)]
    problems = check_plan(new_rows, catalog, [("", d) for d in planner.seed_dimensions])
    if problems:
        raise InputError(f"filling the gaps would add contradictions: {problems[0].line()}")
    return _add(engine, new_rows, existing)


def _add(engine: Engine, new_rows: list[PlannedRow], existing: list[PlannedRow]) -> PlanChange:
    with write(engine) as conn:
        for row in new_rows:
            plan_rows.add_planned_row(conn, row)
    tiers = Counter(r.dimensions.tier for r in [*existing, *new_rows])
    logger.info("plan: added %s row(s)", len(new_rows))
    return PlanChange([r.key for r in new_rows], {t: tiers.get(t, 0) for t in (1, 2, 3)})


class _StorePlanner(Planner):
    """A planner that has counted the stored plan and knows what the stored seeds are about."""

    def __init__(self, catalog: Catalog, seed: int, existing: list[PlannedRow], seed_dimensions: list):
        super().__init__(catalog, seed, existing, seed_dimensions)
        self.existing = existing
        self.seed_dimensions = seed_dimensions


def _planner(engine: Engine, catalog: Catalog, seed: int) -> _StorePlanner:
    with read(engine) as conn:
        existing = [r.row for r in plan_rows.plan_rows(conn)]
        seeds = [d for _, d in plan_rows.story_dimensions(conn)]
    return _StorePlanner(catalog, seed, existing, seeds)


def _columns(catalog: Catalog, by: str) -> list[str]:
    if by == "storyline":
        return [a.key for a in catalog.arcs] + list(STORYLINE_TIERS)
    return list(dict.fromkeys(t.content_category for t in catalog.topics))


def _cell_request(by: str, column: str) -> tuple[int, str | None, str | None]:
    """(tier, arc, content category) of the rows that fill a cell."""
    if by == "content_category":
        return 1, None, column
    if column in STORYLINE_TIERS:
        return STORYLINE_TIERS[column], None, None
    return 1, column, None


def _feasible(planner: Planner, by: str, persona: str, column: str) -> bool:
    tier, arc, category = _cell_request(by, column)
    return planner.feasible(tier, persona=persona, arc=arc, category=category)


def variation_facts(engine: Engine, metadata: dict) -> list[tuple[str, str]]:
    """A row's variation as (label, value) facts for a preview, from its flattened metadata."""
    names = {section: {e["key"]: e["name"] for e in catalog_repo.list_section(engine, section)}
             for section in ("openings", "channels", "verbosity")}
    lookup = {"opening": names["openings"], "channel": names["channels"], "verbosity": names["verbosity"]}
    facts = []
    for name, label in VARIATION_LABELS.items():
        value = metadata.get(f"{plan_rows.VARIATION_PREFIX}{name}")
        if value is None:
            continue
        shown = "yes" if value is True else "no" if value is False else lookup.get(name, {}).get(value, value)
        facts.append((label, str(shown)))
    return facts
