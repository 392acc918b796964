"""A job's budget in the store: its cap, what it has spent, stopping at the cap and going on above it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, select, update

from brightrun_gen.store import queue, tables as t
from brightrun_gen.store.db import read

# The error of the items a budget stop cancels: a resume with a higher cap takes exactly these again.
BUDGET_CANCELLED = "cancelled: the job reached its budget cap"
BUDGET = "budget"

_J, _Q, _G = t.generation_jobs.c, t.generation_queue.c, t.generation_logs.c


@dataclass(frozen=True)
class CappedJob:
    id: int
    max_cost_usd: float
    item_cost_estimate: float | None


@dataclass(frozen=True)
class Spend:
    spent: float  # every logged call of the job, items in flight included
    finished_cost: float  # the calls of items that finished
    finished: int
    running: int


def capped_running_jobs(conn: Connection, job_id: int | None = None) -> list[CappedJob]:
    stmt = select(_J.id, _J.max_cost_usd, _J.item_cost_estimate).where(_J.status == "running",
                                                                      _J.max_cost_usd.is_not(None))
    if job_id is not None:
        stmt = stmt.where(_J.id == job_id)
    return [CappedJob(*r) for r in conn.execute(stmt)]


def job_spend(conn: Connection, job_id: int) -> Spend:
    finished = _Q.status.in_(("succeeded", "failed"))
    cost = func.coalesce(func.sum(_G.cost_usd), 0.0)
    spent = select(cost).where(_G.queue_item_id.in_(select(_Q.id).where(_Q.job_id == job_id))).scalar_subquery()
    finished_cost = select(cost).where(_G.queue_item_id.in_(
        select(_Q.id).where(_Q.job_id == job_id, finished))).scalar_subquery()
    counts = select(func.count().filter(finished), func.count().filter(_Q.status == "running")).where(
        _Q.job_id == job_id).subquery()
    row = conn.execute(select(spent, finished_cost, *counts.c)).one()
    return Spend(float(row[0]), float(row[1]), int(row[2] or 0), int(row[3] or 0))


def stop_at_cap(conn: Connection, job_id: int) -> int:
    """No more claims for this job; its waiting items are cancelled as over budget. Returns how many."""
    cancelled = queue.stop_job(conn, job_id, error=BUDGET_CANCELLED)
    conn.execute(update(t.generation_jobs).where(_J.id == job_id).values(stop_reason=BUDGET))
    return cancelled


def raise_cap(conn: Connection, job_id: int, max_cost_usd: float) -> int:
    """A new cap; a job stopped at its cap runs again with the items the stop cancelled. Returns how many."""
    queue.get_job(conn, job_id)
    conn.execute(update(t.generation_jobs).where(_J.id == job_id).values(max_cost_usd=max_cost_usd))
    if conn.scalar(select(_J.stop_reason).where(_J.id == job_id)) != BUDGET:
        return 0
    other = t.generation_queue.alias("other")
    elsewhere_open = select(other.c.id).where(other.c.conversation_id == _Q.conversation_id,
                                              other.c.status.in_(queue.OPEN)).exists()
    ids = list(conn.scalars(update(t.generation_queue).where(
        _Q.job_id == job_id, _Q.status == "cancelled", _Q.error == BUDGET_CANCELLED, ~elsewhere_open,
    ).values(status="pending", error=None, finished_at=None, lease_owner=None).returning(_Q.conversation_id)))
    conn.execute(update(t.generation_jobs).where(_J.id == job_id).values(
        status="running", stop_reason=None, finished_at=None))
    queue.requeue_conversations(conn, ids)
    queue.finalize_jobs(conn)
    return len(ids)


def job_budget(conn: Connection, job_id: int) -> tuple[float | None, str | None]:
    """(cap, why it stopped) of one job."""
    row = conn.execute(select(_J.max_cost_usd, _J.stop_reason).where(_J.id == job_id)).first()
    return (row[0], row[1]) if row else (None, None)


def average_cost(engine: Engine, model: str, kind: str) -> float | None:
    """Mean cost of the successful calls of one kind (generate, repair, judge) with `model`, if any."""
    with read(engine) as conn:
        row = conn.execute(select(func.avg(_G.cost_usd), func.count()).where(
            _G.model == model, _G.kind == kind, _G.outcome == "ok")).one()
    return float(row[0]) if row[1] else None
