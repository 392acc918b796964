"""Generation: jobs, their queue items, the log of every call, and the rate limits runners share."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint, text

from brightrun_gen.store.tables.columns import Json, Timestamp, id_column, metadata, stamps

generation_jobs = Table(
    "generation_jobs",
    metadata,
    id_column(),
    Column("kind", String(20), nullable=False),  # single | selected | filter | all
    Column("selection", Json, nullable=False),  # ids or filter that made the job
    Column("status", String(20), nullable=False, default="running"),  # running|stopping|stopped|done
    Column("provider", String(20), nullable=False),
    Column("model", String(80), nullable=False),
    Column("concurrency", Integer, nullable=False),
    Column("use_batch", Boolean, nullable=False, default=False),
    Column("batch_id", String(120)),
    Column("finished_at", Timestamp),
    *stamps(),
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
    id_column(),
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
    *stamps(),
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
    id_column(),
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
    *stamps(),
    # Added by migration 4: what the call was for.
    Column("kind", String(20), nullable=False, default="generate", server_default="generate"),  # generate|repair|judge
    Index(None, "conversation_id"),
    Index(None, "created_at"),
)


# The rate limits the Messages API reports for one API key (its fingerprint, never the key) and
# model, and our copy of its buckets with the calls in flight: every runner thread and every
# worker sharing the database admits its calls against this one row, under a row lock.
rate_limit_states = Table(
    "rate_limit_states",
    metadata,
    id_column(),
    Column("account", String(32), nullable=False),
    Column("model", String(80), nullable=False),
    Column("state", Json, nullable=False),  # domain.ratelimits.LimitState.to_json()
    *stamps(),
    UniqueConstraint("account", "model"),
)
