"""Read-side use cases for the dashboard, review page and CLI: tables, options, details."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from brightrun_gen.domain.models import DIMENSIONS
from brightrun_gen.store import catalog_repo, conversations as conv_store, listing
from brightrun_gen.store.conversations import ConversationDetail, ConversationQuery
from brightrun_gen.store.db import read

TABLE_COLUMNS = ["id", "key", "persona", "emotion", "topic", "tier", "status", "quality_score", "model", "updated_at"]


def conversation_table(engine: Engine, query: ConversationQuery | None = None) -> pd.DataFrame:
    """One row per conversation, with display labels for persona and emotions."""
    found = listing.table_rows(engine, query)
    frame = pd.DataFrame.from_records(found.rows, columns=list(found.columns))
    labels = persona_labels(engine)
    frame["persona"] = frame["persona"].map(lambda key: labels.get(key, key))
    frame["emotion"] = frame["emotion_start"] + " → " + frame["emotion_end"]
    frame["model"] = frame["model"].fillna("")
    return frame[TABLE_COLUMNS]


def persona_labels(engine: Engine) -> dict[str, str]:
    """Every persona's key -> its label, as the export's training pairs name the client."""
    with read(engine) as conn:
        return catalog_repo.persona_labels(conn)


def filter_options(engine: Engine) -> dict[str, list]:
    """The values present in the store for each filterable dimension, plus statuses."""
    options = {name: conv_store.distinct_values(engine, name) for name in DIMENSIONS}
    options["status"] = conv_store.distinct_values(engine, "status")
    return options


def conversation_detail(engine: Engine, key_or_id: str | int) -> ConversationDetail:
    return conv_store.get_detail(engine, key_or_id)


def status_counts(engine: Engine) -> dict[str, int]:
    return conv_store.count_by_status(engine)
