"""What tests read back from a store to check a promise: planned rows, queue items, versions, every value."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from brightrun_gen.store import conversations as conv_store, tables as t
from brightrun_gen.store.conversations import ConversationQuery
from brightrun_gen.store.db import read, write


def plan_ids(engine, n: int, offset: int = 0) -> list[int]:
    """The ids of `n` planned conversations (after the first `offset`), in id order."""
    c = t.conversations.c
    with read(engine) as conn:
        return list(conn.scalars(select(c.id).where(c.source == "plan").order_by(c.id).offset(offset).limit(n)))


def item_statuses(engine, job_id: int) -> dict[str, int]:
    """How many of the job's queue items are in each status."""
    q = t.generation_queue.c
    with read(engine) as conn:
        return dict(conn.execute(select(q.status, func.count()).where(q.job_id == job_id).group_by(q.status)).all())


def versions_per_conversation(engine, ids) -> dict[int, int]:
    """How many stored versions each conversation has (0 for none)."""
    v = t.conversation_versions.c
    with read(engine) as conn:
        rows = conn.execute(select(v.conversation_id, func.count()).where(v.conversation_id.in_(ids))
                            .group_by(v.conversation_id)).all()
    return {cid: 0 for cid in ids} | dict(rows)


def dump_tables(engine) -> str:
    """Every value of every table as text."""
    parts = []
    with read(engine) as conn:
        for table in t.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                parts.append(json.dumps([str(v) for v in row], ensure_ascii=False))
    return "\n".join(parts)


def approve(engine, conversation_id: int, notes: str | None = None) -> None:
    """Mark a conversation approved directly in the store (the review service is tested on its own)."""
    with write(engine) as conn:
        conv_store.set_review(conn, conversation_id, "approved", notes)


def planned(engine, n: int, **where) -> list[conv_store.ConversationRow]:
    """The first `n` planned rows not generated yet, optionally matching dimensions."""
    rows = conv_store.list_conversations(engine, ConversationQuery(
        statuses=["not_generated"], where={k: [v] for k, v in where.items()}))
    return rows[:n]
