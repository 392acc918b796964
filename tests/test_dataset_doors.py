"""The doors to the dataset figures: `brightrun dedupe`, `brightrun phrases`, `export --dedupe`, the pages."""

from __future__ import annotations

import json

import pytest

from tests.support.twins import generate_twins
from tests.support.cli_process import run_cli as run
from tests.support.conversation_files import conversation_file, light_rewrite, seed_01_turns
from tests.support.apptest import open_page


# The CLI's doors on the initialized SQLite store (their SQL is the services', tested on both backends).
ON_SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def cli_db(db_url, tmp_path) -> str:
    """A store after `brightrun init`, plus a light rewrite of seed_01 imported from a file."""
    path = conversation_file(tmp_path, "retouched_01", light_rewrite(seed_01_turns()))
    assert run("import-seeds", str(path), db=db_url).returncode == 0
    return db_url


@ON_SQLITE
def test_dedupe_prints_pairs_and_their_json(cli_db):
    text = run("dedupe", db=cli_db)
    assert text.returncode == 0, text.stderr
    assert "seed_01  ~  retouched_01" in text.stdout
    assert "1 pair(s) of conversations at similarity 0.80 or more" in text.stdout
    listed = json.loads(run("dedupe", "--json", db=cli_db).stdout)
    [pair] = listed["pairs"]
    assert (pair["a"], pair["b"], pair["scope"], listed["threshold"]) == ("seed_01", "retouched_01", "conversations", 0.8)
    assert 0.8 <= pair["similarity"] < 1
    turns = json.loads(run("dedupe", "--scope", "turns", "--json", db=cli_db).stdout)["pairs"]
    assert turns and all(p["a_turn"] == p["b_turn"] and p["scope"] == "turns" for p in turns)


@ON_SQLITE
def test_dedupe_refuses_a_threshold_out_of_range_in_one_line(cli_db):
    result = run("dedupe", "--threshold", "0.3", db=cli_db)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: dedupe: threshold 0.3 is out of range; use 0.5 to 1"


@ON_SQLITE
def test_phrases_lists_the_roles_and_positions_asked_for(cli_db):
    result = run("phrases", "--role", "assistant", "--top", "3", "--json", db=cli_db)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["conversations"] == 11 and found["per_role"]["assistant"] == 11
    assert found["phrases"] and {p["role"] for p in found["phrases"]} == {"assistant"}
    for position in ("opening", "closing", "any"):
        assert len([p for p in found["phrases"] if p["position"] == position]) <= 3
    text = run("phrases", "--position", "closing", db=cli_db).stdout
    assert "assistant · closing (of 11 conversations)" in text and "· any" not in text


@ON_SQLITE
def test_export_with_dedupe_reports_what_it_left_out(cli_db, tmp_path):
    out = tmp_path / "out.jsonl"
    result = run("export", "-f", "openai", "--status", "seed", "--status", "generated", "--dedupe", "0.8",
                 "-o", str(out), db=cli_db)
    assert result.returncode == 0, result.stderr
    assert "exported 10 conversation(s)" in result.stdout
    assert "near-duplicates: 1 left out" in result.stdout
    manifest = json.loads(out.with_name("out.manifest.json").read_text(encoding="utf-8"))
    assert manifest["dedupe"]["pairs"][0]["dropped"] == "retouched_01"
    assert manifest["diversity"]["conversations"] == 10


# --- the pages -------------------------------------------------------------------------------------


def test_the_activity_page_shows_diversity_and_phrases(page_store):
    at = open_page("activity")
    assert "The dataset as a whole" in [s.value for s in at.subheader]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Conversations"] == "12" and metrics["Near-duplicates"] == "0"
    table = next(df.value for df in at.dataframe if "phrase" in df.value.columns)
    assert len(table) and set(table.columns) >= {"phrase", "conversations", "share", "examples", "in context"}
    at.segmented_control(key="phrases_role").set_value("user").run()
    assert not at.exception
    at.toggle(key="dataset_offline").set_value(False).run()
    assert {m.label: m.value for m in at.metric}["Conversations"] == "10"


def test_the_review_page_links_to_a_near_duplicate(page_app):
    generate_twins(page_app)
    at = open_page("review", id="T2-014")
    links = [e for e in at.get("page_link") if "similar to" in e.proto.label]
    assert links, "the similar-to panel is missing"
    assert "T1-003 (1.00)" in links[0].proto.label.replace("\\", "")
    assert "id=T1-003" in links[0].proto.page or links[0].proto.query_string.endswith("T1-003")


def test_the_review_page_says_when_nothing_is_similar(page_app, tmp_path):
    page_app.conversations.import_files([conversation_file(tmp_path, "unique_01", [
        {"role": "user", "content": "Nothing here repeats anything stored in this tiny test conversation at all."},
        {"role": "assistant", "content": "Indeed, every run of five words in this answer is new to the store."}])])
    at = open_page("review", id="unique_01")
    assert any("No other conversation is 0.5 or more similar" in c.value for c in at.caption)
