"""Engines for SQLite and PostgreSQL, and the one way to open a write transaction."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from brightrun_gen.errors import InputError


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout for threaded writers."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise InputError(f"database URL {_redact(url)!r} is not a valid SQLAlchemy URL") from exc
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        return _postgres_engine(parsed)
    raise InputError(f"database URL {_redact(url)!r}: only sqlite:// and postgresql:// are supported")


def _sqlite_engine(url) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy's "begin" event own transaction start, so writes can BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection):
        # A write transaction takes the write lock up front; a deferred one that reads first
        # and writes later can fail with SQLITE_BUSY when another thread wrote in between.
        immediate = conn.get_execution_options().get("immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _postgres_engine(url) -> Engine:
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    # Supabase's transaction pooler (port 6543) cannot keep prepared statements or pooled sessions.
    if url.port == 6543:
        return create_engine(url, poolclass=NullPool, connect_args={"prepare_threshold": None})
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """One write transaction: commits on success, rolls back everything on any error."""
    with engine.execution_options(immediate=True).begin() as conn:
        yield conn


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A connection for reading. On PostgreSQL its statements run in autocommit: under READ COMMITTED
    each statement sees its own snapshot inside a transaction as well, so BEGIN and ROLLBACK would
    add two round trips and nothing else (export_snapshot asks for REPEATABLE READ where one snapshot
    matters). SQLite in WAL mode keeps one snapshot per read transaction, as before."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


def describe(engine: Engine) -> str:
    """A human label for the database in use, with no password."""
    return engine.url.render_as_string(hide_password=True)


def _redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"
