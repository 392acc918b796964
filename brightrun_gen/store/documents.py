"""Firm documents, their categories, chunks and chunk dimensions: every SQL statement about them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import Connection, Engine, delete, func, select

from brightrun_gen.domain.documents import ChunkDraft
from brightrun_gen.errors import NotFound
from brightrun_gen.store import tables as t
from brightrun_gen.store.db import read

_d = t.documents.c
_ch = t.chunks.c
_dim = t.chunk_dimensions.c
_src = t.conversation_sources.c
# The upstream's dimension columns that Bright Run reads; the others go to `extra` as they came.
DIMENSION_COLUMNS = ("chunk_summary_1s", "key_terms", "audience", "intent", "tone_voice_tags", "brand_persona_tags",
                     "domain_tags", "claim", "evidence_snippets", "factual_confidence_0_1")


@dataclass(frozen=True)
class StoredDocument:
    id: int
    title: str
    category: str | None
    doc_type: str
    source_path: str
    size_bytes: int
    chunks: int
    tokens: int
    conversations: int  # conversations that a version of was grounded in one of its chunks
    updated_at: datetime


@dataclass(frozen=True)
class SearchableChunk:
    """What retrieval indexes and shows of a chunk."""

    id: int
    chunk_id: str
    document: str
    category: str | None
    section_heading: str | None
    chunk_text: str
    token_count: int
    search_terms: str  # the upstream's summary, key terms and tags: words to match beyond the text


@dataclass(frozen=True)
class ChunkUse:
    id: int
    chunk_id: str
    document: str
    section_heading: str | None
    position: int
    token_count: int
    chunk_text: str
    conversations: int


def document_by_hash(conn: Connection, content_hash: str) -> int | None:
    return conn.scalar(select(_d.id).where(_d.content_hash == content_hash))


def category_id(conn: Connection, name: str | None) -> int | None:
    """The category's id, created on first use."""
    if not name:
        return None
    found = conn.scalar(select(t.document_categories.c.id).where(t.document_categories.c.name == name))
    if found is not None:
        return found
    return conn.execute(t.document_categories.insert().values(name=name)
                        .returning(t.document_categories.c.id)).scalar_one()


def replace_document(conn: Connection, *, title: str, category: str | None, source_path: str, doc_type: str,
                     content_hash: str, size_bytes: int, drafts: Sequence[ChunkDraft],
                     dimensions: Sequence[dict] | None = None) -> tuple[int, bool]:
    """Store a document with its chunks, in place of the one from the same source; (id, replaced).

    Runs inside the caller's transaction: a failure leaves the old document as it was. Deleting
    the old row takes its chunks, dimensions and knowledge choices with it (ON DELETE CASCADE);
    the provenance of versions it grounded keeps its copied excerpts.
    """
    replaced = conn.execute(delete(t.documents).where(_d.source_path == source_path)).rowcount > 0
    doc_id = conn.execute(t.documents.insert().values(
        title=title[:300], category_id=category_id(conn, category), source_path=source_path[:500],
        doc_type=doc_type, content_hash=content_hash, size_bytes=size_bytes,
    ).returning(_d.id)).scalar_one()
    if drafts:
        conn.execute(t.chunks.insert(), [{
            "chunk_id": d.chunk_id, "document_id": doc_id, "position": d.position, "chunk_type": d.chunk_type,
            "section_heading": d.section_heading, "page_start": d.page_start, "page_end": d.page_end,
            "char_start": d.char_start, "char_end": d.char_end, "token_count": d.token_count,
            "chunk_text": d.chunk_text,
        } for d in drafts])
    if dimensions:
        ids = dict(conn.execute(select(_ch.chunk_id, _ch.id).where(_ch.document_id == doc_id)).all())
        rows = [{"chunk_id": ids[d.chunk_id], **dims} for d, dims in zip(drafts, dimensions) if dims]
        if rows:
            conn.execute(t.chunk_dimensions.insert(), rows)
    return doc_id, replaced


def list_documents(engine: Engine) -> list[StoredDocument]:
    chunk_stats = (select(_ch.document_id, func.count().label("n"), func.sum(_ch.token_count).label("tokens"))
                   .group_by(_ch.document_id).subquery())
    uses = (select(_ch.document_id, func.count(func.distinct(_src.conversation_id)).label("uses"))
            .join(t.conversation_sources, _src.chunk_id == _ch.chunk_id).group_by(_ch.document_id).subquery())
    stmt = (select(_d.id, _d.title, t.document_categories.c.name, _d.doc_type, _d.source_path, _d.size_bytes,
                   func.coalesce(chunk_stats.c.n, 0), func.coalesce(chunk_stats.c.tokens, 0),
                   func.coalesce(uses.c.uses, 0), _d.updated_at)
            .select_from(t.documents)
            .outerjoin(t.document_categories, t.document_categories.c.id == _d.category_id)
            .outerjoin(chunk_stats, chunk_stats.c.document_id == _d.id)
            .outerjoin(uses, uses.c.document_id == _d.id)
            .order_by(_d.title, _d.id))
    with read(engine) as conn:
        return [StoredDocument(*row) for row in conn.execute(stmt)]


def chunk_uses(engine: Engine, document_id: int | None = None, *, unused_only: bool = False) -> list[ChunkUse]:
    """Chunks with how many conversations each grounded: of one document, or every unused one."""
    uses = (select(_src.chunk_id, func.count(func.distinct(_src.conversation_id)).label("uses"))
            .group_by(_src.chunk_id).subquery())
    stmt = (select(_ch.id, _ch.chunk_id, _d.title, _ch.section_heading, _ch.position, _ch.token_count,
                   _ch.chunk_text, func.coalesce(uses.c.uses, 0))
            .join(t.documents, _d.id == _ch.document_id)
            .outerjoin(uses, uses.c.chunk_id == _ch.chunk_id)
            .order_by(_d.title, _ch.document_id, _ch.position))
    if document_id is not None:
        stmt = stmt.where(_ch.document_id == document_id)
    if unused_only:
        stmt = stmt.where(uses.c.uses.is_(None))
    with read(engine) as conn:
        return [ChunkUse(*row) for row in conn.execute(stmt)]


@dataclass(frozen=True)
class ChunkDetail:
    """One chunk in full: where it sits in its document and what the upstream stage said of it."""

    id: int
    chunk_id: str
    document: str
    chunk_type: str
    section_heading: str | None
    position: int
    page_start: int | None
    page_end: int | None
    token_count: int
    chunk_text: str
    dimensions: dict[str, Any] | None  # DIMENSION_COLUMNS as stored; None when the chunk has none (our own files)
    extra: dict[str, Any] | None  # the upstream's other dimension columns, as they came


def chunk_detail(engine: Engine, chunk_row_id: int) -> ChunkDetail:
    stmt = (select(_ch.id, _ch.chunk_id, _d.title, _ch.chunk_type, _ch.section_heading, _ch.position, _ch.page_start,
                   _ch.page_end, _ch.token_count, _ch.chunk_text, _dim.id.label("dimensions_id"),
                   *[_dim[name] for name in DIMENSION_COLUMNS], _dim.extra)
            .join(t.documents, _d.id == _ch.document_id)
            .outerjoin(t.chunk_dimensions, _dim.chunk_id == _ch.id)
            .where(_ch.id == chunk_row_id))
    with read(engine) as conn:
        row = conn.execute(stmt).first()
    if row is None:
        raise NotFound(f"chunk {chunk_row_id} does not exist")
    found = row._mapping
    dimensions = {name: found[name] for name in DIMENSION_COLUMNS} if found["dimensions_id"] is not None else None
    return ChunkDetail(*row[:10], dimensions, found["extra"])


def searchable_chunks(conn: Connection, ids: Sequence[int] | None = None) -> list[SearchableChunk]:
    """Every chunk (or those ids) with its document, category and upstream dimensions, in id order."""
    stmt = (select(_ch.id, _ch.chunk_id, _d.title, t.document_categories.c.name, _ch.section_heading,
                   _ch.chunk_text, _ch.token_count, _dim.chunk_summary_1s, _dim.key_terms, _dim.domain_tags)
            .join(t.documents, _d.id == _ch.document_id)
            .outerjoin(t.document_categories, t.document_categories.c.id == _d.category_id)
            .outerjoin(t.chunk_dimensions, _dim.chunk_id == _ch.id)
            .order_by(_ch.id))
    if ids is not None:
        stmt = stmt.where(_ch.id.in_(list(ids)))
    found = []
    for row in conn.execute(stmt):
        terms = " ".join([row.chunk_summary_1s or "", *(row.key_terms or []), *(row.domain_tags or [])])
        found.append(SearchableChunk(row.id, row.chunk_id, row.title, row.name, row.section_heading,
                                     row.chunk_text, row.token_count, terms.strip()))
    return found


def fingerprint(conn: Connection) -> tuple:
    """Changes whenever a chunk is added, replaced or removed (replaced chunks get new ids)."""
    return tuple(conn.execute(select(func.count(), func.max(_ch.id), func.sum(_ch.id))).one())


def count_chunks(engine: Engine) -> int:
    with read(engine) as conn:
        return conn.scalar(select(func.count()).select_from(t.chunks))
