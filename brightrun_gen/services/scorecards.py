"""Template scorecards for the Activity page and `brightrun report templates`."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from brightrun_gen.domain.scorecards import Scorecard, scorecards
from brightrun_gen.store import judgements as store


def template_scorecards(engine: Engine) -> list[Scorecard]:
    """One scorecard per prompt template version and rubric version."""
    versions, calls = store.scorecard_rows(engine)
    return scorecards(versions, calls)


def scorecard_table(cards: list[Scorecard]) -> pd.DataFrame:
    """The scorecards as one table: a row per card, a column per criterion's mean judge score."""
    rows = []
    for card in cards:
        rows.append({
            "template": card.template, "template hash": card.template_hash[:10], "rubric": card.rubric_hash[:10],
            "generated": card.generated, "approved": card.approved, "needs edit": card.needs_edit,
            "rejected": card.rejected, "approval rate": card.approval_rate, "mean attempts": card.mean_attempts,
            "mean cost (USD)": card.mean_cost_usd, "judge agrees": card.agreement,
            "passed, then rejected": card.passed_but_rejected, "failed, then approved": card.failed_but_approved,
            **{name.replace("_", " "): score for name, score in card.criteria.items()},
        })
    return pd.DataFrame(rows)
