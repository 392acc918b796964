"""The metadata every table is defined in, and the column types and shapes the tables share."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, Text, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

class _SQLiteJson(TypeDecorator):
    """JSON as TEXT on SQLite: a column typed JSON gets NUMERIC affinity there, which turns a
    stored 0.0 into 0 and changes the value's type on the way back."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else json.dumps(value, ensure_ascii=False)

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value)


Json = JSON().with_variant(JSONB(), "postgresql").with_variant(_SQLiteJson(), "sqlite")
Timestamp = DateTime(timezone=True)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def id_column() -> Column:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def stamps() -> list[Column]:
    return [
        Column("created_at", Timestamp, nullable=False, default=utcnow),
        Column("updated_at", Timestamp, nullable=False, default=utcnow, onupdate=utcnow),
    ]


def catalog_table(name: str, *columns: Column) -> Table:
    """Catalog tables share a key, a display name and the full entry as JSON."""
    return Table(
        name,
        metadata,
        id_column(),
        Column("key", String(80), nullable=False, unique=True),
        Column("name", String(200), nullable=False),
        *columns,
        Column("data", Json, nullable=False),
        *stamps(),
    )
