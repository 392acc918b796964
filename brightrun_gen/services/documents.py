"""Bringing the firm's documents in: files and uploads, and the upstream stage's chunks.

One transaction per document: a document is stored whole with its chunks, or not at all. The
same content (by hash) is stored once; a changed file (same path, new content) replaces its
chunks. Each file gets one result line, so a broken file is named while the others land.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from sqlalchemy import Engine

from brightrun_gen.config import Settings
from brightrun_gen.domain.documents import ChunkBudget, ChunkDraft, ImportedDocument, doc_type_of, estimate_tokens
from brightrun_gen.domain.documents import split_document
from brightrun_gen.errors import InputError
from brightrun_gen.services.converting import convert
from brightrun_gen.store import documents as doc_store
from brightrun_gen.store.db import read, write

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentResult:
    name: str
    outcome: str  # imported | replaced | duplicate | failed
    chunks: int = 0
    tokens: int = 0
    title: str = ""
    error: str | None = None

    def line(self) -> str:
        if self.outcome == "failed":
            return f"failed     {self.error}"
        if self.outcome == "duplicate":
            return f"duplicate  {self.name}: the same content is already stored"
        return f"{self.outcome:10s} {self.name}: {self.title!r}, {self.chunks} chunks, {self.tokens} tokens"


def summary(results: list[DocumentResult]) -> str:
    count = {o: sum(r.outcome == o for r in results) for o in ("imported", "replaced", "duplicate", "failed")}
    chunks = sum(r.chunks for r in results if r.outcome in ("imported", "replaced"))
    return (f"{count['imported']} imported, {count['replaced']} replaced ({chunks} chunks), "
            f"{count['duplicate']} duplicate, {count['failed']} failed")


def _budget(settings: Settings) -> ChunkBudget:
    return ChunkBudget(tokens=settings.chunk_tokens, overlap=min(settings.chunk_overlap_tokens, settings.chunk_tokens // 2))


def document_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and inside folders (recursively) the files of a type Bright Run reads."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and doc_type_of(p.name)
                            and not any(part.startswith(".") for part in p.relative_to(path).parts))
        else:
            found.append(path)
    return found


def import_paths(engine: Engine, paths: Iterable[str | Path], settings: Settings,
                 category: str | None = None) -> list[DocumentResult]:
    results = []
    for path in document_files(paths):
        try:
            data = path.read_bytes()
        except OSError as exc:
            results.append(DocumentResult(str(path), "failed", error=f"{path}: cannot read it: {exc.strerror}"))
            continue
        results.append(import_bytes(engine, str(path), data, settings, category=category,
                                    source_path=str(path.resolve())))
    return results


def import_bytes(engine: Engine, name: str, data: bytes, settings: Settings, *, category: str | None = None,
                 source_path: str | None = None) -> DocumentResult:
    """One document from its bytes (a file or an upload); never raises for bad input."""
    content_hash = hashlib.sha256(data).hexdigest()
    with read(engine) as conn:
        if doc_store.document_by_hash(conn, content_hash) is not None:
            return DocumentResult(name, "duplicate")
    try:
        doc = convert(name, data, int(settings.document_max_mb * 1_000_000))
        drafts = split_document(doc, _budget(settings), content_hash[:16])
        if not drafts:
            raise InputError(f"{name}: no extractable text (only headings)")
        with write(engine) as conn:
            _, replaced = doc_store.replace_document(
                conn, title=doc.title, category=category, source_path=source_path or f"upload:{name}",
                doc_type=doc.doc_type, content_hash=content_hash, size_bytes=len(data), drafts=drafts)
    except InputError as exc:
        logger.info("document %s not imported: %s", name, exc)
        return DocumentResult(name, "failed", error=str(exc))
    outcome = "replaced" if replaced else "imported"
    logger.info("document %s %s: %d chunks", name, outcome, len(drafts))
    return DocumentResult(name, outcome, len(drafts), sum(d.token_count for d in drafts), doc.title)


def store_imported(engine: Engine, documents: Iterable[ImportedDocument], origin: str) -> list[DocumentResult]:
    """Upstream documents (database or CSV) into the store, one transaction each, as they came."""
    results = []
    for doc in documents:
        name = f"{origin}:{doc.source_id}"
        if not doc.chunks:
            results.append(DocumentResult(name, "failed", error=f"{name}: document {doc.title!r} has no chunks"))
            continue
        digest = hashlib.sha256()
        for chunk in doc.chunks:
            digest.update(f"{chunk.chunk_id}\0{chunk.chunk_text}\0{sorted(chunk.dimensions.items())}\0".encode())
        content_hash = digest.hexdigest()
        with read(engine) as conn:
            if doc_store.document_by_hash(conn, content_hash) is not None:
                results.append(DocumentResult(name, "duplicate"))
                continue
        drafts = [ChunkDraft(chunk_id=c.chunk_id, position=i, section_heading=c.section_heading,
                             char_start=c.char_start, char_end=c.char_end,
                             token_count=c.token_count or estimate_tokens(c.chunk_text), chunk_text=c.chunk_text,
                             page_start=c.page_start, page_end=c.page_end, chunk_type=c.chunk_type or "text")
                  for i, c in enumerate(doc.chunks)]
        with write(engine) as conn:
            _, replaced = doc_store.replace_document(
                conn, title=doc.title, category=doc.category, source_path=name, doc_type=origin,
                content_hash=content_hash, size_bytes=sum(len(c.chunk_text) for c in doc.chunks), drafts=drafts,
                dimensions=[c.dimensions for c in doc.chunks])
        results.append(DocumentResult(name, "replaced" if replaced else "imported", len(drafts),
                                      sum(d.token_count for d in drafts), doc.title))
    return results


def list_documents(engine: Engine) -> list[doc_store.StoredDocument]:
    """Every document with its type, category, chunk count and how many conversations it grounded."""
    return doc_store.list_documents(engine)


def chunk_uses(engine: Engine, document_id: int | None = None, *, unused_only: bool = False) -> list[doc_store.ChunkUse]:
    return doc_store.chunk_uses(engine, document_id, unused_only=unused_only)


def chunk_detail(engine: Engine, chunk_row_id: int) -> doc_store.ChunkDetail:
    """One chunk in full: its pages, its place in the document and the upstream's dimensions."""
    return doc_store.chunk_detail(engine, chunk_row_id)
