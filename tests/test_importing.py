"""Seed import into the store, on SQLite and PostgreSQL, with the real console-era files."""

from __future__ import annotations

import json

from tests.support.paths import REAL_SEEDS
from tests.support.store_state import table_counts

CONVERSATION_TABLES = ("conversations", "conversation_turns", "conversation_metadata")


def stored(app, tables=CONVERSATION_TABLES) -> tuple[int, ...]:
    """Rows in these tables: what a failed or repeated import must leave as it was."""
    counts = table_counts(app.engine)
    return tuple(counts[name] for name in tables)


def test_real_seed_files_import_with_every_turn_and_annotation(app):
    results = app.conversations.import_files([REAL_SEEDS])
    assert [r.outcome for r in results] == ["imported"] * 8, [r.line() for r in results]
    assert sum(r.turns for r in results) == 62
    rows = app.conversations.list(where={"persona": ["marcus_thompson", "jennifer_park"]}, statuses=["seed"])
    imported = [r for r in rows if r.key.startswith("fp_")]
    assert len(imported) == 8
    detail = app.conversations.detail("fp_marcus_002")
    assert [turn.role for turn in detail.turns] == ["user", "assistant"] * 3
    assert detail.turns[0].content.startswith("I got promoted 3 months ago")
    annotations = app.conversations.as_json("fp_marcus_002")["metadata"]
    assert annotations["pairs"][0]["emotional_context"]["detected_emotions"]["primary"] == "overwhelm"
    assert detail.metadata["persona_label"] == "Marcus Thompson - The Overwhelmed Avoider"


def test_real_seeds_are_scored_and_the_score_says_which_rules_they_break(app):
    app.conversations.import_files([REAL_SEEDS])
    detail = app.conversations.detail("fp_marcus_002")
    assert detail.row.quality_score is not None and detail.row.quality_score < 10
    failed = {c["name"] for c in detail.quality["criteria"] if not c["passed"]}
    assert "turn_count" in failed  # 6 turns: fewer than the 8 the rules ask for


def test_importing_the_same_files_twice_changes_nothing(app):
    app.conversations.import_files([REAL_SEEDS])
    before = stored(app)
    again = app.conversations.import_files([REAL_SEEDS])
    assert {r.outcome for r in again} == {"duplicate"}
    assert stored(app) == before


def test_a_broken_file_is_reported_and_the_others_still_import(app, tmp_path):
    good = REAL_SEEDS / "c-alpha-build_v3.4-LoRA-FP-convo-07-complete.json"
    (tmp_path / "a-good.json").write_bytes(good.read_bytes())
    text = good.read_text(encoding="utf-8")
    (tmp_path / "b-truncated.json").write_text(text[: len(text) // 2], encoding="utf-8")
    (tmp_path / "c-no-pairs.json").write_text(json.dumps({"dataset_metadata": {}}), encoding="utf-8")
    before = len(app.conversations.list())
    results = {r.path: r for r in app.conversations.import_files([tmp_path])}
    assert results["a-good.json"].outcome == "imported"
    assert results["b-truncated.json"].outcome == "failed"
    assert "b-truncated.json: line" in results["b-truncated.json"].message
    assert "training_pairs" in results["c-no-pairs.json"].message
    assert len(app.conversations.list()) == before + 1


def test_a_file_whose_key_exists_with_other_content_fails_whole(app, tmp_path):
    record = json.loads((REAL_SEEDS / "c-alpha-build_v3.4-LoRA-FP-convo-07-complete.json").read_text(encoding="utf-8"))
    app.conversations.import_files([REAL_SEEDS / "c-alpha-build_v3.4-LoRA-FP-convo-07-complete.json"])
    record["dataset_metadata"]["notes"] += " (edited)"
    (tmp_path / "edited.json").write_text(json.dumps(record), encoding="utf-8")
    before = stored(app, ("conversations", "conversation_turns"))
    [result] = app.conversations.import_files([tmp_path / "edited.json"])
    assert result.outcome == "failed" and "already exists" in result.message
    assert stored(app, ("conversations", "conversation_turns")) == before
