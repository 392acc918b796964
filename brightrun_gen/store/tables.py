"""The whole data model as SQLAlchemy Core metadata; `sql/schema.sql` is generated from it."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
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
    # The most similar other conversation when this version was written, and how similar (dedupe).
    Column("similar_to", String(120)),
    Column("similarity", Float),
    *_stamps(),
    # Added by migration 4: how this version came to be (NULL: first written, by generation or import).
    Column("origin", String(20)),  # auto_repair | reviewer_repair
    Column("parent_version", Integer),  # the version a repair started from
    Column("notes", Text),  # what the repair was asked to fix
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
    # What the turn's writer, the judge or an imported file says about it (domain/annotations.py).
    Column("annotation", Json),
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
    # Added by migration 4: the budget cap and why the job stopped ("budget", or NULL: by a person).
    Column("max_cost_usd", Float),
    Column("item_cost_estimate", Float),  # expected cost of one item (generation, judge, repairs) before any finished
    Column("stop_reason", String(20)),
    # Added by migration 7 (pacing): who the calls are counted against (a fingerprint of key and
    # endpoint, never the key), how many calls the API refused (429/529), and the seconds the
    # runner held calls back for the rate limits.
    Column("account", String(32)),
    Column("calls_refused", Integer, nullable=False, default=0, server_default="0"),
    Column("wait_seconds", Float, nullable=False, default=0.0, server_default="0"),
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
    # Added by migration 4: what the call was for.
    Column("kind", String(20), nullable=False, default="generate", server_default="generate"),  # generate|repair|judge
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

# Inputs from earlier pipeline stages: the business's categorized documents and their semantic
# chunks, in the upstream stage's shape (its column names), so its rows copy over as they are.
# Bright Run's own `import-docs` writes the same shape. Lists (key_terms, tags) are JSON lists here
# where the upstream uses PostgreSQL arrays: one definition serves SQLite and PostgreSQL.
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
    # Where it came from: a file path, an upload's name, or "upstream:<id>" / "csv:<document>".
    Column("source_path", String(500), nullable=False),
    Column("doc_type", String(20), nullable=False),  # markdown | text | html | pdf | docx | upstream | csv
    # sha256 of the file's bytes (of the chunk texts for upstream rows): the same content is stored once.
    Column("content_hash", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False, default=0),
    *_stamps(),
    UniqueConstraint("source_path"),
    UniqueConstraint("content_hash"),
)
chunks = Table(
    "chunks",
    metadata,
    _id(),
    Column("chunk_id", String(200), nullable=False, unique=True),  # the upstream's text id, or ours
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("chunk_type", String(40), nullable=False, default="text"),
    Column("section_heading", String(500)),
    Column("page_start", Integer),
    Column("page_end", Integer),
    Column("char_start", Integer),
    Column("char_end", Integer),
    Column("token_count", Integer, nullable=False),
    Column("chunk_text", Text, nullable=False),
    *_stamps(),
    Index(None, "document_id"),
)
chunk_dimensions = Table(
    "chunk_dimensions",
    metadata,
    _id(),
    # The chunk's row id here (the upstream keys this table by its text chunk_id, kept in chunks).
    Column("chunk_id", Integer, ForeignKey("chunks.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("chunk_summary_1s", Text),
    Column("key_terms", Json),
    Column("audience", String(200)),
    Column("intent", String(200)),
    Column("tone_voice_tags", Json),
    Column("brand_persona_tags", Json),
    Column("domain_tags", Json),
    Column("claim", Text),
    Column("evidence_snippets", Json),
    Column("factual_confidence_0_1", Float),
    Column("extra", Json),  # the upstream's other dimension columns, kept as they came
    *_stamps(),
)

# The judge (issue 13): its rubric versions, and one judgement per conversation version.
judge_rubrics = Table(
    "judge_rubrics",
    metadata,
    _id(),
    Column("name", String(120), nullable=False),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("body", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    *_stamps(),
)

judgements = Table(
    "judgements",
    metadata,
    _id(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("rubric_hash", String(64), nullable=False),
    Column("provider", String(20), nullable=False),
    Column("model", String(80), nullable=False),
    Column("score", Float),  # mean criterion score 1-5; NULL when the judge could not run
    Column("passed", Boolean, nullable=False),
    Column("flagged", Boolean, nullable=False, default=False),  # failed and not repaired: a reviewer decides
    Column("flag_reason", Text),
    Column("reasons", Json, nullable=False),
    Column("criteria", Json, nullable=False),
    Column("turn_scores", Json, nullable=False),
    Column("findings", Json, nullable=False),
    Column("summary", Text),
    Column("error", Text),
    Column("log_id", Integer),
    Column("queue_item_id", Integer),
    *_stamps(),
    UniqueConstraint("conversation_id", "version"),
    Index(None, "queue_item_id"),
)

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", Timestamp, nullable=False, default=utcnow),
)


# Which chunks grounded each version of a conversation, in prompt order. Document, heading and
# excerpt are copied: the provenance of a version stays true after its document is re-imported.
conversation_sources = Table(
    "conversation_sources",
    metadata,
    _id(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("pinned", Boolean, nullable=False, default=False),
    Column("chunk_id", String(200), nullable=False),
    Column("document_title", String(300), nullable=False),
    Column("section_heading", String(500)),
    Column("excerpt", Text, nullable=False),
    *_stamps(),
    UniqueConstraint("conversation_id", "version", "chunk_id"),
    Index(None, "chunk_id"),
)

# A reviewer's choice for one planned row: always use this chunk (pinned) or never (removed).
knowledge_choices = Table(
    "knowledge_choices",
    metadata,
    _id(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    # A row id: a re-imported document gets new chunks, and a choice about old text goes with it.
    Column("chunk_id", Integer, ForeignKey("chunks.id", ondelete="CASCADE"), nullable=False),
    Column("choice", String(10), nullable=False),  # pinned | removed
    *_stamps(),
    UniqueConstraint("conversation_id", "chunk_id"),
)

# Tier-2 scenarios Claude suggested from the firm's chunks; an accepted one is also a catalog
# scenario (its own key prefix, so `init` never writes over it).
scenario_suggestions = Table(
    "scenario_suggestions",
    metadata,
    _id(),
    Column("key", String(80), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("status", String(20), nullable=False, default="suggested"),  # suggested | accepted | dismissed
    Column("data", Json, nullable=False),  # the scenario, the personas it fits, the chunks it is drawn from
    *_stamps(),
)

# The firm's voice, measured from its real conversations (`brightrun voice`); the newest is used.
voice_profiles = Table(
    "voice_profiles",
    metadata,
    _id(),
    Column("source", String(500), nullable=False),  # what it was measured from, for people to read
    Column("profile", Json, nullable=False),
    Column("content_hash", String(64), nullable=False),
    *_stamps(),
)

# Near-duplicate index (dedupe): the MinHash signature of each conversation version, and its LSH band
# keys, one row per band, so "which stored conversations share a band with this one" is one indexed
# query. A version's text never changes, so its rows are written once and never updated; band rows
# carry no timestamps of their own (32 per version: the signature row says when).
conversation_signatures = Table(
    "conversation_signatures",
    metadata,
    _id(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("signature", LargeBinary, nullable=False),  # 128 little-endian uint32 MinHash values
    Column("turns", Integer, nullable=False),
    Column("words", Integer, nullable=False),  # as conversation_turns.word_count counts them; 0: no text
    *_stamps(),
    UniqueConstraint("conversation_id", "version"),
)

signature_bands = Table(
    "signature_bands",
    metadata,
    _id(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("band", Integer, nullable=False),
    Column("band_key", BigInteger, nullable=False),
    UniqueConstraint("conversation_id", "version", "band"),
    Index(None, "band_key"),
)

# The rate limits the Messages API reports for one API key (its fingerprint, never the key) and
# model, and our copy of its buckets with the calls in flight: every runner thread and every
# worker sharing the database admits its calls against this one row, under a row lock.
rate_limit_states = Table(
    "rate_limit_states",
    metadata,
    _id(),
    Column("account", String(32), nullable=False),
    Column("model", String(80), nullable=False),
    Column("state", Json, nullable=False),  # domain.ratelimits.LimitState.to_json()
    *_stamps(),
    UniqueConstraint("account", "model"),
)
