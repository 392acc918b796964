"""`brightrun plan`, `brightrun voice` and `brightrun prompt`, run as real processes."""

from __future__ import annotations

import json

import pytest

from tests.support.paths import REAL_SEEDS
from tests.support.cli_process import run_cli as run


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli_plan') / 'cli.db'}"
    assert run("init", db=url).returncode == 0
    assert run("import-seeds", str(REAL_SEEDS), db=url).returncode == 0
    return url


def test_plan_check_is_clean_in_text_and_json(db):
    text = run("plan", "check", db=db)
    assert text.returncode == 0 and text.stdout.strip() == "90 planned row(s): no contradictions"
    data = json.loads(run("plan", "check", "--json", db=db).stdout)
    assert data == {"rows": 90, "clean": True, "contradictions": []}


def test_voice_measures_stores_and_shows(db):
    measured = run("voice", db=db)
    assert measured.returncode == 0, measured.stderr
    assert "measured from 8 imported real conversation(s)" in measured.stdout
    assert "never addresses the client by name (0 of 31 replies)" in measured.stdout
    shown = json.loads(run("voice", "--show", "--json", db=db).stdout)
    assert shown["profile"]["advisor_words"]["max"] == 288
    from_files = run("voice", "--from", str(REAL_SEEDS), db=db)
    assert "measured from 8 file(s)" in from_files.stdout


def test_prompt_prints_sections_examples_and_cacheable_share(db):
    text = run("prompt", "T2-001", db=db)
    assert text.returncode == 0, text.stderr
    for heading in ("===== system =====", "===== context =====", "===== request =====", "===== summary ====="):
        assert heading in text.stdout
    data = json.loads(run("prompt", "T2-001", "--json", db=db).stdout)
    assert {"system", "context", "request", "examples", "estimated_tokens", "cacheable_share"} <= set(data)
    assert len(data["examples"]) == 2 and 0.5 < data["cacheable_share"] < 1
    assert data["estimated_tokens"]["total"] == sum(data["estimated_tokens"][s] for s in ("system", "context", "request"))


def test_plan_grows_to_a_size_and_fills_gaps(db):
    grown = run("plan", "--size", "100", "--seed", "3", db=db)
    assert grown.returncode == 0, grown.stderr
    assert grown.stdout.strip() == "plan: 10 conversation(s) added; 100 in the plan (tier 1: 44, tier 2: 39, tier 3: 17)"
    coverage = run("plan", "coverage", db=db)
    assert "Marcus Thompson" in coverage.stdout and "edge case" in coverage.stdout
    filled = json.loads(run("plan", "fill", "--target", "1", "--json", db=db).stdout)
    assert set(filled) == {"added", "rebuilt", "tiers"} and filled["rebuilt"] == []
    assert run("plan", "check", db=db).returncode == 0
    repaired = run("plan", "repair", db=db)
    assert repaired.returncode == 0 and repaired.stdout.startswith("plan: 0 conversation(s) added; ")
    listed = json.loads(run("list", "--where", "variation.target_turns=8", "--json", db=db).stdout)
    assert listed and all(r["source"] == "plan" for r in listed)


@pytest.mark.parametrize("args, message", [
    (("plan", "--tiers", "40:35"), "error: --tiers '40:35': expected three whole numbers such as 40:35:15"),
    (("list", "--where", "variation.mood=x"), "error: --where 'variation.mood=x': unknown key 'variation.mood'"),
    (("prompt", "NOPE-1"), "error: conversation 'NOPE-1' does not exist"),
])
def test_bad_input_is_one_line(db, args, message):
    result = run(*args, db=db)
    assert result.returncode in (1, 2) and result.stderr.startswith(message) and "Traceback" not in result.stderr
