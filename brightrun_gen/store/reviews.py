"""The review audit trail: every decision with its reviewer, version, notes and time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, select

from brightrun_gen.errors import NotFound
from brightrun_gen.store import tables as t
from brightrun_gen.store.db import read


@dataclass(frozen=True)
class ReviewEventRow:
    id: int
    conversation_id: int
    version: int
    action: str
    reviewer: str
    notes: str | None
    created_at: datetime

    def as_dict(self) -> dict:
        return {"id": self.id, "version": self.version, "action": self.action, "reviewer": self.reviewer,
                "notes": self.notes, "at": self.created_at}


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


def latest_event_since(conn: Connection, conversation_id: int, since: datetime) -> ReviewEventRow | None:
    """The conversation's newest decision if it was recorded at or after `since`, else None."""
    e = t.review_events.c
    row = conn.execute(select(e.id, e.conversation_id, e.version, e.action, e.reviewer, e.notes, e.created_at)
                       .where(e.conversation_id == conversation_id, e.created_at >= since)
                       .order_by(e.id.desc()).limit(1)).first()
    return ReviewEventRow(*row) if row else None


def list_events(engine: Engine, conversation_id: int) -> list[ReviewEventRow]:
    """The decisions about one conversation, oldest first."""
    e = t.review_events.c
    stmt = select(e.id, e.conversation_id, e.version, e.action, e.reviewer, e.notes, e.created_at).where(
        e.conversation_id == conversation_id).order_by(e.id)
    with read(engine) as conn:
        return [ReviewEventRow(*r) for r in conn.execute(stmt)]


def next_with_status(engine: Engine, status: str, after_id: int | None) -> int | None:
    """The smallest id above `after_id` with `status`, else the smallest other one (the queue wraps)."""
    c = t.conversations.c
    base = select(c.id).where(c.status == status).order_by(c.id).limit(1)
    with read(engine) as conn:
        if after_id is None:
            return conn.scalar(base)
        found = conn.scalar(base.where(c.id > after_id))
        return found if found is not None else conn.scalar(base.where(c.id != after_id))
