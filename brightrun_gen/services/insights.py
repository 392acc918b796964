"""Read-only views for the catalog and activity pages: searchable tables and the data behind charts."""

from __future__ import annotations

import html
from typing import Sequence

import pandas as pd
from sqlalchemy import Engine

from brightrun_gen.domain.vocabulary import OFFLINE_MODEL, WRITTEN
from brightrun_gen.errors import InputError
from brightrun_gen.services import templates
from brightrun_gen.services.browse import persona_labels
from brightrun_gen.store import catalog_repo, conversations as conv_store, insights as store, logs as log_store
from brightrun_gen.store.conversations import ConversationDetail, ConversationQuery

CATALOG_SECTIONS = {
    "Personas": "personas", "Emotions": "emotions", "Arcs": "arcs", "Scenarios": "scenarios",
    "Edge cases": "edge_cases", "Topics": "topics", "Intents": "intents", "Tones": "tones",
    "Outcome types": "outcome_types", "Openings": "openings", "Channels": "channels", "Verbosity": "verbosity",
}
COVERAGE_COLUMNS = {
    "Arc / storyline": "storyline", "Content category": "content_category", "Topic cluster": "topic_cluster",
    "Starting emotion": "emotion_start", "Intent": "intent", "Tone": "tone", "Outcome type": "outcome_type",
    "Tier": "tier",
}
COVERAGE_MEASURES = {
    "Conversations planned": "count", "Share written": "written", "Share approved": "approved",
}
# Statuses whose conversation has text (the review page's "reviewable").
OUTCOMES = ("ok", "invalid", "error")


# --- searching tables ----------------------------------------------------------------------------


def search_rows(table: pd.DataFrame, text: str) -> pd.DataFrame:
    """Rows where any cell contains `text` (case-insensitive); all rows for empty text."""
    text = text.strip().lower()
    if not text or table.empty:
        return table
    hit = table.astype(str).apply(lambda column: column.str.lower().str.contains(text, regex=False))
    return table[hit.any(axis=1)].reset_index(drop=True)


def _cell(value):
    """Lists as 'a; b', everything else as it is, so a table cell reads like a sentence."""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return value


# --- catalog -----------------------------------------------------------------------------------


def catalog_entries(engine: Engine, section: str) -> list[dict]:
    """The stored entries of one catalog section, in full."""
    if section not in CATALOG_SECTIONS.values():
        raise InputError(f"catalog section {section!r} is unknown; use one of {', '.join(CATALOG_SECTIONS.values())}")
    return catalog_repo.list_section(engine, section)


def catalog_entry(engine: Engine, section: str, key: str) -> dict:
    """One catalog entry in full, by its key."""
    found = next((e for e in catalog_entries(engine, section) if e.get("key") == key), None)
    if found is None:
        raise InputError(f"catalog section {section}: no entry with key {key!r}")
    return found


def catalog_table(engine: Engine, section: str, search: str = "") -> pd.DataFrame:
    """One row per entry, nested fields as dotted columns ('demographics.age'), filtered by `search`."""
    entries = catalog_entries(engine, section)
    table = pd.json_normalize(entries) if entries else pd.DataFrame()
    return search_rows(table.map(_cell) if not table.empty else table, search)


TEMPLATE_COLUMNS = ["id", "name", "tier", "version", "active", "share", "conversations", "stored", "hash",
                    "placeholders", "body"]


def template_table(engine: Engine, search: str = "") -> pd.DataFrame:
    """Every stored prompt template version, numbered per name, with whether (and how much) it is active."""
    rows = [{"id": v.id, "name": v.name, "tier": v.tier, "version": v.version, "active": v.active,
             "share": v.share if v.active else 0, "conversations": v.conversations, "stored": v.stored_at,
             "hash": v.content_hash[:12], "placeholders": ", ".join(v.placeholders or []), "body": v.body}
            for v in templates.versions(engine)]
    return search_rows(pd.DataFrame(rows, columns=TEMPLATE_COLUMNS), search)


def seed_table(engine: Engine, search: str = "") -> pd.DataFrame:
    """Our own seed conversations with their titles, filtered by `search`."""
    ids = store.ids_from_source(engine, "seed")
    rows = conv_store.list_conversations(engine, ConversationQuery(ids=ids)) if ids else []
    titles = store.metadata_values(engine, "title", ids)
    labels = persona_labels(engine)
    table = pd.DataFrame([{"id": r.id, "key": r.key, "title": titles.get(r.id, ""),
                           "persona": labels.get(r.dimensions.persona, r.dimensions.persona),
                           "topic": r.dimensions.topic, "tier": r.dimensions.tier, "status": r.status}
                          for r in rows], columns=["id", "key", "title", "persona", "topic", "tier", "status"])
    return search_rows(table, search)


def conversation_with_annotations(engine: Engine, key_or_id: int | str) -> tuple[ConversationDetail, dict]:
    """A conversation and its metadata as the nested document the seed file carried."""
    detail = conv_store.get_detail(engine, key_or_id)
    return detail, conv_store.unflatten(detail.metadata)


# --- activity ----------------------------------------------------------------------------------


def coverage(engine: Engine, columns: str = "storyline", measure: str = "count") -> pd.DataFrame:
    """Persona × `columns` matrix: conversations planned, or the share written / approved."""
    if measure not in COVERAGE_MEASURES.values():
        raise InputError(f"coverage measure {measure!r} is unknown; use one of {', '.join(COVERAGE_MEASURES.values())}")
    counts = pd.DataFrame(store.counts_by(engine, "persona", columns), columns=["row", "column", "status", "count"])
    if counts.empty:
        return pd.DataFrame()
    counts["row"] = counts["row"].map(persona_labels(engine)).fillna(counts["row"])
    counts["column"] = counts["column"].astype(str)
    total = counts.pivot_table(index="row", columns="column", values="count", aggfunc="sum", fill_value=0)
    if measure == "count":
        return _chart_labels(total)
    wanted = WRITTEN if measure == "written" else ("approved",)
    part = counts[counts["status"].isin(wanted)].pivot_table(
        index="row", columns="column", values="count", aggfunc="sum", fill_value=0)
    part = part.reindex(index=total.index, columns=total.columns, fill_value=0)
    return _chart_labels((part / total.where(total > 0)).round(2))


def _chart_labels(matrix: pd.DataFrame) -> pd.DataFrame:
    """Row and column names escaped: Plotly reads tags such as <a> or <b> in axis labels as markup."""
    matrix = matrix.copy()
    matrix.index = [html.escape(str(v), quote=False) for v in matrix.index]
    matrix.columns = [html.escape(str(v), quote=False) for v in matrix.columns]
    return matrix


def funnel(engine: Engine) -> pd.DataFrame:
    """Stages from the plan to approval, with how many conversations reached each."""
    counts = store.funnel_counts(engine)
    stages = [("In the plan", counts["all"]), ("Written (generated or seed)", counts["written"]),
              ("Reviewed", counts["reviewed"]), ("Approved", counts["approved"])]
    return pd.DataFrame(stages, columns=["stage", "conversations"])


def quality_distribution(engine: Engine) -> pd.DataFrame:
    """Each scored conversation's score and who wrote it: Claude, the offline generator or a person."""
    table = pd.DataFrame(store.quality_scores(engine), columns=["key", "score", "status", "source", "model"])
    table["written by"] = table["model"].map(_writer)
    return table


def _writer(model: str | None) -> str:
    if model == OFFLINE_MODEL:
        return "offline generator"
    if model in (None, "", "human"):
        return "person (seed / import)"
    return "Claude"


def usage_per_day(engine: Engine) -> pd.DataFrame:
    """Tokens, cost and attempts per calendar day (UTC)."""
    table = pd.DataFrame(log_store.cost_per_day(engine),
                         columns=["day", "input_tokens", "output_tokens", "cost_usd", "attempts"])
    table["day"] = pd.to_datetime(table["day"].astype(str))
    return table.rename(columns={"input_tokens": "input tokens", "output_tokens": "output tokens",
                                 "cost_usd": "cost (USD)"})


def attempt_log(engine: Engine, outcomes: Sequence[str] = (), key_text: str = "", limit: int = 500) -> pd.DataFrame:
    """Generation attempts, newest first, for the log table."""
    unknown = set(outcomes) - set(OUTCOMES)
    if unknown:
        raise InputError(f"attempt outcome {sorted(unknown)[0]!r} is unknown; use one of {', '.join(OUTCOMES)}")
    rows = store.attempts(engine, outcomes=tuple(outcomes), key_text=key_text, limit=limit)
    table = pd.DataFrame(rows, columns=[*_LOG_COLUMNS, "template_hash"])
    table["duration_ms"] = table["duration_ms"] / 1000
    labels = templates.version_labels(engine)  # versions of one template told apart: 'tier1_arc v2 · 3f9a1c'
    table["template_name"] = [templates.label_of(labels, name, content_hash)
                              for name, content_hash in zip(table["template_name"], table["template_hash"])]
    table = table.drop(columns="template_hash")
    return table.rename(columns=_LOG_COLUMNS)


_LOG_COLUMNS = {
    "id": "id", "created_at": "at", "conversation": "conversation", "kind": "call", "attempt": "attempt",
    "provider": "provider",
    "model": "model", "template_name": "template", "outcome": "outcome", "stop_reason": "stop reason",
    "input_tokens": "input tokens", "output_tokens": "output tokens", "cache_read_tokens": "cache read tokens",
    "cost_usd": "cost (USD)", "duration_ms": "seconds", "retries": "retries", "error": "error",
}
