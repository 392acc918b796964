"""The whole data model as SQLAlchemy Core metadata; `sql/schema.sql` is generated from it."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
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


def _id() -> Column:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _stamps() -> list[Column]:
    return [
        Column("created_at", Timestamp, nullable=False, default=utcnow),
        Column("updated_at", Timestamp, nullable=False, default=utcnow, onupdate=utcnow),
    ]


def _catalog_table(name: str, *columns: Column) -> Table:
    """Catalog tables share a key, a display name and the full entry as JSON."""
    return Table(
        name,
        metadata,
        _id(),
        Column("key", String(80), nullable=False, unique=True),
        Column("name", String(200), nullable=False),
        *columns,
        Column("data", Json, nullable=False),
        *_stamps(),
    )


advisor_profiles = _catalog_table("advisor_profiles")
personas = _catalog_table("personas", Column("archetype", String(200), nullable=False))
emotions = _catalog_table(
    "emotions",
    Column("family", String(80), nullable=False),
    Column("valence", String(20), nullable=False),
    Column("intensity", Float, nullable=False),
)
emotional_arcs = _catalog_table("emotional_arcs")
topics = _catalog_table(
    "topics",
    Column("content_category", String(120), nullable=False),
    Column("topic_cluster", String(120), nullable=False),
)
scenarios = _catalog_table("scenarios")
edge_cases = _catalog_table("edge_cases")
vocabulary = Table(
    "vocabulary",
    metadata,
    _id(),
    Column("kind", String(40), nullable=False),  # intent | tone | outcome_type
    Column("key", String(80), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    *_stamps(),
    UniqueConstraint("kind", "key"),
)

prompt_templates = Table(
    "prompt_templates",
    metadata,
    _id(),
    Column("name", String(120), nullable=False),
    Column("tier", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("placeholders", Json, nullable=False),
    Column("response_schema", Json, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("content_hash", String(64), nullable=False),
    *_stamps(),
    # The weight of an active version among the active versions of its tier: the share of new rows
    # it writes (issue 18, migration 9).
    Column("share", Integer, nullable=False, server_default=text("100")),
    UniqueConstraint("name", "content_hash"),
)

conversations = Table(
    "conversations",
    metadata,
    _id(),
    Column("key", String(120), nullable=False, unique=True),
    Column("tier", Integer, nullable=False),
    Column("persona", String(80), nullable=False),
    Column("emotion_start", String(80), nullable=False),
    Column("emotion_end", String(80), nullable=False),
    Column("arc", String(80)),
    Column("scenario", String(80)),
    Column("edge_case", String(80)),
    Column("topic", String(120), nullable=False),
    Column("content_category", String(120), nullable=False),
    Column("topic_cluster", String(120), nullable=False),
    Column("intent", String(120), nullable=False),
    Column("tone", String(120), nullable=False),
    Column("outcome_type", String(120), nullable=False),
    Column("status", String(20), nullable=False, default="not_generated"),
    Column("source", String(20), nullable=False, default="plan"),
    Column("quality_score", Float),
    Column("quality", Json),
    Column("model", String(80)),  # who wrote the current version: a Claude model, "offline", "human"
    Column("reviewer_notes", Text),
    Column("current_version", Integer, nullable=False, default=0),
    Column("last_error", Text),
    *_stamps(),
    # While queued or generating: the status the row rested in before, given back when the run fails
    # or is cancelled, so a failed regeneration never loses a review decision (migration 9).
    Column("prior_status", String(20)),
    # The failed-attempt marker: when the last attempt failed (its reason is last_error); cleared
    # when a version is stored (migration 9).
    Column("failed_at", Timestamp),
    Index(None, "status"),
    Index(None, "tier"),
    Index(None, "persona"),
    Index(None, "updated_at"),
)

conversation_versions = Table(
    "conversation_versions",
    metadata,
    _id(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("model", String(80), nullable=False),
    Column("template_name", String(120)),
    Column("template_hash", String(64)),
    Column("quality_score", Float),
    Column("quality", Json),
    Column("log_id", Integer),
    *_stamps(),
    UniqueConstraint("conversation_id", "version"),
)

conversation_turns = Table(
    "conversation_turns",
    metadata,
    _id(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("position", Integer, nullable=False),
    Column("role", String(12), nullable=False),
    Column("content", Text, nullable=False),
    Column("word_count", Integer, nullable=False),
    *_stamps(),
    UniqueConstraint("conversation_id", "version", "position"),
)

conversation_metadata = Table(
    "conversation_metadata",
    metadata,
    _id(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(300), nullable=False),  # a dotted path: "pairs.0.emotional_context.intensity"
    Column("value", Json),
    *_stamps(),
    UniqueConstraint("conversation_id", "key"),
    Index(None, "key"),
)

imported_files = Table(
    "imported_files",
    metadata,
    _id(),
    Column("name", String(300), nullable=False),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("conversation_keys", Json, nullable=False),
    *_stamps(),
)

generation_jobs = Table(
    "generation_jobs",
    metadata,
    _id(),
    Column("kind", String(20), nullable=False),  # single | selected | filter | all
    Column("selection", Json, nullable=False),  # ids or filter that made the job
    Column("status", String(20), nullable=False, default="running"),  # running|stopping|stopped|done
    Column("provider", String(20), nullable=False),
    Column("model", String(80), nullable=False),
    Column("concurrency", Integer, nullable=False),
    Column("use_batch", Boolean, nullable=False, default=False),
    Column("batch_id", String(120)),
    Column("finished_at", Timestamp),
    *_stamps(),
    Index(None, "status"),
)

generation_queue = Table(
    "generation_queue",
    metadata,
    _id(),
    Column("job_id", Integer, ForeignKey("generation_jobs.id", ondelete="CASCADE"), nullable=False),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(20), nullable=False, default="pending"),  # pending|running|succeeded|failed|cancelled
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_owner", String(200)),
    Column("lease_expires_at", Timestamp),
    Column("error", Text),
    Column("batch_id", String(120)),
    Column("started_at", Timestamp),
    Column("finished_at", Timestamp),
    *_stamps(),
    Index(None, "job_id", "status"),
    Index(None, "status", "lease_expires_at"),
    # At most one open item per conversation: enqueueing twice cannot duplicate work.
    Index(
        "uq_generation_queue_open_conversation",
        "conversation_id",
        unique=True,
        sqlite_where=text("status IN ('pending', 'running')"),
        postgresql_where=text("status IN ('pending', 'running')"),
    ),
)

generation_logs = Table(
    "generation_logs",
    metadata,
    _id(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("queue_item_id", Integer),
    Column("attempt", Integer, nullable=False),
    Column("provider", String(20), nullable=False),
    Column("model", String(80), nullable=False),
    Column("template_name", String(120)),
    Column("template_hash", String(64)),
    Column("parameters", Json, nullable=False),
    Column("raw_response", Text),
    Column("stop_reason", String(40)),
    Column("outcome", String(20), nullable=False),  # ok | invalid | error
    Column("validation_errors", Json),
    Column("error", Text),
    Column("input_tokens", Integer, nullable=False, default=0),
    Column("output_tokens", Integer, nullable=False, default=0),
    Column("cache_creation_tokens", Integer, nullable=False, default=0),
    Column("cache_read_tokens", Integer, nullable=False, default=0),
    Column("cost_usd", Float, nullable=False, default=0.0),
    Column("duration_ms", Integer, nullable=False, default=0),
    Column("retries", Integer, nullable=False, default=0),
    *_stamps(),
    Index(None, "conversation_id"),
    Index(None, "created_at"),
)

review_events = Table(
    "review_events",
    metadata,
    _id(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("action", String(20), nullable=False),  # approved | needs_edit | rejected
    Column("reviewer", String(200), nullable=False),
    Column("notes", Text),
    *_stamps(),
    Index(None, "conversation_id"),
)

# Inputs from earlier pipeline stages (read-only here): ground Tier 2 prompts in the business's material.
document_categories = Table(
    "document_categories",
    metadata,
    _id(),
    Column("name", String(200), nullable=False, unique=True),
    *_stamps(),
)
documents = Table(
    "documents",
    metadata,
    _id(),
    Column("title", String(300), nullable=False),
    Column("category_id", Integer, ForeignKey("document_categories.id")),
    Column("source_path", String(500)),
    *_stamps(),
)
chunks = Table(
    "chunks",
    metadata,
    _id(),
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("content", Text, nullable=False),
    *_stamps(),
)
chunk_dimensions = Table(
    "chunk_dimensions",
    metadata,
    _id(),
    Column("chunk_id", Integer, ForeignKey("chunks.id", ondelete="CASCADE"), nullable=False),
    Column("dimension", String(80), nullable=False),
    Column("value", String(200), nullable=False),
    *_stamps(),
)

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", Timestamp, nullable=False, default=utcnow),
)
