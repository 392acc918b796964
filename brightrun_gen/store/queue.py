"""Generation jobs and their queue items: enqueue, claim with a lease, heartbeat, finish, stop.

Progress, ETA and counts are computed from these rows, so every page, CLI and worker process
sees the same truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import Connection, Engine, and_, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from brightrun_gen.domain.vocabulary import BUSY
from brightrun_gen.errors import NotFound
from brightrun_gen.store import tables as t
from brightrun_gen.store.db import read, write
from brightrun_gen.store.tables import utcnow

OPEN = ("pending", "running")
# Conversations whose status may change to queued/generating; approved and seeds keep theirs.
REQUEUABLE = ("not_generated", "failed", "generated", "needs_edit", "rejected", "queued", "generating")


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    selection: dict
    status: str
    provider: str
    model: str
    concurrency: int
    use_batch: bool
    batch_id: str | None
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class ClaimedItem:
    id: int
    job_id: int
    conversation_id: int
    attempts: int


def create_job(conn: Connection, *, kind: str, selection: dict, provider: str, model: str, concurrency: int,
               use_batch: bool, max_cost_usd: float | None = None, item_cost_estimate: float | None = None,
               account: str | None = None) -> int:
    return conn.execute(t.generation_jobs.insert().values(
        kind=kind, selection=selection, status="running", provider=provider, model=model,
        concurrency=concurrency, use_batch=use_batch, max_cost_usd=max_cost_usd, item_cost_estimate=item_cost_estimate,
        account=account,
    ).returning(t.generation_jobs.c.id)).scalar_one()


def enqueue_items(conn: Connection, job_id: int, conversation_ids: Sequence[int]) -> int:
    """Add an item per conversation unless one is already open (pending or running)."""
    if not conversation_ids:
        return 0
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    added = 0
    for start in range(0, len(conversation_ids), 500):
        chunk = conversation_ids[start:start + 500]
        stmt = insert(t.generation_queue).values(
            [{"job_id": job_id, "conversation_id": cid, "status": "pending"} for cid in chunk]
        ).on_conflict_do_nothing().returning(t.generation_queue.c.conversation_id)
        queued = list(conn.scalars(stmt))
        added += len(queued)
        _set_conversation_status(conn, queued, "queued")
    return added


def requeue_conversations(conn: Connection, ids: Sequence[int]) -> None:
    """Conversations whose items are pending again show as queued."""
    _set_conversation_status(conn, ids, "queued")


def _set_conversation_status(conn: Connection, ids: Sequence[int], status: str) -> None:
    """Mark conversations queued or generating; the status they rested in is kept in prior_status
    and given back if the run fails or is cancelled (conversations.mark_failed, restore_idle_conversations)."""
    if ids:
        c = t.conversations.c
        resting = case((c.status.in_(BUSY), c.prior_status), else_=c.status)
        conn.execute(update(t.conversations).where(c.id.in_(list(ids)), c.status.in_(REQUEUABLE))
                     .values(status=status, prior_status=resting))


def _claimable(columns, *, job_id: int | None, batch: bool):
    """Items that may be claimed (pending, or running with an expired lease), in queue order."""
    q, j = t.generation_queue.c, t.generation_jobs.c
    now = utcnow()
    stmt = (select(*columns).join(t.generation_jobs, j.id == q.job_id)
            .where(j.status == "running", j.use_batch.is_(batch),
                   or_(q.status == "pending", and_(q.status == "running", q.lease_expires_at < now)))
            .order_by(q.id))
    return stmt.where(q.job_id == job_id) if job_id is not None else stmt


def next_claimable_job(conn: Connection, job_id: int | None = None) -> int | None:
    """The job whose item a claim would take next (direct calls, not batches), or None."""
    return conn.scalar(_claimable([t.generation_queue.c.job_id], job_id=job_id, batch=False).limit(1))


def claim_items(conn: Connection, owner: str, lease_seconds: float, limit: int, *, job_id: int | None = None,
                batch: bool = False) -> list[ClaimedItem]:
    """Take up to `limit` claimable items: pending ones, or running ones whose lease expired.

    On PostgreSQL the row locks are skipped, so several workers never take the same item;
    on SQLite the single UPDATE runs under the database's write lock.
    """
    q = t.generation_queue.c
    now = utcnow()
    claimable = (_claimable([q.id], job_id=job_id, batch=batch).limit(limit)
                 .with_for_update(of=t.generation_queue, skip_locked=True))
    ids = list(conn.scalars(claimable))
    if not ids:
        return []
    rows = conn.execute(
        update(t.generation_queue)
        .where(q.id.in_(ids))
        .values(status="running", lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds),
                attempts=q.attempts + 1, started_at=now, error=None)
        .returning(q.id, q.job_id, q.conversation_id, q.attempts)
    ).all()
    _set_conversation_status(conn, [r.conversation_id for r in rows], "generating")
    return sorted((ClaimedItem(*r) for r in rows), key=lambda item: item.id)


def renew_leases(conn: Connection, owner: str, item_ids: Sequence[int], lease_seconds: float) -> int:
    q = t.generation_queue.c
    if not item_ids:
        return 0
    return conn.execute(update(t.generation_queue).where(
        q.id.in_(list(item_ids)), q.lease_owner == owner, q.status == "running"
    ).values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))).rowcount


def finish_item(conn: Connection, item_id: int, owner: str, status: str, error: str | None = None) -> bool:
    """Close an item this owner still holds; False when the lease was lost to another worker."""
    q = t.generation_queue.c
    done = conn.execute(update(t.generation_queue).where(
        q.id == item_id, q.lease_owner == owner, q.status == "running"
    ).values(status=status, error=error, finished_at=utcnow(), lease_expires_at=None)).rowcount
    return done == 1


def release_item(conn: Connection, item_id: int, owner: str, error: str, *, counts_as_attempt: bool) -> None:
    """Put an item back to pending: it will be claimed again (after the back-off).

    A rate-limited call was not a real attempt and does not count toward giving up; a
    server error or timeout does, so an item that always breaks ends failed.
    """
    q = t.generation_queue.c
    attempts = q.attempts if counts_as_attempt else q.attempts - 1
    conn.execute(update(t.generation_queue).where(q.id == item_id, q.lease_owner == owner, q.status == "running")
                 .values(status="pending", lease_owner=None, lease_expires_at=None, error=error, attempts=attempts))
    conv = conn.scalar(select(q.conversation_id).where(q.id == item_id))
    _set_conversation_status(conn, [conv], "queued")


def expire_leases_of(conn: Connection, owners: Sequence[str]) -> int:
    """Make the items of owners known to be dead claimable now instead of after their lease."""
    q = t.generation_queue.c
    if not owners:
        return 0
    return conn.execute(update(t.generation_queue).where(q.status == "running", q.lease_owner.in_(list(owners)))
                        .values(lease_expires_at=utcnow() - timedelta(seconds=1))).rowcount


def running_owners(conn: Connection) -> list[str]:
    q = t.generation_queue.c
    return [o for o in conn.scalars(select(q.lease_owner).where(q.status == "running").distinct()) if o]


def stop_job(conn: Connection, job_id: int, *, error: str = "stopped by user") -> int:
    """No new claims; pending items are cancelled (with `error`) and their conversations return to rest."""
    get_job(conn, job_id)
    q, j = t.generation_queue.c, t.generation_jobs.c
    conn.execute(update(t.generation_jobs).where(j.id == job_id, j.status == "running").values(status="stopping"))
    ids = list(conn.scalars(select(q.conversation_id).where(q.job_id == job_id, q.status == "pending")))
    conn.execute(update(t.generation_queue).where(q.job_id == job_id, q.status == "pending")
                 .values(status="cancelled", finished_at=utcnow(), error=error))
    restore_idle_conversations(conn, ids)
    finalize_jobs(conn)
    return len(ids)


def restore_idle_conversations(conn: Connection, ids: Sequence[int]) -> None:
    """Queued/generating conversations that will not run: back to the status they rested in."""
    if not ids:
        return
    c = t.conversations.c
    fallback = case((c.current_version > 0, "generated"), else_="not_generated")
    conn.execute(update(t.conversations).where(c.id.in_(list(ids)), c.status.in_(BUSY))
                 .values(status=func.coalesce(c.prior_status, fallback), prior_status=None))


def cancel_item(conn: Connection, item_id: int, owner: str) -> None:
    conv = conn.scalar(select(t.generation_queue.c.conversation_id).where(t.generation_queue.c.id == item_id))
    if finish_item(conn, item_id, owner, "cancelled", "stopped by user"):
        restore_idle_conversations(conn, [conv])


def finalize_jobs(conn: Connection) -> None:
    """Jobs with no open items are done (or stopped, when the user stopped them)."""
    q, j = t.generation_queue.c, t.generation_jobs.c
    # A stopped job's item whose worker died will never be finished by it: cancel it at lease end.
    stopping = select(j.id).where(j.status == "stopping")
    orphans = list(conn.scalars(update(t.generation_queue).where(
        q.job_id.in_(stopping), q.status == "running", q.lease_expires_at < utcnow()
    ).values(status="cancelled", finished_at=utcnow(), error="stopped by user").returning(q.conversation_id)))
    restore_idle_conversations(conn, orphans)
    open_items = select(q.id).where(q.job_id == j.id, q.status.in_(OPEN)).exists()
    conn.execute(update(t.generation_jobs).where(j.status.in_(("running", "stopping")), ~open_items).values(
        status=case((j.status == "stopping", "stopped"), else_="done"), finished_at=utcnow()))


def reopen_failed(conn: Connection, job_id: int) -> int:
    """Retry: a job's failed items become pending again and the job runs again."""
    q, j = t.generation_queue.c, t.generation_jobs.c
    other = t.generation_queue.alias("other")
    elsewhere_open = select(other.c.id).where(other.c.conversation_id == q.conversation_id,
                                              other.c.status.in_(OPEN)).exists()
    ids = list(conn.scalars(update(t.generation_queue).where(q.job_id == job_id, q.status == "failed", ~elsewhere_open)
                            .values(status="pending", error=None, finished_at=None, lease_owner=None)
                            .returning(q.conversation_id)))
    if ids:
        conn.execute(update(t.generation_jobs).where(j.id == job_id).values(status="running", finished_at=None))
        _set_conversation_status(conn, ids, "queued")
    return len(ids)


def set_batch(conn: Connection, job_id: int, batch_id: str, item_ids: Sequence[int]) -> None:
    conn.execute(update(t.generation_jobs).where(t.generation_jobs.c.id == job_id).values(batch_id=batch_id))
    conn.execute(update(t.generation_queue).where(t.generation_queue.c.id.in_(list(item_ids))).values(batch_id=batch_id))


def _job(r) -> Job:
    return Job(r.id, r.kind, r.selection, r.status, r.provider, r.model, r.concurrency, r.use_batch, r.batch_id,
               r.created_at, r.finished_at)


def get_job(conn: Connection, job_id: int) -> Job:
    r = conn.execute(select(t.generation_jobs).where(t.generation_jobs.c.id == job_id)).first()
    if r is None:
        raise NotFound(f"generation job {job_id} does not exist; `brightrun status` lists the jobs")
    return _job(r)


def list_jobs(engine: Engine, *, active_only: bool = False, limit: int = 20) -> list[Job]:
    j = t.generation_jobs.c
    stmt = select(t.generation_jobs).order_by(j.id.desc()).limit(limit)
    if active_only:
        stmt = stmt.where(j.status.in_(("running", "stopping")))
    with read(engine) as conn:
        return [_job(r) for r in conn.execute(stmt)]


def batch_items(conn: Connection, job_id: int) -> list[tuple[int, int, str | None]]:
    """(item id, conversation id, lease owner) of a batch job's running items."""
    q = t.generation_queue.c
    return [tuple(r) for r in conn.execute(select(q.id, q.conversation_id, q.lease_owner)
                                           .where(q.job_id == job_id, q.status == "running").order_by(q.id))]


@dataclass(frozen=True)
class ItemCounts:
    total: int
    pending: int
    running: int
    succeeded: int
    failed: int
    cancelled: int


ITEM_STATUSES = ("pending", "running", "succeeded", "failed", "cancelled")


def counts_of(item_statuses: Sequence[str]) -> ItemCounts:
    """ItemCounts of item statuses already read (so counts and rows come from one statement)."""
    found = {name: 0 for name in ITEM_STATUSES}
    for status in item_statuses:
        found[status] = found.get(status, 0) + 1
    return ItemCounts(sum(found[n] for n in ITEM_STATUSES), *(found[n] for n in ITEM_STATUSES))


@dataclass(frozen=True)
class ItemStateRow:
    conversation_id: int
    item_status: str
    status: str
    error: str | None  # the failed-attempt marker's reason, None without a marker


def item_states(conn: Connection, job_id: int) -> list[ItemStateRow]:
    """Every item of a job with its conversation's status and failed-attempt marker, in one statement."""
    q, c = t.generation_queue.c, t.conversations.c
    marker = case((c.failed_at.is_not(None), func.coalesce(c.last_error, "failed")))
    rows = conn.execute(select(q.conversation_id, q.status, c.status, marker)
                        .join(t.conversations, c.id == q.conversation_id).where(q.job_id == job_id)
                        .order_by(q.id)).all()
    return [ItemStateRow(*row) for row in rows]


def running_item_labels(conn: Connection, job_id: int, limit: int = 8) -> list[dict]:
    q, c = t.generation_queue.c, t.conversations.c
    rows = conn.execute(
        select(c.id, c.key, t.personas.c.name, t.personas.c.archetype, t.topics.c.name.label("topic"))
        .select_from(t.generation_queue.join(t.conversations, c.id == q.conversation_id)
                     .outerjoin(t.personas, t.personas.c.key == c.persona).outerjoin(t.topics, t.topics.c.key == c.topic))
        .where(q.job_id == job_id, q.status == "running").order_by(q.started_at).limit(limit)).all()
    return [dict(r._mapping) for r in rows]


def finished_times(conn: Connection, job_id: int) -> tuple[datetime | None, datetime | None, int]:
    """First start, last finish and number of finished items (succeeded or failed)."""
    q = t.generation_queue.c
    row = conn.execute(select(func.min(q.started_at), func.max(q.finished_at), func.count())
                       .where(q.job_id == job_id, q.status.in_(("succeeded", "failed")))).one()
    return row[0], row[1], row[2]


def job_errors(conn: Connection, job_id: int, limit: int = 50) -> list[dict]:
    q, c = t.generation_queue.c, t.conversations.c
    rows = conn.execute(select(q.id, c.id.label("conversation_id"), c.key, q.attempts, q.error, q.finished_at)
                        .join(t.conversations, c.id == q.conversation_id)
                        .where(q.job_id == job_id, q.status == "failed").order_by(q.id).limit(limit)).all()
    return [dict(r._mapping) for r in rows]


def job_usage(conn: Connection, job_id: int) -> tuple[int, int, float]:
    """Input tokens (cache included), output tokens and cost of every attempt in the job."""
    g, q = t.generation_logs.c, t.generation_queue.c
    row = conn.execute(select(
        func.coalesce(func.sum(g.input_tokens + g.cache_read_tokens + g.cache_creation_tokens), 0),
        func.coalesce(func.sum(g.output_tokens), 0), func.coalesce(func.sum(g.cost_usd), 0.0),
    ).where(g.queue_item_id.in_(select(q.id).where(q.job_id == job_id)))).one()
    return int(row[0]), int(row[1]), float(row[2])


def transfer_leases(conn: Connection, item_ids: Sequence[int], old_owner: str, new_owner: str,
                    lease_seconds: float) -> int:
    q = t.generation_queue.c
    return conn.execute(update(t.generation_queue).where(
        q.id.in_(list(item_ids)), q.lease_owner == old_owner, q.status == "running"
    ).values(lease_owner=new_owner, lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))).rowcount


def close_finished_jobs(engine: Engine) -> None:
    """finalize_jobs in a transaction of its own, run after an item's commit.

    Under READ COMMITTED, two workers closing the last two items inside their own
    transactions would each still see the other's item open, and the job would never end;
    a check after each commit always has one that sees both.
    """
    with write(engine) as conn:
        finalize_jobs(conn)
