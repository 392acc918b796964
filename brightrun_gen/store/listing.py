"""The dashboard's rows as plain tuples: one query, no per-row objects, for tables of 10,000+ rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, and_, select

from brightrun_gen.store import tables as t
from brightrun_gen.store.conversations import ConversationQuery, query_conditions
from brightrun_gen.store.db import read

TABLE_FIELDS = ("id", "key", "persona", "emotion_start", "emotion_end", "topic", "tier", "status",
                "quality_score", "model", "updated_at", "current_version", "failed_at", "last_error")


@dataclass(frozen=True)
class TableRows:
    columns: tuple[str, ...]
    rows: list[tuple]


def table_rows(engine: Engine, query: ConversationQuery | None = None) -> TableRows:
    """TABLE_FIELDS of the conversations `query` selects, ordered by id (same rules as list_conversations)."""
    query = query or ConversationQuery()
    c = t.conversations.c
    stmt = select(*[c[name] for name in TABLE_FIELDS]).where(and_(True, *query_conditions(query))).order_by(c.id)
    if query.limit:
        stmt = stmt.limit(query.limit)
    with read(engine) as conn:
        return TableRows(TABLE_FIELDS, [tuple(r) for r in conn.execute(stmt)])
