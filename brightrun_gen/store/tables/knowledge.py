"""What prompts draw on besides the catalog: the firm's documents and chunks, their use per
version and per row, suggested scenarios, and the firm's voice."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from brightrun_gen.store.tables.columns import Json, id_column, metadata, stamps

# Inputs from earlier pipeline stages: the business's categorized documents and their semantic
# chunks, in the upstream stage's shape (its column names), so its rows copy over as they are.
# Bright Run's own `import-docs` writes the same shape. Lists (key_terms, tags) are JSON lists here
# where the upstream uses PostgreSQL arrays: one definition serves SQLite and PostgreSQL.
document_categories = Table(
    "document_categories",
    metadata,
    id_column(),
    Column("name", String(200), nullable=False, unique=True),
    *stamps(),
)


documents = Table(
    "documents",
    metadata,
    id_column(),
    Column("title", String(300), nullable=False),
    Column("category_id", Integer, ForeignKey("document_categories.id")),
    # Where it came from: a file path, an upload's name, or "upstream:<id>" / "csv:<document>".
    Column("source_path", String(500), nullable=False),
    Column("doc_type", String(20), nullable=False),  # markdown | text | html | pdf | docx | upstream | csv
    # sha256 of the file's bytes (of the chunk texts for upstream rows): the same content is stored once.
    Column("content_hash", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False, default=0),
    *stamps(),
    UniqueConstraint("source_path"),
    UniqueConstraint("content_hash"),
)


chunks = Table(
    "chunks",
    metadata,
    id_column(),
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
    *stamps(),
    Index(None, "document_id"),
)


chunk_dimensions = Table(
    "chunk_dimensions",
    metadata,
    id_column(),
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
    *stamps(),
)


# Which chunks grounded each version of a conversation, in prompt order. Document, heading and
# excerpt are copied: the provenance of a version stays true after its document is re-imported.
conversation_sources = Table(
    "conversation_sources",
    metadata,
    id_column(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("pinned", Boolean, nullable=False, default=False),
    Column("chunk_id", String(200), nullable=False),
    Column("document_title", String(300), nullable=False),
    Column("section_heading", String(500)),
    Column("excerpt", Text, nullable=False),
    *stamps(),
    UniqueConstraint("conversation_id", "version", "chunk_id"),
    Index(None, "chunk_id"),
)


# A reviewer's choice for one planned row: always use this chunk (pinned) or never (removed).
knowledge_choices = Table(
    "knowledge_choices",
    metadata,
    id_column(),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    # A row id: a re-imported document gets new chunks, and a choice about old text goes with it.
    Column("chunk_id", Integer, ForeignKey("chunks.id", ondelete="CASCADE"), nullable=False),
    Column("choice", String(10), nullable=False),  # pinned | removed
    *stamps(),
    UniqueConstraint("conversation_id", "chunk_id"),
)


# Tier-2 scenarios Claude suggested from the firm's chunks; an accepted one is also a catalog
# scenario (its own key prefix, so `init` never writes over it).
scenario_suggestions = Table(
    "scenario_suggestions",
    metadata,
    id_column(),
    Column("key", String(80), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("status", String(20), nullable=False, default="suggested"),  # suggested | accepted | dismissed
    Column("data", Json, nullable=False),  # the scenario, the personas it fits, the chunks it is drawn from
    *stamps(),
)


# The firm's voice, measured from its real conversations (`brightrun voice`); the newest is used.
voice_profiles = Table(
    "voice_profiles",
    metadata,
    id_column(),
    Column("source", String(500), nullable=False),  # what it was measured from, for people to read
    Column("profile", Json, nullable=False),
    Column("content_hash", String(64), nullable=False),
    *stamps(),
)
