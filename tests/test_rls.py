"""sql/supabase_rls.sql on a real PostgreSQL: two businesses share one database, unchanged app.

Each tenant logs in with its own role (a member of brightrun_app) and runs the app as is:
init, generation through the queue, review, export. Neither sees, changes or forges the
other's rows.
"""

from __future__ import annotations

import json
import re
import psycopg
import pytest
from sqlalchemy import select

from brightrun_gen.config import Settings
from brightrun_gen.services import exporting, runner as runner_service
from brightrun_gen.services.review import review
from brightrun_gen.services.setup import initialize
from brightrun_gen.store import conversations as conv_store, tables as t
from brightrun_gen.store.db import make_engine
from brightrun_gen.store.migrations import MIGRATIONS, migrate
from tests.support.paths import REPO

SCRIPT = REPO / "sql" / "supabase_rls.sql"
TENANTS = ("tenant_a", "tenant_b")
BUSINESS_TABLES = sorted(table.name for table in t.metadata.sorted_tables if table.name != "schema_migrations")


def _connect(pg_server, database: str, user: str | None = None) -> psycopg.Connection:
    return psycopg.connect(host="127.0.0.1", port=pg_server.port, dbname=database, user=user or pg_server.user,
                           autocommit=True)


def _create_role(conn: psycopg.Connection, name: str, options: str) -> None:
    """Roles belong to the whole cluster, which other tests share: create once."""
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone() is None:
        conn.execute(f'CREATE ROLE "{name}" {options}')


@pytest.fixture(scope="module")
def shared_db(pg_server, tmp_path_factory):
    """A fresh database with the schema, the RLS script (run twice: it is idempotent) and two
    tenants that have each run `brightrun init` through their own login."""
    database = pg_server.create_database()
    owner = make_engine(pg_server.url(database))
    migrate(owner)
    owner.dispose()
    with _connect(pg_server, database) as conn:
        conn.execute(SCRIPT.read_text(encoding="utf-8"))
        conn.execute(SCRIPT.read_text(encoding="utf-8"))
        for tenant in TENANTS:
            _create_role(conn, tenant, "LOGIN IN ROLE brightrun_app")
    engines = {tenant: make_engine(f"postgresql+psycopg://{tenant}@127.0.0.1:{pg_server.port}/{database}")
               for tenant in TENANTS}
    settings = Settings(_env_file=None, anthropic_api_key=None, provider="offline",
                        database_url=f"sqlite:///{tmp_path_factory.mktemp('rls') / 'unused.db'}")
    reports = {tenant: initialize(engine, settings) for tenant, engine in engines.items()}
    yield database, engines, settings, reports
    for engine in engines.values():
        engine.dispose()


def test_the_script_covers_every_business_table(pg_server, shared_db):
    database, *_ = shared_db
    with _connect(pg_server, database) as conn:
        secured = dict(conn.execute(
            "SELECT relname, relrowsecurity AND relforcerowsecurity FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'").fetchall())
        with_tenant = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND column_name = 'tenant' AND is_nullable = 'NO'").fetchall()}
        unique_columns = conn.execute(
            "SELECT c.relname, array_agg(a.attname::text) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_attribute a ON a.attrelid = c.oid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indisunique AND NOT i.indisprimary "
            "AND c.relnamespace = 'public'::regnamespace GROUP BY i.indexrelid, c.relname").fetchall()
    assert {name for name, forced in secured.items() if forced} == set(BUSINESS_TABLES)
    assert with_tenant == set(BUSINESS_TABLES)
    for table, columns in unique_columns:
        # Unique per tenant, or keyed by a conversation id (ids are never shared by tenants).
        assert "tenant" in columns or "conversation_id" in columns, (table, columns)


def test_both_tenants_ran_init_and_hold_the_same_100_keys(shared_db):
    _, engines, _, reports = shared_db
    keys = {}
    for tenant, engine in engines.items():
        assert reports[tenant].planned_added == 90 and reports[tenant].catalog_added > 0
        assert sum(r.outcome == "imported" for r in reports[tenant].seeds) == 10
        keys[tenant] = sorted(row.key for row in conv_store.list_conversations(engine))
        assert len(keys[tenant]) == 100
    assert keys["tenant_a"] == keys["tenant_b"]
    again = initialize(engines["tenant_a"], shared_db[2])  # idempotent under RLS too
    assert again.planned_added == 0 and again.catalog_added == 0 and again.templates_added == 0


def test_the_app_generates_reviews_and_exports_unchanged_under_rls(shared_db, tmp_path):
    _, engines, settings, _ = shared_db
    engine = engines["tenant_a"]
    ids = [row.id for row in conv_store.list_conversations(
        engine, conv_store.ConversationQuery(statuses=["not_generated"], limit=4))]
    job = runner_service.enqueue(engine, kind="selected", conversation_ids=ids, settings=settings)
    again = runner_service.enqueue(engine, kind="selected", conversation_ids=ids, settings=settings)
    assert (job.enqueued, again.enqueued, again.skipped) == (4, 0, 4)  # ON CONFLICT DO NOTHING works
    runner_service.stop(engine, again.job_id)
    runner_service.Runner(engine, settings, concurrency=2).run_until_idle(job.job_id)
    for cid in ids:
        assert review(engine, cid, "approve", reviewer="tenant a").status == "approved"
    result = exporting.export(engine, exporting.ExportRequest(format="openai", output=tmp_path / "a.jsonl",
                                                               include_offline=True))
    assert result.conversations == 4
    other = conv_store.list_conversations(engines["tenant_b"], conv_store.ConversationQuery(statuses=["approved"]))
    assert other == []


def test_a_tenant_cannot_see_change_or_forge_the_others_rows(pg_server, shared_db):
    database, *_ = shared_db
    with _connect(pg_server, database, "tenant_b") as conn:
        b_notes = conn.execute("SELECT reviewer_notes FROM conversations WHERE key = 'T1-001'").fetchone()
        b_id = conn.execute("SELECT id FROM conversations WHERE key = 'T1-001'").fetchone()[0]
    with _connect(pg_server, database, "tenant_a") as conn:
        assert conn.execute("SELECT count(*) FROM conversations").fetchone()[0] == 100
        assert conn.execute("SELECT count(DISTINCT tenant) FROM conversations").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM conversations WHERE id = %s", (b_id,)).fetchone()[0] == 0
        assert conn.execute("UPDATE conversations SET reviewer_notes = 'a was here' "
                            "WHERE tenant = 'tenant_b' OR id = %s", (b_id,)).rowcount == 0
        assert conn.execute("DELETE FROM conversation_turns WHERE tenant = 'tenant_b'").rowcount == 0
        assert conn.execute("UPDATE conversations SET reviewer_notes = 'mine' WHERE key = 'T1-001'").rowcount == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO conversations (key, tier, persona, emotion_start, emotion_end, topic, "
                         "content_category, topic_cluster, intent, tone, outcome_type, status, source, "
                         "current_version, created_at, updated_at, tenant) VALUES ('FORGED', 1, 'p', 'e', 'e', "
                         "'t', 'c', 'c', 'i', 't', 'o', 'seed', 'import', 0, now(), now(), 'tenant_b')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("UPDATE conversations SET tenant = 'tenant_b' WHERE key = 'T1-002'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("TRUNCATE conversations CASCADE")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("ALTER TABLE conversations DISABLE ROW LEVEL SECURITY")
        # A login role cannot claim another tenant through the JWT setting.
        conn.execute("SELECT set_config('request.jwt.claims', %s, false)", (json.dumps({"tenant": "tenant_b"}),))
        assert conn.execute("SELECT count(*) FROM conversations WHERE tenant = 'tenant_b'").fetchone()[0] == 0
    with _connect(pg_server, database, "tenant_b") as conn:
        assert conn.execute("SELECT reviewer_notes FROM conversations WHERE key = 'T1-001'").fetchone() == b_notes
        assert conn.execute("SELECT count(*) FROM conversations").fetchone()[0] == 100


def test_supabase_api_requests_get_the_tenant_from_the_jwt_claim(pg_server, shared_db):
    database, *_ = shared_db
    with _connect(pg_server, database) as conn:
        _create_role(conn, "authenticated", "NOLOGIN")
        conn.execute("GRANT brightrun_app TO authenticated")

        def count_as_api(claims: dict | None) -> int:
            with conn.transaction():
                conn.execute("SET LOCAL ROLE authenticated")
                if claims is not None:
                    conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
                return conn.execute("SELECT count(*) FROM conversations").fetchone()[0]

        assert count_as_api({"tenant": "tenant_b", "role": "authenticated"}) == 100
        assert count_as_api({"role": "authenticated"}) == 0
        assert count_as_api(None) == 0


def test_rows_written_by_the_app_carry_the_writers_tenant(pg_server, shared_db):
    database, engines, *_ = shared_db
    with engines["tenant_b"].connect() as conn:
        ids = list(conn.scalars(select(t.conversations.c.id)))  # the app's own view
    assert len(ids) == 100
    with _connect(pg_server, database) as conn:  # the superuser sees every row
        counts = dict(conn.execute("SELECT tenant, count(*) FROM conversations GROUP BY tenant").fetchall())
    assert counts == {"tenant_a": 100, "tenant_b": 100}


def test_the_sql_editor_path_of_the_readme_works(pg_server, tmp_path):
    """sql/README.md: schema.sql, the migration stamp, the script; then a tenant runs init."""
    readme = (REPO / "sql" / "README.md").read_text(encoding="utf-8")
    stamp = re.search(r"```sql\n(INSERT INTO schema_migrations.*?)```", readme, re.DOTALL).group(1)
    database = pg_server.create_database()
    with _connect(pg_server, database) as conn:
        conn.execute((REPO / "sql" / "schema.sql").read_text(encoding="utf-8"))
        conn.execute(stamp)
        conn.execute(SCRIPT.read_text(encoding="utf-8"))
        _create_role(conn, "tenant_a", "LOGIN IN ROLE brightrun_app")
        stamped = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert stamped == [(version, name) for version, name, _ in sorted(MIGRATIONS)]
    engine = make_engine(f"postgresql+psycopg://tenant_a@127.0.0.1:{pg_server.port}/{database}")
    try:
        settings = Settings(_env_file=None, anthropic_api_key=None, database_url=f"sqlite:///{tmp_path / 'x.db'}")
        report = initialize(engine, settings)
        assert report.migrations == [] and report.planned_added == 90
    finally:
        engine.dispose()
