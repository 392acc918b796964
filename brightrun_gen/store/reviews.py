"""The review audit trail: every decision with its reviewer, version, notes and time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, select

from brightrun_gen.domain.stored import ReviewEvent
from brightrun_gen.errors import NotFound
from brightrun_gen.store import tables as t
from brightrun_gen.store.db import read

_e = t.review_events.c
# The fields of a ReviewEvent, in order.
EVENT_COLUMNS = (_e.id, _e.version, _e.action, _e.reviewer, _e.notes, _e.created_at)


@dataclass(frozen=True)
class ReviewTarget:
    """What a decision is about: the conversation's status and current version, locked for the write."""

    id: int
    key: str
    status: str
    version: int
    has_turns: bool


def lock_target(conn: Connection, conversation_id: int) -> ReviewTarget:
    """Read the conversation for a decision; on PostgreSQL lock its row until commit.

    A regeneration that commits in between would otherwise change the current version after
    we chose which version the event names. SQLite's BEGIN IMMEDIATE already serializes writers.
    """
    c = t.conversations.c
    row = conn.execute(select(c.id, c.key, c.status, c.current_version).where(c.id == conversation_id)
                       .with_for_update()).first()
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    turn = t.conversation_turns.c
    first_turn = conn.scalar(select(turn.id).where(turn.conversation_id == row.id, turn.version == row.current_version)
                        .limit(1))
    return ReviewTarget(row.id, row.key, row.status, row.current_version, first_turn is not None)


def insert_event(conn: Connection, conversation_id: int, version: int, action: str, reviewer: str,
                 notes: str | None) -> int:
    return conn.execute(t.review_events.insert().values(
        conversation_id=conversation_id, version=version, action=action, reviewer=reviewer, notes=notes,
    ).returning(t.review_events.c.id)).scalar_one()


def latest_event_since(conn: Connection, conversation_id: int, since: datetime) -> ReviewEvent | None:
    """The conversation's newest decision if it was recorded at or after `since`, else None."""
    row = conn.execute(select(*EVENT_COLUMNS).where(_e.conversation_id == conversation_id, _e.created_at >= since)
                       .order_by(_e.id.desc()).limit(1)).first()
    return ReviewEvent(*row) if row else None


def list_events(engine: Engine, conversation_id: int) -> list[ReviewEvent]:
    """The decisions about one conversation, oldest first."""
    stmt = select(*EVENT_COLUMNS).where(_e.conversation_id == conversation_id).order_by(_e.id)
    with read(engine) as conn:
        return [ReviewEvent(*r) for r in conn.execute(stmt)]


def next_with_status(engine: Engine, status: str, after_id: int | None) -> int | None:
    """The smallest id above `after_id` with `status`, else the smallest other one (the queue wraps)."""
    c = t.conversations.c
    base = select(c.id).where(c.status == status).order_by(c.id).limit(1)
    with read(engine) as conn:
        if after_id is None:
            return conn.scalar(base)
        found = conn.scalar(base.where(c.id > after_id))
        return found if found is not None else conn.scalar(base.where(c.id != after_id))
