"""The upstream stage's tables on a real PostgreSQL, scenario suggestions, and migration 5."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import func, inspect, select, text

from brightrun_gen.brightrun import BrightRun
from brightrun_gen.errors import InputError
from brightrun_gen.services.setup import initialize
from brightrun_gen.store import catalog_repo, tables as t
from brightrun_gen.store.db import make_engine, read, write
from brightrun_gen.store.migrations import migrate
from tests.support.firm_corpus import write_corpus

UPSTREAM_DDL = """
CREATE SCHEMA pipeline;
CREATE TABLE pipeline.document_categories (id uuid PRIMARY KEY, name text NOT NULL);
CREATE TABLE pipeline.documents (id uuid PRIMARY KEY, title text NOT NULL, category_id uuid, file_name text);
CREATE TABLE pipeline.chunks (
  id bigserial PRIMARY KEY, chunk_id text UNIQUE NOT NULL, document_id uuid NOT NULL, chunk_type text,
  section_heading text, page_start int, page_end int, char_start int, char_end int, token_count int,
  chunk_text text NOT NULL);
CREATE TABLE pipeline.chunk_dimensions (
  chunk_id text PRIMARY KEY, chunk_summary_1s text, key_terms text[], audience text, intent text,
  tone_voice_tags text[], brand_persona_tags text[], domain_tags text[], claim text, evidence_snippets text[],
  factual_confidence_0_1 numeric(3,2), reading_level text);
INSERT INTO pipeline.document_categories VALUES ('00000000-0000-0000-0000-0000000000c1', 'Pricing');
INSERT INTO pipeline.documents VALUES
  ('00000000-0000-0000-0000-0000000000d1', 'Fee schedule 2026', '00000000-0000-0000-0000-0000000000c1', 'fees.pdf'),
  ('00000000-0000-0000-0000-0000000000d2', 'Divorce checklist', NULL, 'divorce.docx');
INSERT INTO pipeline.chunks (chunk_id, document_id, chunk_type, section_heading, page_start, page_end, char_start,
  char_end, token_count, chunk_text) VALUES
  ('fees-2', '00000000-0000-0000-0000-0000000000d1', 'paragraph', 'Ongoing', 1, 1, 300, 420, 30,
   'Ongoing planning costs $200 a month and can be cancelled with 30 days notice.'),
  ('fees-1', '00000000-0000-0000-0000-0000000000d1', 'paragraph', 'First plan', 1, 1, 0, 280, 40,
   'A first financial plan is a flat fee of $2,400, delivered within three weeks.'),
  ('div-1', '00000000-0000-0000-0000-0000000000d2', 'list', 'Before you sign', 2, 2, 0, 200, 35,
   'Before signing a divorce settlement, list every retirement account and ask for a QDRO for each 401(k).');
INSERT INTO pipeline.chunk_dimensions VALUES
  ('fees-1', 'The first plan is a flat $2,400.', ARRAY['flat fee','financial plan'], 'prospective clients',
   'inform', ARRAY['plain'], ARRAY['transparent'], ARRAY['fees'], 'The first plan costs $2,400.',
   ARRAY['a flat fee of $2,400'], 0.95, 'grade 8');
"""


def test_the_upstream_tables_are_read_read_only_on_postgresql(pg_server, _initialized_postgresql, settings):
    database = pg_server.create_database(template=_initialized_postgresql)
    with psycopg.connect(host="127.0.0.1", port=pg_server.port, user=pg_server.user, dbname=database,
                         autocommit=True) as conn:
        conn.execute(UPSTREAM_DDL)
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'pipeline_reader'").fetchone() is None:
            conn.execute("CREATE ROLE pipeline_reader LOGIN")
        conn.execute("GRANT USAGE ON SCHEMA pipeline TO pipeline_reader")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA pipeline TO pipeline_reader")
    # The same database as the store, through a login that can only read the upstream's tables.
    reader = f"postgresql+psycopg://pipeline_reader@127.0.0.1:{pg_server.port}/{database}"
    with BrightRun(settings, database_url=pg_server.url(database)) as app:
        results = app.documents.import_chunks(database_url=reader, schema="pipeline")
        assert sorted(r.outcome for r in results) == ["imported", "imported"], [r.line() for r in results]
        docs = {d.title: d for d in app.documents.list()}
        assert docs["Fee schedule 2026"].category == "Pricing" and docs["Fee schedule 2026"].chunks == 2
        assert docs["Fee schedule 2026"].doc_type == "upstream"
        with read(app.engine) as conn:
            rows = conn.execute(select(t.chunks.c.chunk_id, t.chunks.c.position, t.chunks.c.page_start,
                                       t.chunks.c.token_count).order_by(t.chunks.c.chunk_id)).all()
            dims = conn.execute(select(t.chunk_dimensions.c.key_terms, t.chunk_dimensions.c.factual_confidence_0_1,
                                       t.chunk_dimensions.c.extra)).one()
        assert [tuple(r) for r in rows] == [("div-1", 0, 2, 35), ("fees-1", 0, 1, 40), ("fees-2", 1, 1, 30)]
        assert dims.key_terms == ["flat fee", "financial plan"] and dims.factual_confidence_0_1 == 0.95
        assert dims.extra == {"reading_level": "grade 8"}
        assert {r.outcome for r in app.documents.import_chunks(database_url=reader, schema="pipeline")} == {"duplicate"}
        # Upstream chunks are searched like the firm's own: the divorce checklist ranks first for a divorce row.
        divorce = app.conversations.list(where={"tier": [2], "topic": ["divorce_finances"]})[0].key
        assert app.documents.for_row(divorce).candidates[0].chunk_id == "div-1"
        with pytest.raises(InputError, match="no table 'documents'"):
            app.documents.import_chunks(database_url=reader, schema="public_nothing_here")


def test_suggested_scenarios_join_the_catalog_and_add_plan_rows(db_url, settings, tmp_path):
    with BrightRun(settings, database_url=db_url) as app:
        app.documents.import_files([write_corpus(tmp_path / "firm")])
        chunks = [c for c in app.documents.chunks() if c.document in ("Fees and services", "Debt payoff playbook")][:2]
        stored, problems = app.documents.suggest_scenarios([c.id for c in chunks])
        assert len(stored) == 2 and problems == []
        assert all(s.key.startswith("sd_") and s.data["chunk_ids"] for s in stored)
        accepted = app.documents.accept_scenario(stored[0].key)
        app.documents.dismiss_scenario(stored[1].key)
        assert accepted.status == "accepted"
        assert [s.key for s in app.documents.suggestions(["dismissed"])] == [stored[1].key]
        added = app.documents.add_plan_rows()
        assert added and all(key.startswith(f"T2-{accepted.key}-") for key in added)
        assert app.documents.add_plan_rows() == []
        initialize(app.engine, settings)  # init never writes over an accepted scenario
        scenario = next(s for s in catalog_repo.load_catalog(app.engine).scenarios if s.key == accepted.key)
        assert scenario.title == accepted.title
        result = app.jobs.generate_now(added[0])  # the new row renders and generates like any other
        assert result.status == "generated"


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
