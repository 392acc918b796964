"""The plan, the voice and the prompt in a real store (SQLite and PostgreSQL), through the facade."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from brightrun_gen.brightrun import BrightRun
from brightrun_gen.config import Settings
from brightrun_gen.domain.models import VARIATION_FIELDS
from brightrun_gen.errors import InputError
from tests.support.paths import REAL_SEEDS, REPO
from tests.support.store_state import set_dimensions


def snapshot(app: BrightRun, key: str) -> tuple:
    detail = app.conversations.detail(key)
    return detail.row, [(t.role, t.content) for t in detail.turns], detail.metadata


def edited_copy(source: Path, target: Path, name: str, old: str, new: str) -> Path:
    """A copy of the folder `source` at `target`, with `old` replaced by `new` in its file `name`."""
    shutil.copytree(source, target)
    path = target / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{name} no longer says {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return target


def test_init_stores_the_default_plan_with_variation_and_it_checks_clean(app):
    check = app.plan.check()
    assert (check.rows, check.contradictions) == (90, [])
    rows = app.plan.rows()
    assert Counter(r.row.dimensions.tier for r in rows) == {1: 40, 2: 35, 3: 15}
    assert all(r.row.variation is not None for r in rows)
    assert set(app.conversations.as_json("T2-001")["metadata"]["variation"]) == set(VARIATION_FIELDS)


def test_extending_the_plan_leaves_generated_and_seed_rows_alone(app):
    result = app.jobs.generate_now("T1-001")
    assert result.status == "generated"
    before = {key: snapshot(app, key) for key in ("T1-001", "T1-002", "seed_05")}
    change = app.plan.build(120)
    assert len(change.added) == 30 and change.tiers == {1: 53, 2: 47, 3: 20}
    assert {key: snapshot(app, key) for key in before} == before
    assert app.plan.check().clean
    assert app.plan.build(120).added == [] and app.plan.build(100).added == []


def test_coverage_counts_by_status_and_fill_gaps_reaches_the_target(app):
    grid = app.plan.coverage("storyline")
    assert "scenario" in grid.columns and "edge case" in grid.columns
    assert sum(grid.cell(p, c).total for p, _ in grid.personas for c in grid.columns) == 100  # 90 planned + 10 seeds
    assert grid.cell("small_business_owner", "edge case").counts.get("seed") == 1
    gaps = grid.gaps(2)
    change = app.plan.fill_gaps(2)
    assert len(change.added) == sum(gaps.values()) > 0
    after = app.plan.coverage("storyline")
    assert after.gaps(2) == {} and app.plan.fill_gaps(2).added == []
    assert app.plan.check().clean
    by_category = app.plan.coverage("content_category")
    assert by_category.cell("anxious_first_time_investor", "Debt Management").feasible
    assert not by_category.cell("recent_retiree", "Debt Management").feasible  # Linda owes nothing


def test_rows_are_filtered_by_their_variation(app):
    rows = app.plan.rows()
    pushing = {r.row.key for r in rows if r.row.variation.pushback}
    longest = {r.row.key for r in rows if r.row.variation.target_turns == 16}
    assert {r.key for r in app.conversations.list(where={"variation.pushback": ["true"]})} == pushing
    assert {r.key for r in app.conversations.list(where={"variation.target_turns": ["16"], "tier": ["1", "2", "3"]})} == longest
    assert app.conversations.list(where={"variation.opening": ["no_such_opening"]}) == []


def test_the_prompt_shows_the_voice_and_examples_that_tell_another_story(app):
    app.conversations.import_files([REAL_SEEDS])
    report = app.catalog.measure_voice()
    assert report.stored and report.profile.conversations == 8
    assert app.catalog.measure_voice().stored is False  # the same measurement is kept once
    view = app.conversations.prompt("T1-001")
    assert "never addresses the client by name (0 of 31 replies)" in view.system
    assert len(view.examples) == 2 and {e["origin"] for e in view.examples} == {"real", "seed"}
    row = app.conversations.detail("T1-001").row.dimensions
    for example in view.examples:
        assert f'"example": "{example["key"]}"' in view.context
        shown = app.conversations.detail(example["key"]).row.dimensions
        assert (shown.persona, shown.topic) != (row.persona, row.topic)
    assert view.size.cacheable_share > 0.6 and view.as_dict()["cacheable_share"] == round(view.size.cacheable_share, 3)
    generated = app.jobs.generate_now("T1-001")
    [attempt] = [a for a in app.jobs.attempts("T1-001") if a.kind == "generate"]  # the judge logs its own
    assert attempt.parameters["examples"] == [e["key"] for e in view.examples] and generated.status == "generated"


def test_firm_word_limits_reach_the_prompt_and_the_score(db_url, tmp_path):
    settings = Settings(_env_file=None, anthropic_api_key=None, provider="offline", word_limits="firm",
                        database_url=f"sqlite:///{tmp_path / 'unused.db'}")
    with BrightRun(settings, database_url=db_url) as app:
        with pytest.raises(InputError, match="BRIGHTRUN_WORD_LIMITS=firm needs the firm's voice profile"):
            app.conversations.prompt("T1-003")
        app.catalog.measure_voice([REAL_SEEDS])
        assert "Each client message is 40 to 150 words. Each advisor reply is 120 to 290 words." in \
            app.conversations.prompt("T1-003").system
        app.jobs.generate_now("T1-003")
        labels = [c["label"] for c in app.conversations.detail("T1-003").quality["criteria"]]
        assert "Advisor turns 120–290 words" in labels and "User turns 40–150 words" in labels


def test_init_refuses_a_catalog_with_contradictions_and_writes_no_plan(empty_url, tmp_path):
    catalog_dir = tmp_path / "catalog"
    shutil.copytree(REPO / "seeds" / "catalog", catalog_dir)
    path = catalog_dir / "edge_cases.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[6]["requires"] = {"age": {"min": 95}}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    settings = Settings(_env_file=None, anthropic_api_key=None, provider="offline", catalog_dir=catalog_dir,
                        database_url=f"sqlite:///{tmp_path / 'unused.db'}")
    with BrightRun(settings, database_url=empty_url) as app:
        with pytest.raises(InputError, match="the plan has contradictions: catalog: ec_07 requires what no persona is"):
            app.initialize()
        assert app.conversations.status_counts() == {}


def test_init_brings_changed_catalog_entries_up_to_date(db_url, tmp_path):
    catalog_dir = edited_copy(REPO / "seeds" / "catalog", tmp_path / "catalog", "scenarios.yaml",
                              "Is my cash cushion enough?", "Is my cushion enough?")
    settings = Settings(_env_file=None, anthropic_api_key=None, provider="offline", catalog_dir=catalog_dir,
                        database_url=f"sqlite:///{tmp_path / 'unused.db'}")
    with BrightRun(settings, database_url=db_url) as app:
        report = app.initialize()
        assert report.catalog_added == 1 and report.planned_added == 0
        assert app.catalog.entry("scenarios", "sc_01")["title"] == "Is my cushion enough?"


def test_repair_rebuilds_only_contradictory_rows_nobody_has_written(app):
    assert app.jobs.generate_now("T1-001").status == "generated"
    for key in ("T1-001", "T2-001"):  # a plan made under older rules: rows whose persona does not fit
        row = app.conversations.detail(key).row
        set_dimensions(app.engine, key, persona="andre_williams" if row.dimensions.persona != "andre_williams"
                       else "recent_retiree")
    written = snapshot(app, "T1-001")
    assert {c.row for c in app.plan.check().contradictions} >= {"T1-001", "T2-001"}
    assert "`brightrun plan repair` rebuilds the unwritten ones" in "\n".join(app.initialize().lines())
    change = app.plan.repair()
    assert change.rebuilt == ["T2-001"] and change.added == []
    assert {c.row for c in app.plan.check().contradictions} == {"T1-001"}
    assert snapshot(app, "T1-001") == written
    assert app.conversations.detail("T2-001").metadata, "the rebuilt row has its variation"


def test_the_bright_run_export_carries_the_variation(app, tmp_path):
    app.jobs.generate_now("T2-001")
    request = app.exports.request(format="brightrun", output=tmp_path / "out.json", ids=["T2-001"],
                                  include_offline=True)
    [record] = app.exports.preview(request, 1)
    variation = app.conversations.as_json("T2-001")["metadata"]["variation"]
    assert record["metadata"]["variation"] == variation and set(variation) == set(VARIATION_FIELDS)


def test_init_brings_our_changed_seed_files_up_to_date_unless_reviewed(db_url, tmp_path):
    seeds_dir = edited_copy(REPO / "seeds" / "conversations", tmp_path / "seeds",
                            "seed_02_jennifer_beneficiary_panic.json", "I can hear how shaken", "I can hear how scared")
    settings = Settings(_env_file=None, anthropic_api_key=None, provider="offline", seed_dir=seeds_dir,
                        database_url=f"sqlite:///{tmp_path / 'unused.db'}")
    with BrightRun(settings, database_url=db_url) as app:
        report = app.initialize()
        assert "seed conversations: 0 imported, 1 file(s) brought up to date" in report.lines()
        detail = app.conversations.detail("seed_02")
        assert "I can hear how scared" in detail.turns[1].content and len(detail.versions) == 2
        assert detail.row.status == "seed"
        app.reviews.decide("seed_03", "approve", reviewer="tester")
        other = seeds_dir / "seed_03_david_student_loans_paid.json"
        other.write_text(other.read_text(encoding="utf-8").replace("Congratulations!", "Well done!"), encoding="utf-8")
        again = app.initialize()
        assert [r.outcome for r in again.seeds if r.path == other.name] == ["failed"]
        assert "Congratulations!" in app.conversations.detail("seed_03").turns[1].content
