"""Which prompt templates earn approvals: one scorecard per template version and rubric version.

Pure arithmetic over rows the store hands over: every generated version with its template, its
judgement and the last decision on it; and per template hash, the calls made and their cost.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from statistics import mean
from typing import Iterable

NOT_JUDGED = "not judged"


@dataclass(frozen=True)
class Scorecard:
    template: str
    template_hash: str
    rubric_hash: str  # NOT_JUDGED for versions without a judgement
    generated: int  # versions this template wrote (repairs included)
    approved: int
    needs_edit: int
    rejected: int
    approval_rate: float | None  # approved / decided
    criteria: dict[str, float] = field(default_factory=dict)  # mean judge score per criterion
    mean_attempts: float | None = None  # generation and repair calls per version (of the template hash)
    mean_cost_usd: float | None = None  # every call's cost (judge included) per version (of the template hash)
    judged_and_decided: int = 0
    passed_but_rejected: int = 0  # the judge passed it, a reviewer rejected it
    failed_but_approved: int = 0  # the judge failed it, a reviewer approved it
    agreement: float | None = None  # judge pass = approved, judge fail = needs edit or rejected

    def as_dict(self) -> dict:
        return asdict(self)


def scorecards(versions: Iterable[dict], calls: Iterable[dict]) -> list[Scorecard]:
    """Scorecards ordered by template, then template hash, then rubric hash."""
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    per_hash: dict[str, int] = defaultdict(int)
    for v in versions:
        groups[(v["template_name"] or "?", v["template_hash"], v["rubric_hash"] or NOT_JUDGED)].append(v)
        per_hash[v["template_hash"]] += 1
    attempts, cost = _calls_per_hash(calls)
    return [_card(name, thash, rhash, rows, attempts.get(thash, 0) / per_hash[thash], cost.get(thash, 0.0) / per_hash[thash])
            for (name, thash, rhash), rows in sorted(groups.items())]


def _calls_per_hash(calls: Iterable[dict]) -> tuple[dict[str, int], dict[str, float]]:
    attempts: dict[str, int] = defaultdict(int)
    cost: dict[str, float] = defaultdict(float)
    for c in calls:
        if c["kind"] in ("generate", "repair"):
            attempts[c["template_hash"]] += int(c["calls"])
        cost[c["template_hash"]] += float(c["cost_usd"] or 0.0)
    return attempts, cost


def _card(name: str, thash: str, rhash: str, rows: list[dict], attempts: float, cost: float) -> Scorecard:
    decisions = [r["decision"] for r in rows]
    approved, needs_edit, rejected = (decisions.count(d) for d in ("approved", "needs_edit", "rejected"))
    decided = approved + needs_edit + rejected
    judged = [r for r in rows if r["rubric_hash"] and r["passed"] is not None and r["decision"]]
    agree = sum((r["passed"] and r["decision"] == "approved") or (not r["passed"] and r["decision"] != "approved")
                for r in judged)
    return Scorecard(
        template=name, template_hash=thash, rubric_hash=rhash, generated=len(rows), approved=approved,
        needs_edit=needs_edit, rejected=rejected, approval_rate=_ratio(approved, decided),
        criteria=_criterion_means(rows), mean_attempts=round(attempts, 2), mean_cost_usd=round(cost, 6),
        judged_and_decided=len(judged),
        passed_but_rejected=sum(bool(r["passed"]) and r["decision"] == "rejected" for r in judged),
        failed_but_approved=sum(not r["passed"] and r["decision"] == "approved" for r in judged),
        agreement=_ratio(agree, len(judged)),
    )


def _criterion_means(rows: list[dict]) -> dict[str, float]:
    scores: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        for c in r["criteria"] or []:
            scores[c["name"]].append(c["score"])
    return {name: round(mean(values), 2) for name, values in scores.items()}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None
