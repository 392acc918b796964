"""What a Generate click takes, and what it would overwrite: the rows, and the counts the confirmation shows.

The rule of what is regenerated:
- seeds never (they are our own examples), nor rows already queued or being generated;
- rows with no text, failed rows, and written rows with or without a decision (generated,
  needs edit, rejected): a new version is written and becomes current, so a decision on the old
  text no longer applies to it (the audit trail keeps it);
- approved rows only when the person asks for them: a new version is written next to the approved
  one, which stays current and is what exports (store.conversations.save_version).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

import pandas as pd
from sqlalchemy import Engine

from brightrun_gen.config import Settings
from brightrun_gen.domain.vocabulary import BUSY, DECISION_LABELS, GENERATABLE, KEPT
from brightrun_gen.errors import InputError
from brightrun_gen.services import runner
from brightrun_gen.store import conversations as conv_store
from brightrun_gen.store.db import read

NEVER = ("seed", *BUSY)


@dataclass(frozen=True)
class GenerationPlan:
    kind: str  # single | selected | filter | all
    ids: tuple[int, ...]  # what is generated (approved rows only once asked for)
    where: dict = field(default_factory=dict)
    left_out: int = 0  # seeds and rows already queued or being generated
    with_text: int = 0  # of ids: rows that already have text; they get a new version
    claude_text: int = 0  # of with_text: text Claude wrote (paid for)
    decided: dict[str, int] = field(default_factory=dict)  # of ids: rows with a decision, per decision
    approved_ids: tuple[int, ...] = ()  # approved rows of the selection, regenerated only when asked

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def reviewed(self) -> int:
        return sum(self.decided.values())

    def overwrites(self) -> bool:
        """Whether the plan touches rows that already hold text (so it must be confirmed)."""
        return bool(self.with_text or self.approved_ids)

    def including_approved(self) -> "GenerationPlan":
        """The same plan with its approved rows added (each gets a new version next to the approved one)."""
        if not self.approved_ids:
            return self
        ids = self.ids + self.approved_ids
        return replace(self, kind="single" if len(ids) == 1 else "selected", ids=ids, approved_ids=(),
                       decided={**self.decided, "approved": len(self.approved_ids)},
                       with_text=self.with_text + len(self.approved_ids))

    def lines(self) -> list[str]:
        """What the confirmation says about the rows, one sentence each (no markdown)."""
        said = []
        if self.with_text:
            claude = f", {self.claude_text} of them written by Claude" if self.claude_text else ""
            said.append(f"{_n(self.with_text, 'row')} already {_has(self.with_text)} text{claude}: "
                        "each gets a new version that replaces it as the current text.")
        if self.reviewed:
            kinds = ", ".join(f"{n} {DECISION_LABELS[d].lower()}" for d, n in self.decided.items() if n)
            said.append(f"{_n(self.reviewed, 'row')} {_has(self.reviewed)} a reviewer's decision ({kinds}); "
                        "the new text will need a new review.")
        if self.approved_ids:
            one = len(self.approved_ids) == 1
            said.append(f"{_n(len(self.approved_ids), 'approved row')} {'is' if one else 'are'} left as "
                        f"{'it is' if one else 'they are'} unless you include {'it' if one else 'them'}.")
        if self.left_out:
            said.append(f"{_n(self.left_out, 'selected row')} left out: seeds and rows already queued stay as they are.")
        return said


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _has(count: int) -> str:
    return "has" if count == 1 else "have"


def plan_rows(kind: str, rows: pd.DataFrame, *, where: dict | None = None) -> GenerationPlan:
    """A plan over table rows (columns id, status_key, version, model_key): applies the rule above."""
    kept = rows[~rows["status_key"].isin(NEVER)]
    approved = kept[kept["status_key"] == "approved"]
    taken = kept[kept["status_key"] != "approved"]
    written = taken[taken["version"] > 0]
    decided = {d: int((taken["status_key"] == d).sum()) for d in DECISION_LABELS if d != "approved"}
    return GenerationPlan(
        kind=kind, ids=tuple(int(i) for i in taken["id"]), where=where or {},
        left_out=len(rows) - len(kept), with_text=len(written),
        claude_text=int(written["model_key"].fillna("").str.startswith("claude").sum()),
        decided={d: n for d, n in decided.items() if n}, approved_ids=tuple(int(i) for i in approved["id"]),
    )


def plan_selected(table: pd.DataFrame, selected_ids: Sequence[int]) -> GenerationPlan:
    """The ticked rows of the table, under the rule above."""
    chosen = table[table["id"].isin([int(i) for i in selected_ids])]
    plan = plan_rows("selected", chosen)
    return replace(plan, kind="single") if plan.count + len(plan.approved_ids) == 1 else plan


def plan_one(engine: Engine, key_or_id: str | int) -> GenerationPlan:
    """One row (the preview's or the table's Regenerate), under the rule above."""
    with read(engine) as conn:
        row = conv_store.get_row(conn, conv_store.find_id(conn, key_or_id))
    frame = pd.DataFrame([{"id": row.id, "status_key": row.status, "version": row.current_version,
                           "model_key": row.model or ""}])
    return plan_rows("single", frame)


def plan_all(table: pd.DataFrame, filters: dict[str, Sequence]) -> GenerationPlan:
    """Every row of the current filter that is not generated yet (or of the chosen statuses)."""
    where = {k: list(v) for k, v in filters.items() if v}
    statuses = generatable_statuses(filters)
    if "status" in where:
        where["status"] = statuses
    rows = table[table["status_key"].isin(statuses)]
    return plan_rows("filter" if where else "all", rows, where=where)


def count_all(table: pd.DataFrame, filters: dict[str, Sequence]) -> int:
    """How many rows 'Generate all' would take (plan_all(...).count without building the plan)."""
    return int(table["status_key"].isin(generatable_statuses(filters)).sum())


def generatable_statuses(filters: dict[str, Sequence]) -> list[str]:
    """What 'Generate all' takes: the chosen statuses that can be generated, else not generated and failed."""
    chosen = filters.get("status")
    return [s for s in chosen if s not in KEPT + BUSY] if chosen else list(GENERATABLE)


def start(engine: Engine, plan: GenerationPlan, use_batch: bool = False, *, settings: Settings | None = None,
          max_cost: float | None = None) -> str:
    """Queue the plan (under a budget cap, if given); returns the sentence the page shows (BrightRunError on failure)."""
    if not plan.count:
        raise InputError("nothing to generate: no row of this selection can be generated")
    if plan.kind in ("single", "selected"):
        result = runner.enqueue(engine, kind=plan.kind, conversation_ids=plan.ids, use_batch=use_batch,
                                settings=settings, max_cost_usd=max_cost)
    else:
        result = runner.enqueue(engine, kind=plan.kind, where=plan.where, use_batch=use_batch, settings=settings,
                                max_cost_usd=max_cost)
    already = f"; {result.skipped} {'was' if result.skipped == 1 else 'were'} already queued" if result.skipped else ""
    return f"Queued {_n(result.enqueued, 'conversation')} for generation (job {result.job_id}){already}."
