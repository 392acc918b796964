"""The store on SQLite and PostgreSQL: schema, migrations, init, versions, metadata, the index's
writes and the columns' limits. Its subject is the store, so it works on the store directly; the
app's tests go through the facade (tests/test_migrations.py has each migration's own test)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import String, inspect, select

from brightrun_gen.config import Settings
from brightrun_gen.domain import models, seedfiles, similarity
from brightrun_gen.domain.catalog import build_plan, load_catalog
from brightrun_gen.domain.models import VARIATION_FIELDS, Turn
from brightrun_gen.services.setup import initialize
from brightrun_gen.store import conversations as conv_store, signatures as sig_store, tables as t
from brightrun_gen.store.db import make_engine, read, write
from brightrun_gen.store.ddl import postgres_ddl
from brightrun_gen.store.migrations import MIGRATIONS, applied_versions, latest_version, migrate
from tests.support.store_state import table_counts

REPO = Path(__file__).resolve().parents[1]


def test_schema_sql_is_generated_from_metadata():
    assert (REPO / "sql" / "schema.sql").read_text() == postgres_ddl(), (
        "sql/schema.sql drifted: run `python -m brightrun_gen.store.ddl > sql/schema.sql`"
    )


def test_fresh_database_gets_every_table_and_all_migrations(engine):
    with read(engine) as conn:
        assert set(inspect(conn).get_table_names()) == set(t.metadata.tables)
        assert max(applied_versions(conn)) == latest_version()
    assert migrate(engine) == []


def test_old_database_is_upgraded_in_place(empty_url):
    engine = make_engine(empty_url)
    assert migrate(engine, upto=1)
    with read(engine) as conn:
        assert "generation_queue" not in inspect(conn).get_table_names()
    with write(engine) as conn:
        conn.execute(t.personas.insert().values(key="kept", name="Kept", archetype="K", data={"key": "kept"}))
    applied = migrate(engine)
    assert applied[0] == "generation jobs and queue"
    assert applied == [name for version, name, _ in sorted(MIGRATIONS, key=lambda m: m[0]) if version > 1]
    with read(engine) as conn:
        assert set(inspect(conn).get_table_names()) == set(t.metadata.tables)
        assert conn.scalar(select(t.personas.c.name).where(t.personas.c.key == "kept")) == "Kept"
    engine.dispose()


def test_init_loads_everything_once_and_is_idempotent(engine):
    settings = Settings(_env_file=None, anthropic_api_key=None)
    first = initialize(engine, settings)
    assert first.planned_added == 90
    assert first.templates_added == 3
    assert sum(r.outcome == "imported" for r in first.seeds) == 10, [r.line() for r in first.seeds]
    before = table_counts(engine)
    assert before["conversations"] == 100
    assert before["personas"] >= 7
    second = initialize(engine, settings)
    assert (second.planned_added, second.catalog_added, second.templates_added) == (0, 0, 0)
    assert all(r.outcome == "duplicate" for r in second.seeds)
    assert table_counts(engine) == before


def test_plan_rows_carry_all_dimensions(store):
    rows = conv_store.list_conversations(store, conv_store.ConversationQuery(where={"tier": [1, 2, 3]}))
    planned = [r for r in rows if r.source == "plan"]
    assert len(planned) == 90
    for row in planned:
        d = row.dimensions
        assert all([d.persona, d.emotion_start, d.emotion_end, d.content_category, d.intent, d.tone,
                    d.topic_cluster, d.outcome_type, d.tier])
        assert (d.arc or d.scenario or d.edge_case)


def test_new_version_never_replaces_an_approved_one(store):
    turns = [Turn(role="user", content="hello there"), Turn(role="assistant", content="hi")]
    with write(store) as conn:
        cid = conv_store.find_id(conn, "T1-001")
        v1 = conv_store.save_version(conn, cid, turns, model="offline", status="generated", quality={"score": 5.0})
        conv_store.set_review(conn, cid, "approved", "good")
        v2 = conv_store.save_version(conn, cid, turns[::-1], model="offline", status="generated", quality={"score": 2.0})
    detail = conv_store.get_detail(store, "T1-001")
    assert (v1, v2) == (1, 2)
    assert detail.row.status == "approved"
    assert detail.row.current_version == 1
    assert detail.turns[0].role == "user"
    assert [v["version"] for v in detail.versions] == [1, 2]


def test_failed_multi_table_write_leaves_nothing(store):
    before = table_counts(store)
    try:
        with write(store) as conn:
            cid = conv_store.insert_conversation(conn, "half", conv_store.get_row(conn, 1).dimensions,
                                                 source="import", status="generated")
            conv_store.save_metadata(conn, cid, {"a": 1})
            raise RuntimeError("crash in the middle")
    except RuntimeError:
        pass
    assert table_counts(store) == before


def test_metadata_is_flattened_queryable_and_restored(store):
    nested = {"emotional_context": {"primary": "shame", "scores": [0.7, 0.8], "intensity": 0.0},
              "pairs": [{"turn": 1, "x": {"y": "z"}}, {"turn": 2}],
              "indicators": {"that's what...means": ["a"], "back\\slash.": 1}}
    with write(store) as conn:
        cid = conv_store.find_id(conn, "T1-002")
        conv_store.save_metadata(conn, cid, nested)
    assert conv_store.metadata_search(store, "emotional_context.primary", "shame") == [cid]
    with read(store) as conn:
        restored = conv_store.unflatten(conv_store.load_metadata(conn, cid))
    assert set(restored.pop("variation")) == set(VARIATION_FIELDS)  # the plan's own metadata, kept alongside
    assert restored == nested
    assert isinstance(restored["emotional_context"]["intensity"], float)


def test_filters_by_dimension_status_and_persona_text(store):
    query = conv_store.ConversationQuery(where={"tier": ["3"]}, statuses=["not_generated"])
    rows = conv_store.list_conversations(store, query)
    assert len(rows) == 15 and all(r.dimensions.tier == 3 for r in rows)
    marcus = conv_store.list_conversations(store, conv_store.ConversationQuery(persona_text="overwhelmed avoider"))
    assert marcus and all(r.dimensions.persona == "marcus_thompson" for r in marcus)


def test_indexing_the_same_version_twice_at_once_is_harmless(store):
    with read(store) as conn:
        ids = [conv_store.find_id(conn, "seed_01")]
        texts = sig_store.current_texts(conn, ids)
    [(cid, (version, turns))] = texts.items()
    row = sig_store.IndexRow(cid, version, b"\0" * 512, len(turns), 1, list(range(similarity.BANDS)))
    for _ in range(2):  # a runner and `brightrun dedupe` writing the same rows: neither fails
        with write(store) as conn:
            sig_store.save(conn, [row])
    assert table_counts(store)["conversation_signatures"] == 10


def test_model_limits_equal_the_column_lengths():
    """A value that validates always fits its column, on PostgreSQL too."""
    catalog = load_catalog(REPO / "seeds" / "catalog")
    dims = build_plan(catalog)[0].dimensions.model_dump()
    record = {"key": "k", "dimensions": dims, "turns": [{"role": "user", "content": "hi"}]}
    checks = [(models.Dimensions, dims, t.conversations, name) for name in dims if name != "tier"]
    checks += [(models.ConversationRecord, record, t.conversations, "key")]
    for model, entry, table in [(models.Persona, catalog.personas[0], t.personas),
                                (models.Topic, catalog.topics[0], t.topics),
                                (models.Emotion, catalog.emotions[0], t.emotions),
                                (models.Arc, catalog.arcs[0], t.emotional_arcs),
                                (models.VocabEntry, catalog.intents[0], t.vocabulary)]:
        checks += [(model, entry.model_dump(), table, name) for name in entry.model_dump() if name in table.c]
    for model, valid, table, name in checks:
        if not isinstance(table.c[name].type, String) or table.c[name].type.length is None:
            continue
        length = table.c[name].type.length
        try:
            model.model_validate({**valid, name: "x" * length})
        except ValidationError as exc:  # a closed set of values, such as an emotion's valence
            assert {e["type"] for e in exc.errors()} == {"literal_error"}, (model, name)
            continue
        with pytest.raises(ValidationError, match="string_too_long"):
            model.model_validate({**valid, name: "x" * (length + 1)})
    assert seedfiles.METADATA_KEY_MAX == t.conversation_metadata.c.key.type.length
    assert seedfiles.MODEL_NAME_MAX == t.conversations.c.model.type.length
