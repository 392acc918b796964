"""Seed import into the store, on SQLite and PostgreSQL, with the real console-era files."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from brightrun_gen.services.importing import import_paths
from brightrun_gen.store import conversations as conv_store, tables as t
from brightrun_gen.store.db import read
from tests.support.paths import REAL_SEEDS


def _count(engine, table) -> int:
    with read(engine) as conn:
        return conn.scalar(select(func.count()).select_from(table))


def test_real_seed_files_import_with_every_turn_and_annotation(store):
    results = import_paths(store, [REAL_SEEDS])
    assert [r.outcome for r in results] == ["imported"] * 8, [r.line() for r in results]
    assert sum(r.turns for r in results) == 62
    rows = conv_store.list_conversations(store, conv_store.ConversationQuery(where={"persona": ["marcus_thompson", "jennifer_park"]}, statuses=["seed"]))
    imported = [r for r in rows if r.key.startswith("fp_")]
    assert len(imported) == 8
    detail = conv_store.get_detail(store, "fp_marcus_002")
    assert [turn.role for turn in detail.turns] == ["user", "assistant"] * 3
    assert detail.turns[0].content.startswith("I got promoted 3 months ago")
    assert conv_store.metadata_search(store, "pairs.0.emotional_context.detected_emotions.primary", "overwhelm")
    assert detail.metadata["persona_label"] == "Marcus Thompson - The Overwhelmed Avoider"


def test_real_seeds_are_scored_and_the_score_says_which_rules_they_break(store):
    import_paths(store, [REAL_SEEDS])
    detail = conv_store.get_detail(store, "fp_marcus_002")
    assert detail.row.quality_score is not None and detail.row.quality_score < 10
    failed = {c["name"] for c in detail.quality["criteria"] if not c["passed"]}
    assert "turn_count" in failed  # 6 turns: fewer than the 8 the rules ask for


def test_importing_the_same_files_twice_changes_nothing(store):
    import_paths(store, [REAL_SEEDS])
    before = (_count(store, t.conversations), _count(store, t.conversation_turns), _count(store, t.conversation_metadata))
    again = import_paths(store, [REAL_SEEDS])
    assert {r.outcome for r in again} == {"duplicate"}
    assert (_count(store, t.conversations), _count(store, t.conversation_turns), _count(store, t.conversation_metadata)) == before


def test_a_broken_file_is_reported_and_the_others_still_import(store, tmp_path):
    good = REAL_SEEDS / "c-alpha-build_v3.4-LoRA-FP-convo-07-complete.json"
    (tmp_path / "a-good.json").write_bytes(good.read_bytes())
    text = good.read_text(encoding="utf-8")
    (tmp_path / "b-truncated.json").write_text(text[: len(text) // 2], encoding="utf-8")
    (tmp_path / "c-no-pairs.json").write_text(json.dumps({"dataset_metadata": {}}), encoding="utf-8")
    before = _count(store, t.conversations)
    results = {r.path: r for r in import_paths(store, [tmp_path])}
    assert results["a-good.json"].outcome == "imported"
    assert results["b-truncated.json"].outcome == "failed"
    assert "b-truncated.json: line" in results["b-truncated.json"].message
    assert "training_pairs" in results["c-no-pairs.json"].message
    assert _count(store, t.conversations) == before + 1


def test_a_file_whose_key_exists_with_other_content_fails_whole(store, tmp_path):
    record = json.loads((REAL_SEEDS / "c-alpha-build_v3.4-LoRA-FP-convo-07-complete.json").read_text(encoding="utf-8"))
    import_paths(store, [REAL_SEEDS / "c-alpha-build_v3.4-LoRA-FP-convo-07-complete.json"])
    record["dataset_metadata"]["notes"] += " (edited)"
    (tmp_path / "edited.json").write_text(json.dumps(record), encoding="utf-8")
    before = (_count(store, t.conversations), _count(store, t.conversation_turns))
    [result] = import_paths(store, [tmp_path / "edited.json"])
    assert result.outcome == "failed" and "already exists" in result.message
    assert (_count(store, t.conversations), _count(store, t.conversation_turns)) == before
