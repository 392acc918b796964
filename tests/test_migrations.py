"""Migrations that upgrade an existing database in place, on SQLite and PostgreSQL: each builds
the store as it was before the step (`migrate(upto=...)` and the old shape by hand) and checks what
the step changes and what it keeps. The subject is the store itself, so these tests work on it
directly rather than through the facade (tests/test_store.py has the schema's own tests).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select, text

from brightrun_gen.errors import InputError
from brightrun_gen.store import tables as t
from brightrun_gen.store.db import make_engine, read, write
from brightrun_gen.store.migrations import migrate


def test_migration_4_upgrades_an_existing_database_in_place(empty_url):
    engine = make_engine(empty_url)
    migrate(engine, upto=2)
    with write(engine) as conn:
        cid = conn.execute(t.conversations.insert().values(
            key="old", tier=1, persona="p", emotion_start="e", emotion_end="e", topic="t", content_category="c",
            topic_cluster="c", intent="i", tone="t", outcome_type="o").returning(t.conversations.c.id)).scalar_one()
        conn.execute(t.generation_logs.insert().values(conversation_id=cid, attempt=1, provider="offline",
                                                       model="offline", parameters={}, outcome="ok"))
    assert "judge: rubrics, judgements, version origins, log kinds, job budget caps" in migrate(engine)
    with read(engine) as conn:
        assert {"judgements", "judge_rubrics"} <= set(inspect(conn).get_table_names())
        assert conn.scalar(select(t.generation_logs.c.kind)) == "generate"
        assert {"max_cost_usd", "stop_reason"} <= {c["name"] for c in inspect(conn).get_columns("generation_jobs")}
    engine.dispose()


def test_migration_5_rebuilds_the_unused_input_tables(empty_url):
    engine = make_engine(empty_url)
    migrate(engine, upto=2)
    with write(engine) as conn:  # migration 1's shape, as every existing store has it (empty)
        for name in ("chunk_dimensions", "chunks", "documents"):
            conn.execute(text(f"DROP TABLE {name}"))
        conn.execute(text("CREATE TABLE documents (id INTEGER PRIMARY KEY, title VARCHAR(300) NOT NULL)"))
        conn.execute(text("CREATE TABLE chunks (id INTEGER PRIMARY KEY, document_id INTEGER, position INTEGER, "
                          "content TEXT NOT NULL)"))
    assert "firm documents" in " ".join(migrate(engine))
    with read(engine) as conn:
        assert "chunk_text" in {c["name"] for c in inspect(conn).get_columns("chunks")}
        assert conn.scalar(select(func.count()).select_from(t.conversation_sources)) == 0
    engine.dispose()


def test_migration_5_never_drops_a_table_someone_else_filled(empty_url):
    engine = make_engine(empty_url)
    migrate(engine, upto=2)
    with write(engine) as conn:
        conn.execute(text("INSERT INTO document_categories (name, created_at, updated_at) "
                          "VALUES ('theirs', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    with pytest.raises(InputError, match="document_categories holds rows"):
        migrate(engine)
    with read(engine) as conn:
        assert conn.scalar(select(func.count()).select_from(t.document_categories)) == 1
    engine.dispose()


def test_a_database_of_before_the_index_is_upgraded_in_place(empty_url):
    """A store as it was before migration 6: no index tables, versions without the twin columns."""
    engine = make_engine(empty_url)
    try:
        migrate(engine, upto=2)
        with write(engine) as conn:
            for column in ("similar_to", "similarity"):  # step 1 made the table from today's metadata
                conn.execute(text(f"ALTER TABLE conversation_versions DROP COLUMN {column}"))
        assert "near-duplicate index and similarity flags on versions" in migrate(engine)
        with read(engine) as conn:
            assert {"conversation_signatures", "signature_bands"} <= set(inspect(conn).get_table_names())
            assert {"similar_to", "similarity"} <= {c["name"] for c in inspect(conn).get_columns("conversation_versions")}
        assert migrate(engine) == []
    finally:
        engine.dispose()


def test_annotations_column_is_added_to_an_existing_database_in_place(empty_url):
    engine = make_engine(empty_url)
    migrate(engine, upto=2)
    with write(engine) as conn:
        conn.execute(text("ALTER TABLE conversation_turns DROP COLUMN annotation"))
    assert "per-turn annotations" in migrate(engine)
    with read(engine) as conn:
        assert "annotation" in {c["name"] for c in inspect(conn).get_columns("conversation_turns")}
    engine.dispose()


def test_migration_9_adds_the_failed_attempt_columns_and_template_shares_in_place(empty_url):
    """A database from before migration 9: its conversations and templates gain the new columns, rows kept."""
    engine = make_engine(empty_url)
    migrate(engine, upto=2)
    with write(engine) as conn:
        for table, column in (("conversations", "prior_status"), ("conversations", "failed_at"),
                              ("prompt_templates", "share")):
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        conn.execute(t.prompt_templates.insert().values(name="tier1_arc", tier=1, body="b", placeholders=[],
                                                        response_schema={}, active=True, content_hash="h"))
    assert "failed-attempt marker and prior status on conversations, template version shares" in migrate(engine)
    with read(engine) as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("conversations")}
        assert {"prior_status", "failed_at"} <= columns
        assert conn.scalar(select(t.prompt_templates.c.share)) == 100
    engine.dispose()


def test_migration_7_upgrades_an_existing_database_in_place(empty_url):
    """A store as it was before migration 7: no shared rate-limit table, jobs without pacing figures."""
    engine = make_engine(empty_url)
    try:
        migrate(engine, upto=6)
        with write(engine) as conn:
            for column in ("account", "calls_refused", "wait_seconds"):  # step 2 made the table from today's metadata
                conn.execute(text(f"ALTER TABLE generation_jobs DROP COLUMN {column}"))
            conn.execute(text("INSERT INTO generation_jobs (kind, selection, status, provider, model, concurrency, "
                              "use_batch, created_at, updated_at) VALUES ('all', '{}', 'done', 'anthropic', 'm', 4, "
                              "false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        assert "rate-limit states shared by workers; refused calls and waiting time of jobs" in migrate(engine)
        with read(engine) as conn:
            assert "rate_limit_states" in inspect(conn).get_table_names()
            old = conn.execute(select(t.generation_jobs.c.account, t.generation_jobs.c.calls_refused,
                                      t.generation_jobs.c.wait_seconds)).one()
        assert tuple(old) == (None, 0, 0.0)
        assert migrate(engine) == []
    finally:
        engine.dispose()
