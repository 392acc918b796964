"""Reading the earlier pipeline stages' tables, read-only, from their database.

The upstream stage keeps `documents`, `document_categories`, `chunks` (chunk_id text,
document_id, chunk_type, section_heading, page_start/end, char_start/end, token_count,
chunk_text) and `chunk_dimensions` (keyed by chunk_id, one column per dimension). Their shape
is read from the database itself (reflection), so extra columns do no harm and missing optional
ones read as empty. The transaction is read-only: nothing here can change the upstream's rows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, MetaData, Table, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from brightrun_gen.domain.documents import ImportedChunk, ImportedDocument
from brightrun_gen.errors import InputError
from brightrun_gen.store.db import describe, make_engine
from brightrun_gen.store.documents import DIMENSION_COLUMNS

CHUNK_COLUMNS = ("chunk_id", "document_id", "chunk_type", "section_heading", "page_start", "page_end", "char_start",
                 "char_end", "token_count", "chunk_text")
REQUIRED_CHUNK_COLUMNS = ("chunk_id", "document_id", "chunk_text")
# A document's title is in the first of these columns that the upstream table has.
TITLE_COLUMNS = ("title", "name", "file_name", "filename", "source_path")


def read_upstream(url: str, schema: str | None = None) -> list[ImportedDocument]:
    """Every upstream document with its chunks and dimensions, in document and reading order."""
    engine = make_engine(url)
    where = f"{describe(engine)}{f' schema {schema}' if schema else ''}"
    try:
        with engine.connect() as conn:
            _read_only(conn)
            tables = _reflect(conn, schema, where)
            return _documents(conn, tables, where)
    except SQLAlchemyError as exc:
        raise InputError(f"upstream database {where}: {exc.__class__.__name__}: {str(getattr(exc, 'orig', None) or exc)[:200]}") from None
    finally:
        engine.dispose()


def _read_only(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA query_only = ON")


def _reflect(conn: Connection, schema: str | None, where: str) -> dict[str, Table]:
    names = set(inspect(conn).get_table_names(schema=schema))
    for needed in ("documents", "chunks"):
        if needed not in names:
            raise InputError(f"upstream database {where}: no table {needed!r} (found: {', '.join(sorted(names)) or 'none'})")
    meta = MetaData()
    wanted = [n for n in ("documents", "document_categories", "chunks", "chunk_dimensions") if n in names]
    tables = {name: Table(name, meta, autoload_with=conn, schema=schema) for name in wanted}
    missing = [c for c in REQUIRED_CHUNK_COLUMNS if c not in tables["chunks"].c]
    if missing:
        raise InputError(f"upstream database {where}: table chunks has no column {missing[0]!r}")
    return tables


def _documents(conn: Connection, tables: dict[str, Table], where: str) -> list[ImportedDocument]:
    docs = tables["documents"]
    title_column = next((docs.c[name] for name in TITLE_COLUMNS if name in docs.c), None)
    categories = _categories(conn, tables)
    dims = _dimensions(conn, tables.get("chunk_dimensions"))
    chunks = tables["chunks"]
    order = [chunks.c[name] for name in ("document_id", "page_start", "char_start", "chunk_id") if name in chunks.c]
    by_document: dict[str, list[ImportedChunk]] = defaultdict(list)
    seen: set[str] = set()
    for row in conn.execute(select(chunks).order_by(*order)).mappings():
        chunk_id = str(row["chunk_id"])
        if chunk_id in seen:
            raise InputError(f"upstream database {where}: chunk_id {chunk_id!r} appears twice in chunks")
        seen.add(chunk_id)
        values = {name: row.get(name) for name in CHUNK_COLUMNS if name in row and name not in ("chunk_id", "document_id")}
        by_document[str(row["document_id"])].append(
            ImportedChunk(chunk_id=chunk_id, dimensions=dims.get(chunk_id, {}), **values))
    found = []
    for row in conn.execute(select(docs)).mappings():
        doc_id = str(row["id"]) if "id" in row else str(row.get("document_id"))
        if doc_id not in by_document:
            continue
        title = str(row[title_column.name]) if title_column is not None and row[title_column.name] else f"document {doc_id}"
        category = categories.get(str(row.get("category_id"))) or (str(row["category"]) if row.get("category") else None)
        found.append(ImportedDocument(source_id=doc_id, title=title, category=category,
                                      chunks=tuple(by_document[doc_id])))
    return found


def _categories(conn: Connection, tables: dict[str, Table]) -> dict[str, str]:
    table = tables.get("document_categories")
    if table is None or "id" not in table.c:
        return {}
    name = next((table.c[n] for n in ("name", "title", "category") if n in table.c), None)
    if name is None:
        return {}
    return {str(i): str(n) for i, n in conn.execute(select(table.c.id, name))}


def _dimensions(conn: Connection, table: Table | None) -> dict[str, dict]:
    """{chunk_id: {column: value}}: the known dimension columns, and the rest under `extra`."""
    if table is None or "chunk_id" not in table.c:
        return {}
    skip = {"id", "chunk_id", "created_at", "updated_at", "tenant"}
    found = {}
    for row in conn.execute(select(table)).mappings():
        known = {name: _plain(row[name]) for name in DIMENSION_COLUMNS if name in row}
        extra = {name: _plain(value) for name, value in row.items() if name not in skip and name not in known}
        found[str(row["chunk_id"])] = {**known, "extra": extra or None}
    return found


def _plain(value):
    """A JSON-ready value: arrays stay lists, dates and decimals become text or numbers."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return json.loads(json.dumps(value, default=str))

