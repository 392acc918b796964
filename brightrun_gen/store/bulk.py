"""Bulk writes for benchmarks and large imports: many conversations in a few statements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import Connection, select

from brightrun_gen.domain.models import Dimensions, Turn
from brightrun_gen.store import tables as t

CHUNK = 500


@dataclass(frozen=True)
class BulkConversation:
    key: str
    dimensions: Dimensions
    turns: Sequence[Turn]
    model: str
    status: str = "generated"
    quality: dict | None = None


def add_conversations(conn: Connection, items: Sequence[BulkConversation], *, source: str = "plan") -> int:
    """Insert conversations with one current version each; returns how many were added.

    The same rows `insert_conversation` + `save_version` write, in executemany batches, so
    ten thousand conversations take seconds instead of minutes.
    """
    for start in range(0, len(items), CHUNK):
        _add_chunk(conn, items[start:start + CHUNK], source)
    return len(items)


def _add_chunk(conn: Connection, items: Sequence[BulkConversation], source: str) -> None:
    conn.execute(t.conversations.insert(), [
        {"key": i.key, **i.dimensions.model_dump(), "source": source, "status": i.status, "model": i.model,
         "quality": i.quality, "quality_score": i.quality["score"] if i.quality else None, "current_version": 1}
        for i in items
    ])
    c = t.conversations.c
    ids = dict(conn.execute(select(c.key, c.id).where(c.key.in_([i.key for i in items]))).all())
    conn.execute(t.conversation_versions.insert(), [
        {"conversation_id": ids[i.key], "version": 1, "model": i.model, "quality": i.quality,
         "quality_score": i.quality["score"] if i.quality else None}
        for i in items
    ])
    conn.execute(t.conversation_turns.insert(), [
        {"conversation_id": ids[i.key], "version": 1, "position": n, "role": turn.role, "content": turn.content,
         "word_count": len(turn.content.split()), "annotation": turn.annotation}
        for i in items for n, turn in enumerate(i.turns)
    ])
