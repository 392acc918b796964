"""The plan builder and linter: coherent rows, balanced, deterministic; planted contradictions caught."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from brightrun_gen.domain.catalog import build_plan, load_catalog
from brightrun_gen.domain.examples import choose_examples
from brightrun_gen.domain.lint import check_catalog, check_plan
from brightrun_gen.domain.models import PlannedRow
from brightrun_gen.domain.planning import PlanRequest, parse_tiers, seed_stories
from brightrun_gen.domain.seedfiles import parse_seed_file
from brightrun_gen.errors import InputError
from tests.support.paths import REPO
from tests.support.example_pool import pool

CATALOG_DIR = REPO / "seeds" / "catalog"
CATALOG = load_catalog(CATALOG_DIR)
SEED_RECORDS = [r for path in sorted((REPO / "seeds" / "conversations").glob("*.json")) for r in parse_seed_file(path)]
SEEDS = [r.dimensions for r in SEED_RECORDS]
PLAN = build_plan(CATALOG, seeds=SEEDS)


def test_the_shipped_catalog_and_plan_have_no_contradictions():
    assert check_catalog(CATALOG) == []
    assert check_plan(PLAN, CATALOG, [(r.key, r.dimensions) for r in SEED_RECORDS]) == []


def test_the_default_plan_is_90_rows_40_35_15_with_a_variation_each():
    assert Counter(r.dimensions.tier for r in PLAN) == {1: 40, 2: 35, 3: 15}
    assert [r.key for r in PLAN[:2]] == ["T1-001", "T1-002"] and PLAN[-1].key == "T3-015"
    assert all(r.variation is not None for r in PLAN)


def test_no_planned_row_re_runs_a_seed_conversation():
    taken = seed_stories(SEEDS)
    for row in PLAN:
        d = row.dimensions
        assert ("scenario", d.scenario) not in taken and ("edge_case", d.edge_case) not in taken
        if d.tier == 1:
            assert ("arc", d.persona, d.topic, d.arc) not in taken


def test_the_plan_is_deterministic_for_a_seed_and_differs_for_another():
    assert build_plan(CATALOG, seeds=SEEDS) == PLAN
    other = build_plan(CATALOG, PlanRequest(seed=7), seeds=SEEDS)
    assert other != PLAN and check_plan(other, CATALOG) == []


def test_tone_intent_and_outcome_fit_the_storyline_and_vary_within_it():
    emotions = {e.key: e for e in CATALOG.emotions}
    for row in PLAN:
        d = row.dimensions
        if d.tone == "celebratory":
            assert emotions[d.emotion_start].valence == "positive", row.key
    tier1 = [r.dimensions for r in PLAN if r.dimensions.tier == 1]
    combos = {(d.arc, d.tone, d.outcome_type) for d in tier1}
    assert len(combos) >= 20, "tone and outcome are chosen per row, not locked to the arc"
    for arc in CATALOG.arcs:
        rows = [d for d in tier1 if d.arc == arc.key]
        assert len({d.tone for d in rows}) >= 2 and len({d.outcome_type for d in rows}) >= 2, arc.key
    crisis = next(r for r in PLAN if r.dimensions.emotion_start in ("panic", "despair", "grief"))
    assert crisis.dimensions.tone in ("calm_grounding", "warm_supportive")


def test_every_persona_and_each_variation_axis_is_spread():
    personas = Counter(r.dimensions.persona for r in PLAN)
    assert set(personas) == {p.key for p in CATALOG.personas} and max(personas.values()) - min(personas.values()) <= 2
    turns = Counter(r.variation.target_turns for r in PLAN)
    assert set(turns) == {8, 10, 12, 14, 16} and max(turns.values()) <= 25
    for axis in ("opening", "channel", "verbosity", "sub_issues", "pushback"):
        values = Counter(getattr(r.variation, axis) for r in PLAN)
        assert len(values) >= 2 and max(values.values()) <= 60, axis


def test_plans_of_any_size_are_clean_and_split_by_the_tiers():
    rows = build_plan(CATALOG, PlanRequest(size=1000, tiers=parse_tiers("50:30:20")), seeds=SEEDS)
    assert Counter(r.dimensions.tier for r in rows) == {1: 500, 2: 300, 3: 200}
    assert len({r.key for r in rows}) == 1000 and check_plan(rows, CATALOG) == []


def test_extending_keeps_every_existing_row_and_numbers_on():
    more = build_plan(CATALOG, PlanRequest(size=120), existing=PLAN, seeds=SEEDS)
    assert len(more) == 30 and not {r.key for r in more} & {r.key for r in PLAN}
    assert Counter(r.dimensions.tier for r in [*PLAN, *more]) == {1: 53, 2: 47, 3: 20}
    assert "T1-041" in {r.key for r in more} and "T3-016" in {r.key for r in more}
    assert build_plan(CATALOG, PlanRequest(size=90), existing=PLAN) == []


@pytest.mark.parametrize("text, message", [("40:35", "three whole numbers"), ("a:b:c", "three whole numbers")])
def test_bad_tier_shares_are_one_clear_line(text, message):
    with pytest.raises(InputError, match=message):
        parse_tiers(text)


# --- planted contradictions ----------------------------------------------------------------------


@pytest.fixture
def planted(tmp_path) -> Path:
    """A copy of the shipped catalog to plant contradictions in."""
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, target)
    return target


def edit(directory: Path, name: str, change) -> None:
    path = directory / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def entry(data, key):
    return next(e for e in data if e["key"] == key)


def lint_lines(directory: Path, rows=PLAN) -> list[str]:
    return [c.line() for c in check_plan(rows, load_catalog(directory), [(r.key, r.dimensions) for r in SEED_RECORDS])]


def row_with(**wanted) -> PlannedRow:
    return next(r for r in PLAN if all(getattr(r.dimensions, k) == v for k, v in wanted.items()))


def test_a_persona_fact_that_breaks_a_scenario_requirement_is_caught(planted):
    row = row_with(scenario="sc_12")
    edit(planted, "personas", lambda data: entry(data, row.dimensions.persona)["facts"].update(housing="renter"))
    lines = lint_lines(planted)
    assert (f"{row.key}: mid_career_professional: housing = renter (personas.yaml: mid_career_professional) "
            f"contradicts sc_12 requires housing: mortgage (scenarios.yaml: sc_12)") in lines
    assert all("housing = renter" in line for line in lines)


def test_a_figure_a_scenario_states_against_the_profiles_is_caught(planted):
    row = row_with(scenario="sc_16")
    edit(planted, "personas", lambda data: entry(data, row.dimensions.persona)["facts"]["amounts"].update(
        retirement_savings=250000))
    assert (f"{row.key}: jennifer_park: retirement_savings = $250,000 (personas.yaml: jennifer_park) contradicts "
            f"sc_16 states retirement_savings = $185,000 (scenarios.yaml: sc_16)") in lint_lines(planted)


def test_a_tone_the_start_emotion_rules_out_is_caught(planted):
    row = row_with(tier=1, arc="triumph", tone="celebratory")
    edit(planted, "emotions", lambda data: entry(data, "excitement").update(unsuited_tones=["celebratory"]))
    assert (f"{row.key}: tone = celebratory (the plan) contradicts excitement rules out celebratory "
            "(emotions.yaml: excitement)") in lint_lines(planted)


def test_an_outcome_outside_the_arc_is_caught(planted):
    row = row_with(tier=1, arc="emergency_to_calm", outcome_type="emotional_relief")
    edit(planted, "arcs", lambda data: entry(data, "emergency_to_calm")["fit"].update(
        outcomes=["action_plan", "decision_made", "referral"]))
    assert (f"{row.key}: outcome = emotional_relief (the plan) contradicts emergency_to_calm fits outcomes "
            "action_plan, decision_made, referral (arcs.yaml: emergency_to_calm)") in lint_lines(planted)


def test_an_edge_case_re_targeted_away_from_its_persona_is_caught(planted):
    row = row_with(edge_case="ec_07")
    edit(planted, "edge_cases", lambda data: entry(data, "ec_07")["requires"].update(personas=["david_chen"]))
    assert (f"{row.key}: anxious_first_time_investor: persona = anxious_first_time_investor (personas.yaml: "
            "anxious_first_time_investor) contradicts ec_07 is re-targeted to david_chen (edge_cases.yaml: ec_07)"
            ) in lint_lines(planted)


def test_a_topic_on_an_arc_it_does_not_fit_is_caught(planted):
    row = row_with(tier=1, topic="college_savings")
    edit(planted, "topics", lambda data: entry(data, "college_savings").update(arcs=["emergency_to_calm"]))
    assert any(line.startswith(f"{row.key}: arc = {row.dimensions.arc} (the plan) contradicts college_savings fits "
                               "arcs emergency_to_calm (topics.yaml: college_savings)") for line in lint_lines(planted))


def test_a_row_that_re_runs_a_seed_and_a_bad_turn_count_are_caught():
    seed = next(r for r in SEED_RECORDS if r.dimensions.scenario == "sc_15")
    rerun = PlannedRow(key="T2-900", dimensions=seed.dimensions,
                       variation=PLAN[0].variation.model_copy(update={"target_turns": 9}))
    lines = lint_lines(CATALOG_DIR, [rerun])
    assert f"T2-900: row about sc_15 (the plan) contradicts seed {seed.key} is about sc_15 (seed conversation {seed.key})" in lines
    assert any(line.startswith("T2-900: target_turns = 9 (the plan) contradicts conversations have an even 8-16 turns")
               for line in lines)


def test_a_catalog_item_no_persona_fits_is_reported_and_refuses_the_plan(planted):
    edit(planted, "scenarios", lambda data: entry(data, "sc_21")["requires"].update(age={"min": 90}))
    catalog = load_catalog(planted)
    assert [c.line() for c in check_catalog(catalog)] == [
        "catalog: sc_21 requires what no persona is (scenarios.yaml: sc_21) contradicts the 8 personas' facts "
        "(personas.yaml)"]
    with pytest.raises(InputError, match="the plan has contradictions: catalog: sc_21 requires what no persona is"):
        build_plan(catalog)


def test_a_requirement_naming_an_unknown_persona_is_a_catalog_error(planted):
    edit(planted, "scenarios", lambda data: entry(data, "sc_03")["requires"].update(personas=["nobody"]))
    with pytest.raises(InputError, match="scenarios.yaml: entry sc_03: requires.personas 'nobody' is not defined"):
        load_catalog(planted)


# --- examples over the default plan ----------------------------------------------------------------


def test_examples_rotate_so_no_set_is_in_more_than_a_quarter_of_the_prompts():
    everyone = pool()
    sets = Counter(tuple(e.key for e in choose_examples(r.key, r.dimensions, everyone, CATALOG)) for r in PLAN)
    assert max(sets.values()) <= len(PLAN) // 4
    used = Counter(key for chosen in sets.elements() for key in chosen)
    assert len(used) >= 15, "most of the pool is used somewhere"
    assert all(any(key.startswith("fp_") for key in chosen) for chosen in sets), "each prompt shows a real one"


def test_examples_are_closest_first_and_fit_the_budget():
    everyone = pool()
    edge_row = row_with(edge_case="ec_14")
    chosen = choose_examples(edge_row.key, edge_row.dimensions, everyone, CATALOG)
    assert any(e.dimensions.edge_case for e in chosen), "an edge case row is shown an edge case"
    arc_row = row_with(tier=2, arc="emergency_to_calm")
    assert any(e.dimensions.arc == "emergency_to_calm" for e in
               choose_examples(arc_row.key, arc_row.dimensions, everyone, CATALOG))
    small = choose_examples(arc_row.key, arc_row.dimensions, everyone, CATALOG, budget_tokens=1500)
    assert len(small) == 1 and small[0].tokens <= 1500 and "(first " in small[0].title
    assert choose_examples(arc_row.key, arc_row.dimensions, everyone, CATALOG, budget_tokens=100) == []
