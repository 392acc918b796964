"""Read-side use cases for the dashboard, review page and CLI: tables, options, details."""

from __future__ import annotations

from typing import Sequence

import pandas as pd
from sqlalchemy import Engine

from brightrun_gen.domain.vocabulary import DIMENSIONS
from brightrun_gen.services import knowledge
from brightrun_gen.store import (
    catalog_repo, conversations as conv_store, judgements as judge_store, listing, logs as log_store, queue,
    reviews as review_store,
)
from brightrun_gen.store.conversations import ConversationDetail, ConversationQuery, ConversationRow
from brightrun_gen.store.db import read

TABLE_COLUMNS = ["id", "key", "persona", "emotion", "topic", "tier", "status", "quality_score", "model", "updated_at",
                 "version", "failed_at", "last_error", "persona_key"]


def conversation_table(engine: Engine, query: ConversationQuery | None = None) -> pd.DataFrame:
    """One row per conversation, with display labels for persona and emotions."""
    found = listing.table_rows(engine, query)
    frame = pd.DataFrame.from_records(found.rows, columns=list(found.columns))
    labels = persona_labels(engine)
    frame["persona_key"] = frame["persona"]
    frame["persona"] = frame["persona"].map(lambda key: labels.get(key, key))
    frame["emotion"] = frame["emotion_start"] + " → " + frame["emotion_end"]
    frame["model"] = frame["model"].fillna("")
    frame["version"] = frame["current_version"]
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


def conversation_detail(engine: Engine, key_or_id: str | int, version: int | None = None) -> ConversationDetail:
    return conv_store.get_detail(engine, key_or_id, version)


def status_counts(engine: Engine) -> dict[str, int]:
    return conv_store.count_by_status(engine)


def find_id(engine: Engine, key_or_id: str | int) -> int:
    """The numeric id of a conversation given by id or key (NotFound names what was asked)."""
    with read(engine) as conn:
        return conv_store.find_id(conn, key_or_id)


def list_conversations(engine: Engine, *, where: dict | None = None, statuses: Sequence[str] = (),
                       persona_text: str = "") -> list[ConversationRow]:
    """Conversations matching every dimension filter (any of its values), in id order."""
    query = ConversationQuery(where=where or {}, statuses=tuple(statuses), persona_text=persona_text)
    return conv_store.list_conversations(engine, query)


def conversation_json(engine: Engine, key_or_id: str | int) -> dict:
    """One conversation as `brightrun show --json` prints it."""
    detail = conv_store.get_detail(engine, key_or_id)
    return {
        **detail.row.as_dict(),
        "turns": [{"role": t.role, "content": t.content} for t in detail.turns],
        "quality": detail.quality,
        "metadata": conv_store.unflatten(detail.metadata),
        "versions": detail.versions,
        "sources": knowledge.sources(engine, detail.row.id, detail.row.current_version),
        "judgement": judge_store.current_judgement(engine, detail.row.id),
        "reviewer_notes": detail.row.reviewer_notes,
        "decision": _latest_decision(engine, detail.row.id),
    }


def _latest_decision(engine: Engine, conversation_id: int) -> dict | None:
    """The newest review event (version, action, reviewer, notes, at) without its row id."""
    events = review_store.list_events(engine, conversation_id)
    if not events:
        return None
    return {k: v for k, v in events[-1].as_dict().items() if k != "id"}


def attempts(engine: Engine, key_or_id: str | int | None = None, *, limit: int = 500) -> list[log_store.LogEntry]:
    """Generation attempts, newest first, of one conversation or of all."""
    cid = find_id(engine, key_or_id) if key_or_id is not None else None
    return log_store.list_logs(engine, cid, limit=limit)


def jobs(engine: Engine, *, active_only: bool = False, limit: int = 20) -> list[queue.Job]:
    return queue.list_jobs(engine, active_only=active_only, limit=limit)
