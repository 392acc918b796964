"""The plan of conversations: check, build, repair, coverage."""

from __future__ import annotations

from brightrun_gen.brightrun.noun import Noun
from brightrun_gen.domain.planning import DEFAULT_SEED, DEFAULT_SIZE, DEFAULT_TIERS, PlanRequest, parse_tiers
from brightrun_gen.services import planning


class Plan(Noun):
    """The plan: check it for contradictions, extend it to a size, see and fill its coverage."""

    COVERAGE_BY = planning.COVERAGE_BY
    DEFAULT_SIZE = DEFAULT_SIZE
    DEFAULT_TIERS = DEFAULT_TIERS
    DEFAULT_SEED = DEFAULT_SEED

    def check(self) -> planning.PlanCheck:
        return planning.check(self.engine)

    def rows(self):
        """The plan's rows in id order, with status and variation (generated rows included)."""
        return planning.stored_rows(self.engine)

    def build(self, size: int = DEFAULT_SIZE, *, seed: int = DEFAULT_SEED,
              tiers: tuple[int, int, int] = DEFAULT_TIERS) -> planning.PlanChange:
        """Extend the plan to `size` rows (balanced, deterministic for `seed`); written rows stay as they are."""
        return planning.extend(self.engine, PlanRequest(size=size, tiers=tiers, seed=seed))

    def repair(self, *, seed: int = DEFAULT_SEED) -> planning.PlanChange:
        """Rebuild the contradictory rows nobody has written, tried or queued yet, under the same keys."""
        return planning.repair(self.engine, seed)

    def coverage(self, by: str = "storyline") -> planning.CoverageGrid:
        return planning.coverage(self.engine, by)

    tiers = staticmethod(parse_tiers)  # '40:35:15' -> (40, 35, 15), or a one-line InputError

    def fill_gaps(self, target: int, *, by: str = "storyline", seed: int = DEFAULT_SEED) -> planning.PlanChange:
        """Add rows to every cell of the coverage grid below `target` that a row can fill."""
        return planning.fill_gaps(self.engine, target, by, seed)
