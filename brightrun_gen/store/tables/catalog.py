"""The catalog, the prompt templates and the vocabulary of intents, tones and outcomes."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, String, Table, Text, UniqueConstraint, text

from brightrun_gen.store.tables.columns import Json, catalog_table, id_column, metadata, stamps

advisor_profiles = catalog_table("advisor_profiles")


personas = catalog_table("personas", Column("archetype", String(200), nullable=False))


emotions = catalog_table(
    "emotions",
    Column("family", String(80), nullable=False),
    Column("valence", String(20), nullable=False),
    Column("intensity", Float, nullable=False),
)


emotional_arcs = catalog_table("emotional_arcs")


topics = catalog_table(
    "topics",
    Column("content_category", String(120), nullable=False),
    Column("topic_cluster", String(120), nullable=False),
)


scenarios = catalog_table("scenarios")


edge_cases = catalog_table("edge_cases")


vocabulary = Table(
    "vocabulary",
    metadata,
    id_column(),
    Column("kind", String(40), nullable=False),  # intent | tone | outcome_type
    Column("key", String(80), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    *stamps(),
    UniqueConstraint("kind", "key"),
)


prompt_templates = Table(
    "prompt_templates",
    metadata,
    id_column(),
    Column("name", String(120), nullable=False),
    Column("tier", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("placeholders", Json, nullable=False),
    Column("response_schema", Json, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("content_hash", String(64), nullable=False),
    *stamps(),
    # The weight of an active version among the active versions of its tier: the share of new rows
    # it writes (issue 18, migration 9).
    Column("share", Integer, nullable=False, server_default=text("100")),
    UniqueConstraint("name", "content_hash"),
)
