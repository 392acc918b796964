"""Ordered, named schema migrations recorded in `schema_migrations`.

A new database gets the current metadata in one step and every migration stamped as applied;
an existing one runs the migrations it has not seen, in order, in place. A migration creates
the tables it introduces (by name, from the current metadata) or alters existing ones.
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy import Connection, Engine, func, inspect, select, table, text
from sqlalchemy.schema import CreateColumn

from brightrun_gen.errors import InputError
from brightrun_gen.store import tables as t
from brightrun_gen.store.db import write

Migration = Callable[[Connection], None]
MIGRATIONS: list[tuple[int, str, Migration]] = []


def migration(version: int, name: str):
    def register(fn: Migration) -> Migration:
        MIGRATIONS.append((version, name, fn))
        return fn

    return register


def _create(conn: Connection, *table_list) -> None:
    for each in table_list:
        each.create(conn, checkfirst=True)


@migration(1, "catalog, conversations, turns, metadata, logs, reviews, inputs")
def _m001(conn: Connection) -> None:
    _create(
        conn,
        t.advisor_profiles, t.personas, t.emotions, t.emotional_arcs, t.topics, t.scenarios,
        t.edge_cases, t.vocabulary, t.prompt_templates, t.conversations, t.conversation_versions,
        t.conversation_turns, t.conversation_metadata, t.imported_files, t.generation_logs,
        t.review_events, t.document_categories, t.documents, t.chunks, t.chunk_dimensions,
    )


@migration(2, "generation jobs and queue")
def _m002(conn: Connection) -> None:
    _create(conn, t.generation_jobs, t.generation_queue)


@migration(3, "voice profiles")
def _m003(conn: Connection) -> None:
    _create(conn, t.voice_profiles)


@migration(4, "judge: rubrics, judgements, version origins, log kinds, job budget caps")
def _m004(conn: Connection) -> None:
    _create(conn, t.judge_rubrics, t.judgements)
    _add_columns(conn, t.conversation_versions, "origin", "parent_version", "notes")
    _add_columns(conn, t.generation_logs, "kind")
    _add_columns(conn, t.generation_jobs, "max_cost_usd", "item_cost_estimate", "stop_reason")


# The input tables as migration 1 made them; nothing ever wrote them, so migration 5 rebuilds them.
_INPUT_TABLES = ("chunk_dimensions", "chunks", "documents", "document_categories")


@migration(5, "firm documents, chunks in the upstream shape, provenance, knowledge choices, scenario suggestions")
def _m005(conn: Connection) -> None:
    """Rebuild the four input tables in the upstream stage's shape, then add the new tables.

    Until now no code wrote those tables, so they are empty and rebuilding them loses nothing.
    Rows in one mean another program wrote it (an earlier pipeline stage sharing the schema):
    that table is never dropped; the step stops and says how to keep the two apart.
    """
    existing = set(inspect(conn).get_table_names())
    for name in _INPUT_TABLES:
        if name in existing and conn.scalar(select(func.count()).select_from(table(name))):
            raise InputError(
                f"table {name} holds rows that Bright Run did not write (an earlier pipeline stage's?): "
                "give Bright Run its own schema (options=-csearch_path=brightrun in the database URL) "
                "and copy them in with `brightrun import-chunks --from-database URL`")
    for name in _INPUT_TABLES:
        if name in existing:
            conn.exec_driver_sql(f"DROP TABLE {name}")
    _create(conn, t.document_categories, t.documents, t.chunks, t.chunk_dimensions,
            t.conversation_sources, t.knowledge_choices, t.scenario_suggestions)


@migration(6, "near-duplicate index and similarity flags on versions")
def _m006(conn: Connection) -> None:
    _create(conn, t.conversation_signatures, t.signature_bands)
    _add_columns(conn, t.conversation_versions, "similar_to", "similarity")


@migration(7, "rate-limit states shared by workers; refused calls and waiting time of jobs")
def _m007(conn: Connection) -> None:
    _create(conn, t.rate_limit_states)
    _add_columns(conn, t.generation_jobs, "account", "calls_refused", "wait_seconds")


def _add_columns(conn: Connection, table, *names: str) -> None:
    """ALTER TABLE ... ADD COLUMN, as the metadata declares each column (type, default, NOT NULL)."""
    have = {c["name"] for c in inspect(conn).get_columns(table.name)}
    for name in names:
        if name not in have:
            ddl = CreateColumn(table.c[name]).compile(dialect=conn.dialect)
            conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {ddl}"))


@migration(8, "per-turn annotations")
def _m008(conn: Connection) -> None:
    _add_columns(conn, t.conversation_turns, "annotation")


@migration(9, "failed-attempt marker and prior status on conversations, template version shares")
def _m009(conn: Connection) -> None:
    _add_columns(conn, t.conversations, "prior_status", "failed_at")
    _add_columns(conn, t.prompt_templates, "share")


def applied_versions(conn: Connection) -> set[int]:
    if not inspect(conn).has_table("schema_migrations"):
        return set()
    return set(conn.scalars(select(t.schema_migrations.c.version)))


def migrate(engine: Engine, upto: int | None = None) -> list[str]:
    """Bring the schema up to date (or up to `upto`); returns the names of the steps applied."""
    with write(engine) as conn:
        fresh = not inspect(conn).get_table_names()
        if fresh and upto is None:
            t.metadata.create_all(conn)
            _stamp(conn, [(v, n) for v, n, _ in MIGRATIONS])
            return ["create schema"]
        t.schema_migrations.create(conn, checkfirst=True)
        done = applied_versions(conn)
        applied = []
        for version, name, step in sorted(MIGRATIONS, key=lambda m: m[0]):
            if version in done or (upto is not None and version > upto):
                continue
            step(conn)
            _stamp(conn, [(version, name)])
            applied.append(name)
        return applied


def _stamp(conn: Connection, steps: list[tuple[int, str]]) -> None:
    conn.execute(t.schema_migrations.insert(), [{"version": v, "name": n} for v, n in steps])


def latest_version() -> int:
    return max(v for v, _, _ in MIGRATIONS)
