"""The whole data model as SQLAlchemy Core metadata; `sql/schema.sql` is generated from it.

One module per part of the model; every table is reachable here (`tables.conversations`), as the
store's modules use it.
"""

from brightrun_gen.store.tables.catalog import (
    advisor_profiles, edge_cases, emotional_arcs, emotions, personas, prompt_templates, scenarios, topics, vocabulary,
)
from brightrun_gen.store.tables.columns import Json, Timestamp, metadata, utcnow
from brightrun_gen.store.tables.conversations import (
    conversation_metadata, conversation_turns, conversation_versions, conversations, imported_files, review_events,
    schema_migrations,
)
from brightrun_gen.store.tables.generation import generation_jobs, generation_logs, generation_queue, rate_limit_states
from brightrun_gen.store.tables.knowledge import (
    chunk_dimensions, chunks, conversation_sources, document_categories, documents, knowledge_choices,
    scenario_suggestions, voice_profiles,
)
from brightrun_gen.store.tables.quality import conversation_signatures, judge_rubrics, judgements, signature_bands

__all__ = [
    "Json", "Timestamp", "metadata", "utcnow",
    "advisor_profiles", "edge_cases", "emotional_arcs", "emotions", "personas", "prompt_templates", "scenarios",
    "topics", "vocabulary",
    "conversation_metadata", "conversation_turns", "conversation_versions", "conversations", "imported_files",
    "review_events", "schema_migrations",
    "generation_jobs", "generation_logs", "generation_queue", "rate_limit_states",
    "chunk_dimensions", "chunks", "conversation_sources", "document_categories", "documents", "knowledge_choices",
    "scenario_suggestions", "voice_profiles",
    "conversation_signatures", "judge_rubrics", "judgements", "signature_bands",
]
