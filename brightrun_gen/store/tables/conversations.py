"""Conversations, their versions, turns and metadata, imported files, reviews and the migrations applied."""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from brightrun_gen.store.tables.columns import Json, Timestamp, id_column, metadata, stamps, utcnow

conversations = Table(
    "conversations",
    metadata,
    id_column(),
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
    *stamps(),
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
    id_column(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("model", String(80), nullable=False),
    Column("template_name", String(120)),
    Column("template_hash", String(64)),
    Column("quality_score", Float),
    Column("quality", Json),
    Column("log_id", Integer),
    # The most similar other conversation when this version was written, and how similar (dedupe).
    Column("similar_to", String(120)),
    Column("similarity", Float),
    *stamps(),
    # Added by migration 4: how this version came to be (NULL: first written, by generation or import).
    Column("origin", String(20)),  # auto_repair | reviewer_repair
    Column("parent_version", Integer),  # the version a repair started from
    Column("notes", Text),  # what the repair was asked to fix
    UniqueConstraint("conversation_id", "version"),
)


conversation_turns = Table(
    "conversation_turns",
    metadata,
    id_column(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("position", Integer, nullable=False),
    Column("role", String(12), nullable=False),
    Column("content", Text, nullable=False),
    Column("word_count", Integer, nullable=False),
    *stamps(),
    # What the turn's writer, the judge or an imported file says about it (domain/annotations.py).
    Column("annotation", Json),
    UniqueConstraint("conversation_id", "version", "position"),
)


conversation_metadata = Table(
    "conversation_metadata",
    metadata,
    id_column(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(300), nullable=False),  # a dotted path: "pairs.0.emotional_context.intensity"
    Column("value", Json),
    *stamps(),
    UniqueConstraint("conversation_id", "key"),
    Index(None, "key"),
)


imported_files = Table(
    "imported_files",
    metadata,
    id_column(),
    Column("name", String(300), nullable=False),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("conversation_keys", Json, nullable=False),
    *stamps(),
)


review_events = Table(
    "review_events",
    metadata,
    id_column(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("action", String(20), nullable=False),  # approved | needs_edit | rejected
    Column("reviewer", String(200), nullable=False),
    Column("notes", Text),
    *stamps(),
    Index(None, "conversation_id"),
)


schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", Timestamp, nullable=False, default=utcnow),
)
