"""The earlier pipeline stages' chunks: from their database (read-only) or from a CSV export.

A CSV has one chunk per line with the upstream's column names: chunk_id, document_id and
chunk_text are required; document_title (or title), category, chunk_type, section_heading,
page_start, page_end, char_start, char_end, token_count and the chunk_dimensions columns
(chunk_summary_1s, key_terms, audience, ...) are read when present. List columns hold a JSON list
or items separated by semicolons.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

from sqlalchemy import Engine

from brightrun_gen.config import Settings
from brightrun_gen.domain.documents import ImportedChunk, ImportedDocument
from brightrun_gen.errors import InputError
from brightrun_gen.services.documents import DocumentResult, store_imported
from brightrun_gen.store.documents import DIMENSION_COLUMNS
from brightrun_gen.store.upstream import read_upstream

REQUIRED = ("chunk_id", "document_id", "chunk_text")
INTEGERS = ("page_start", "page_end", "char_start", "char_end", "token_count")
LISTS = ("key_terms", "tone_voice_tags", "brand_persona_tags", "domain_tags", "evidence_snippets")


def import_from_database(engine: Engine, settings: Settings, url: str | None = None,
                         schema: str | None = None) -> list[DocumentResult]:
    url = url or settings.upstream_database_url
    if not url:
        raise InputError("no upstream database: pass --from-database URL or set BRIGHTRUN_UPSTREAM_DATABASE_URL")
    return store_imported(engine, read_upstream(url, schema or settings.upstream_schema), "upstream")


def import_from_csv(engine: Engine, path: str | Path) -> list[DocumentResult]:
    return store_imported(engine, read_chunks_csv(Path(path)), "csv")


def read_chunks_csv(path: Path) -> list[ImportedDocument]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"{path}: line 1: no column {missing[0]!r} (needed: {', '.join(REQUIRED)})")
            rows = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read it as a UTF-8 CSV: {exc}") from None
    chunks: dict[str, list[ImportedChunk]] = defaultdict(list)
    heads: dict[str, tuple[str, str | None]] = {}
    seen: set[str] = set()
    for line, row in rows:
        chunk = _chunk(path, line, row)
        if chunk.chunk_id in seen:
            raise InputError(f"{path}: line {line}: chunk_id {chunk.chunk_id!r} appears twice")
        seen.add(chunk.chunk_id)
        doc_id = row["document_id"].strip()
        heads.setdefault(doc_id, ((row.get("document_title") or row.get("title") or f"document {doc_id}").strip(),
                                  (row.get("category") or "").strip() or None))
        chunks[doc_id].append(chunk)
    return [ImportedDocument(doc_id, title, category, tuple(chunks[doc_id])) for doc_id, (title, category) in heads.items()]


def _chunk(path: Path, line: int, row: dict) -> ImportedChunk:
    for name in REQUIRED:
        if not (row.get(name) or "").strip():
            raise InputError(f"{path}: line {line}: field {name} is empty")
    numbers = {}
    for name in INTEGERS:
        value = (row.get(name) or "").strip()
        if value:
            if not value.lstrip("-").isdigit():
                raise InputError(f"{path}: line {line}: field {name}: {value[:20]!r} is not a whole number")
            numbers[name] = int(value)
    dims = {name: _dimension(path, line, name, row[name]) for name in DIMENSION_COLUMNS if (row.get(name) or "").strip()}
    return ImportedChunk(chunk_id=row["chunk_id"].strip(), chunk_text=row["chunk_text"].strip(),
                         section_heading=(row.get("section_heading") or "").strip() or None,
                         chunk_type=(row.get("chunk_type") or "").strip() or "text", dimensions=dims, **numbers)


def _dimension(path: Path, line: int, name: str, raw: str):
    value = raw.strip()
    if name in LISTS:
        if value.startswith("["):
            try:
                items = json.loads(value)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: line {line}: field {name}: not a JSON list ({exc.msg})") from None
            return [str(item) for item in items]
        return [item.strip() for item in value.split(";") if item.strip()]
    if name == "factual_confidence_0_1":
        try:
            return float(value)
        except ValueError:
            raise InputError(f"{path}: line {line}: field {name}: {value[:20]!r} is not a number") from None
    return value
