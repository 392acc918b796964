"""The `brightrun` command line, run as a real process."""

from __future__ import annotations

import json

import pytest

from tests.support.cli_process import run_cli as run
from tests.support.paths import REAL_SEEDS


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_init_twice_then_list_shows_100_rows(sqlite_url):
    first = run("init", db=sqlite_url)
    assert first.returncode == 0, first.stderr
    assert "plan: 90 conversations added" in first.stdout
    second = run("init", db=sqlite_url)
    assert "plan: 0 conversations added" in second.stdout
    listed = run("list", "--json", db=sqlite_url)
    rows = json.loads(listed.stdout)
    assert len(rows) == 100
    assert {"id", "status", "source", "tier", "persona", "emotion_start", "intent", "outcome_type"} <= set(rows[0])
    assert sum(r["status"] == "seed" for r in rows) == 10


def test_import_seeds_reports_each_file_and_totals(sqlite_url):
    result = run("import-seeds", str(REAL_SEEDS), db=sqlite_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": imported: ") == 8
    assert "8 imported (8 conversations, 62 turns)" in result.stdout
    again = run("import-seeds", str(REAL_SEEDS), db=sqlite_url)
    assert again.returncode == 0 and again.stdout.count(": duplicate: ") == 8


def test_import_of_a_bad_file_exits_1_with_the_reason(sqlite_url, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"training_pairs": [ {"id": abc} ]}', encoding="utf-8")
    result = run("import-seeds", str(bad), db=sqlite_url)
    assert result.returncode == 1
    assert "bad.json: failed: bad.json: line 1, column" in result.stdout
    assert "Traceback" not in result.stderr


# The commands that read a store get a copy of the one `brightrun init` filled (conftest's db_url).
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_list_filters_and_show(db_url):
    tier3 = json.loads(run("list", "--tier", "3", "--json", db=db_url).stdout)
    assert len(tier3) == 17  # 15 planned + 2 of our seed conversations
    assert sum(r["source"] == "plan" for r in tier3) == 15
    marcus = json.loads(run("list", "--persona", "Marcus", "--json", db=db_url).stdout)
    assert marcus and {r["persona"] for r in marcus} == {"marcus_thompson"}
    shown = json.loads(run("show", "seed_01", "--json", db=db_url).stdout)
    assert shown["key"] == "seed_01" and 8 <= len(shown["turns"]) <= 16
    assert shown["quality"]["score"] >= 8


@pytest.mark.parametrize("args, code, message", [
    (("show", "NOPE-1"), 2, "conversation 'NOPE-1' does not exist"),
    (("list", "--where", "colour=blue"), 2, "unknown key 'colour'"),
    (("list", "--where", "persona"), 2, "expected KEY=VALUE"),
    (("list", "--status", "finished"), 2, "invalid choice"),
    (("frobnicate",), 2, "invalid choice"),
])
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_bad_input_is_one_line_on_stderr_without_traceback(db_url, args, code, message):
    result = run(*args, db=db_url)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_database_url_is_a_clear_error():
    result = run("list", db="mysql://nobody@localhost/x")
    assert result.returncode == 2
    assert "only sqlite:// and postgresql://" in result.stderr
