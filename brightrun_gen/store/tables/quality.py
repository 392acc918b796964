"""What judges a conversation: the judge's rubrics and judgements, and the near-duplicate index."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger, Boolean, Column, Float, ForeignKey, Index, Integer, LargeBinary, String, Table, Text, UniqueConstraint,
)

from brightrun_gen.store.tables.columns import Json, id_column, metadata, stamps

# The judge (issue 13): its rubric versions, and one judgement per conversation version.
judge_rubrics = Table(
    "judge_rubrics",
    metadata,
    id_column(),
    Column("name", String(120), nullable=False),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("body", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    *stamps(),
)


judgements = Table(
    "judgements",
    metadata,
    id_column(),
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
    *stamps(),
    UniqueConstraint("conversation_id", "version"),
    Index(None, "queue_item_id"),
)


# Near-duplicate index (dedupe): the MinHash signature of each conversation version, and its LSH band
# keys, one row per band, so "which stored conversations share a band with this one" is one indexed
# query. A version's text never changes, so its rows are written once and never updated; band rows
# carry no timestamps of their own (32 per version: the signature row says when).
conversation_signatures = Table(
    "conversation_signatures",
    metadata,
    id_column(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("signature", LargeBinary, nullable=False),  # 128 little-endian uint32 MinHash values
    Column("turns", Integer, nullable=False),
    Column("words", Integer, nullable=False),  # as conversation_turns.word_count counts them; 0: no text
    *stamps(),
    UniqueConstraint("conversation_id", "version"),
)


signature_bands = Table(
    "signature_bands",
    metadata,
    id_column(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("band", Integer, nullable=False),
    Column("band_key", BigInteger, nullable=False),
    UniqueConstraint("conversation_id", "version", "band"),
    Index(None, "band_key"),
)
