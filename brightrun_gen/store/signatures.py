"""The near-duplicate index and the dataset's text: every SQL statement dedupe and phrases need.

Signature and band rows belong to one conversation version and never change (a version's text
never does), so they are inserted with ON CONFLICT DO NOTHING: two writers indexing the same
version at once (a runner and `brightrun dedupe`) both succeed, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from sqlalchemy import Connection, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from brightrun_gen.domain.ngrams import TextConversation, TextTurn
from brightrun_gen.store import tables as t

_c = t.conversations.c
_s = t.conversation_signatures.c
_b = t.signature_bands.c
_v = t.conversation_versions.c
_turn = t.conversation_turns.c
# Ids per IN list: well under SQLite's and PostgreSQL's parameter limits.
BATCH = 500


@dataclass(frozen=True)
class IndexRow:
    """What to store for one version: its signature bytes, word count and band keys."""

    conversation_id: int
    version: int
    signature: bytes
    turns: int
    words: int
    band_keys: Sequence[int]


@dataclass(frozen=True)
class Indexed:
    """A conversation's current version as the index holds it."""

    id: int
    key: str
    version: int
    source: str
    status: str
    model: str | None
    written_at: datetime | None
    signature: bytes
    turns: int
    words: int


def unindexed(conn: Connection, after_id: int, limit: int) -> list[int]:
    """Conversations after `after_id` whose current version has no signature yet, in id order."""
    indexed = and_(_s.conversation_id == _c.id, _s.version == _c.current_version)
    stmt = (select(_c.id).select_from(t.conversations.outerjoin(t.conversation_signatures, indexed))
            .where(_c.id > after_id, _c.current_version > 0, _s.id.is_(None)).order_by(_c.id).limit(limit))
    return list(conn.scalars(stmt))


def current_texts(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[int, list[tuple[str, str]]]]:
    """{id: (current version, [(role, content), ...])} for the given conversations."""
    found: dict[int, tuple[int, list[tuple[str, str]]]] = {}
    for batch in _batches(ids):
        stmt = (select(_turn.conversation_id, _turn.version, _turn.role, _turn.content)
                .select_from(_current_turns()).where(_turn.conversation_id.in_(batch))
                .order_by(_turn.conversation_id, _turn.position))
        for cid, version, role, content in conn.execute(stmt).all():
            found.setdefault(cid, (version, []))[1].append((role, content))
    return found


def save(conn: Connection, rows: Sequence[IndexRow]) -> None:
    """Store signatures and band keys; rows already there are left as they are."""
    if not rows:
        return
    rows = sorted(rows, key=lambda r: (r.conversation_id, r.version))  # one lock order for every writer
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(insert(t.conversation_signatures).on_conflict_do_nothing(), [
        {"conversation_id": r.conversation_id, "version": r.version, "signature": r.signature, "turns": r.turns,
         "words": r.words}
        for r in rows
    ])
    conn.execute(insert(t.signature_bands).on_conflict_do_nothing(), [
        {"conversation_id": r.conversation_id, "version": r.version, "band": band, "band_key": key}
        for r in rows for band, key in enumerate(r.band_keys)
    ])


def sharing_a_band(conn: Connection, keys: Sequence[int], statuses: Sequence[str],
                   exclude_id: int | None = None) -> list[Indexed]:
    """Conversations that share at least one band key with `keys` (any of their versions: the caller
    compares current versions' signatures, so a stale band costs a comparison, never a wrong match).

    One query, driven by the band keys' index (a handful of rows), then conversations by primary key.
    """
    banded = select(_b.conversation_id).where(_b.band_key.in_(list(keys)))
    condition = and_(_c.id.in_(banded), _c.status.in_(list(statuses)))
    if exclude_id is not None:
        condition = and_(condition, _c.id != exclude_id)
    return _indexed(conn, condition)


def indexed(conn: Connection, statuses: Sequence[str], ids: Sequence[int] | None = None) -> list[Indexed]:
    """The indexed current versions of conversations in `statuses` (and `ids`, when given), by id."""
    if ids is None:
        return _indexed(conn, _c.status.in_(list(statuses)))
    found: list[Indexed] = []
    for batch in _batches(ids):
        found += _indexed(conn, and_(_c.status.in_(list(statuses)), _c.id.in_(batch)))
    return sorted(found, key=lambda row: row.id)


def _indexed(conn: Connection, condition) -> list[Indexed]:
    signed = and_(_s.conversation_id == _c.id, _s.version == _c.current_version)
    written = and_(_v.conversation_id == _c.id, _v.version == _c.current_version)
    stmt = (select(_c.id, _c.key, _c.current_version, _c.source, _c.status, _c.model, _v.created_at,
                   _s.signature, _s.turns, _s.words)
            .select_from(t.conversations.join(t.conversation_signatures, signed)
                         .outerjoin(t.conversation_versions, written))
            .where(condition).order_by(_c.id))
    return [Indexed(*row) for row in conn.execute(stmt).all()]


def set_nearest(conn: Connection, conversation_id: int, version: int, key: str | None,
                similarity: float | None) -> None:
    """Record with a version which other conversation it was most like when written, and how much."""
    conn.execute(update(t.conversation_versions).where(
        _v.conversation_id == conversation_id, _v.version == version).values(similar_to=key, similarity=similarity))


def nearest_of_current(conn: Connection, conversation_id: int) -> tuple[str | None, float | None]:
    """The (similar_to, similarity) recorded with the conversation's current version."""
    written = and_(_v.conversation_id == _c.id, _v.version == _c.current_version)
    row = conn.execute(select(_v.similar_to, _v.similarity).select_from(t.conversations.join(
        t.conversation_versions, written)).where(_c.id == conversation_id)).first()
    return (row.similar_to, row.similarity) if row else (None, None)


def newest_ids(conn: Connection, statuses: Sequence[str], limit: int | None = None) -> list[int]:
    """Conversations in `statuses` that have text, most recently changed first."""
    stmt = (select(_c.id).where(_c.status.in_(list(statuses)), _c.current_version > 0)
            .order_by(_c.updated_at.desc(), _c.id.desc()).limit(limit))
    return list(conn.scalars(stmt))


def text_conversations(conn: Connection, ids: Sequence[int], offline_model: str) -> list[TextConversation]:
    """The given conversations with the turns of their current version, in id order."""
    heads = {}
    for batch in _batches(ids):
        heads.update((row.id, row) for row in conn.execute(
            select(_c.id, _c.key, _c.model, _c.source).where(_c.id.in_(batch))).all())
    texts = current_texts(conn, list(heads))
    return [TextConversation(cid, head.key, head.model == offline_model,
                             tuple(TextTurn(role, content) for role, content in texts.get(cid, (0, []))[1]),
                             head.source)
            for cid, head in sorted(heads.items())]


def _current_turns():
    return t.conversation_turns.join(
        t.conversations, and_(_c.id == _turn.conversation_id, _c.current_version == _turn.version))


def _batches(ids: Sequence[int]):
    ids = list(ids)
    for start in range(0, len(ids), BATCH):
        yield ids[start:start + BATCH]

