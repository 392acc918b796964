"""Knowledge per row and per version: pins and removals, provenance links, scenario suggestions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import Connection, Engine, delete, func, select, update

from brightrun_gen.domain.knowledge import KnowledgeItem
from brightrun_gen.domain.models import Scenario
from brightrun_gen.errors import NotFound
from brightrun_gen.store import tables as t
from brightrun_gen.store.db import read

_choice = t.knowledge_choices.c
_src = t.conversation_sources.c
_sug = t.scenario_suggestions.c
CHOICES = ("pinned", "removed")


def choices(conn: Connection, conversation_id: int) -> dict[int, str]:
    """{chunk row id: "pinned" | "removed"} for one row."""
    stmt = select(_choice.chunk_id, _choice.choice).where(_choice.conversation_id == conversation_id).order_by(_choice.id)
    return dict(conn.execute(stmt).all())


def set_choice(conn: Connection, conversation_id: int, chunk_row_id: int, choice: str | None) -> None:
    """Pin, remove, or (None) forget the choice about one chunk for one row."""
    if conn.scalar(select(t.chunks.c.id).where(t.chunks.c.id == chunk_row_id)) is None:
        raise NotFound(f"chunk {chunk_row_id} does not exist (was its document re-imported?)")
    conn.execute(delete(t.knowledge_choices).where(_choice.conversation_id == conversation_id,
                                                   _choice.chunk_id == chunk_row_id))
    if choice is not None:
        conn.execute(t.knowledge_choices.insert().values(conversation_id=conversation_id, chunk_id=chunk_row_id,
                                                         choice=choice))


def save_sources(conn: Connection, conversation_id: int, version: int, items: Sequence[KnowledgeItem]) -> None:
    if items:
        conn.execute(t.conversation_sources.insert(), [{
            "conversation_id": conversation_id, "version": version, "rank": rank, "pinned": item.pinned,
            "chunk_id": item.chunk_id, "document_title": item.document[:300],
            "section_heading": item.section_heading, "excerpt": item.excerpt,
        } for rank, item in enumerate(items, start=1)])


def sources(conn: Connection, conversation_ids: Sequence[int], version_of: dict[int, int]) -> dict[int, list[dict]]:
    """Provenance of the given version of each conversation: [{document, heading, chunk, excerpt, pinned}]."""
    found: dict[int, list[dict]] = defaultdict(list)
    ids = list(conversation_ids)
    for start in range(0, len(ids), 500):
        stmt = (select(_src.conversation_id, _src.version, _src.document_title, _src.section_heading, _src.chunk_id,
                       _src.excerpt, _src.pinned)
                .where(_src.conversation_id.in_(ids[start:start + 500])).order_by(_src.conversation_id, _src.rank))
        for row in conn.execute(stmt):
            if version_of.get(row.conversation_id) == row.version:
                found[row.conversation_id].append({"document": row.document_title, "heading": row.section_heading,
                                                   "chunk": row.chunk_id, "excerpt": row.excerpt,
                                                   "pinned": bool(row.pinned)})
    return dict(found)


def grounded_count(engine: Engine) -> int:
    """Conversations with at least one version grounded in the firm's documents."""
    with read(engine) as conn:
        return conn.scalar(select(func.count(func.distinct(_src.conversation_id))))


# --- scenario suggestions -------------------------------------------------------------------


@dataclass(frozen=True)
class StoredSuggestion:
    id: int
    key: str
    title: str
    status: str
    data: dict


def next_suggestion_number(conn: Connection) -> int:
    return (conn.scalar(select(func.max(_sug.id))) or 0) + 1


def add_suggestions(conn: Connection, entries: Sequence[tuple[str, str, dict]]) -> None:
    """(key, title, data) of each new suggestion."""
    if entries:
        conn.execute(t.scenario_suggestions.insert(),
                     [{"key": key, "title": title[:200], "status": "suggested", "data": data}
                      for key, title, data in entries])


def list_suggestions(engine: Engine, statuses: Sequence[str] = ()) -> list[StoredSuggestion]:
    stmt = select(_sug.id, _sug.key, _sug.title, _sug.status, _sug.data).order_by(_sug.id)
    if statuses:
        stmt = stmt.where(_sug.status.in_(list(statuses)))
    with read(engine) as conn:
        return [StoredSuggestion(*row) for row in conn.execute(stmt)]


def get_suggestion(conn: Connection, key: str) -> StoredSuggestion:
    row = conn.execute(select(_sug.id, _sug.key, _sug.title, _sug.status, _sug.data).where(_sug.key == key)).first()
    if row is None:
        raise NotFound(f"scenario suggestion {key!r} does not exist")
    return StoredSuggestion(*row)


def set_suggestion_status(conn: Connection, key: str, status: str) -> None:
    conn.execute(update(t.scenario_suggestions).where(_sug.key == key).values(status=status))


def get_suggestion_by_key(engine: Engine, key: str) -> StoredSuggestion:
    with read(engine) as conn:
        return get_suggestion(conn, key)


def add_catalog_scenario(conn: Connection, scenario: Scenario) -> None:
    """A scenario into the catalog table, as `init` stores the catalog files' ones (key, name, data)."""
    if conn.scalar(select(t.scenarios.c.id).where(t.scenarios.c.key == scenario.key)) is None:
        conn.execute(t.scenarios.insert().values(key=scenario.key, name=scenario.title, data=scenario.model_dump()))
