"""The judge's pure parts: the rubric file, deterministic checks, verdicts and the gate, the offline
judge, repair requests, diffs and scorecards. No database, no network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from brightrun_gen.domain.catalog import build_plan, load_catalog
from brightrun_gen.domain.content_checks import arithmetic_findings, must_have_findings, rule_findings
from brightrun_gen.domain.models import Turn
from brightrun_gen.services.templates import read_templates
from brightrun_gen.domain.prompt_values import SharedInputs, prompt_values
from brightrun_gen.domain.prompts import RenderedPrompt, render
from brightrun_gen.domain.repairs import diff_versions, repair_prompt, word_diff
from brightrun_gen.domain.rubric import TURN_SCALES, judge_prompt, parse_rubric
from brightrun_gen.domain.scorecards import scorecards
from brightrun_gen.domain.seedfiles import parse_seed_text
from brightrun_gen.domain.verdicts import TurnVerdict, Verdict, gate, judgement, parse_verdict, quote_turn
from brightrun_gen.errors import InvalidAnswer, TemplateError
from brightrun_gen.llm.offline import OfflineProvider
from brightrun_gen.llm.offline_judge import OfflineJudge

REPO = Path(__file__).resolve().parents[1]
RUBRIC = parse_rubric((REPO / "prompts" / "rubric.yaml").read_text(encoding="utf-8"))
CATALOG = load_catalog(REPO / "seeds" / "catalog")
EDGE = {e.key: e for e in CATALOG.edge_cases}
HARMFUL = "Don't be dramatic. Take a 401(k) loan and put the rest in crypto, which is guaranteed to double."


def conversation(*advisor: str, client: str = "I'm scared about money and I don't know where to start.") -> list[Turn]:
    turns = []
    for text in advisor:
        turns += [Turn(role="user", content=client), Turn(role="assistant", content=text)]
    return turns


def offline_judgement(turns, row: dict | None = None, edge=None):
    findings = (must_have_findings(edge, turns, RUBRIC.must_have_caps) + rule_findings(RUBRIC.rules, turns)
                + arithmetic_findings(turns, RUBRIC.arithmetic_caps))
    prompt = judge_prompt(RUBRIC, turns, row or {"persona_name": "Marisol Reyes"}, [f.as_dict() for f in findings])
    answer = OfflineJudge().generate(prompt)
    verdict = parse_verdict(answer.text, answer.stop_reason, RUBRIC)
    return judgement(RUBRIC, verdict, turns, findings, provider="offline", model=answer.model, min_score=3)


def scores(judged) -> dict[str, int]:
    return {c["name"]: c["score"] for c in judged.criteria}


# --- the rubric file ----------------------------------------------------------------------------


def test_the_rubric_names_every_criterion_the_issue_asks_for_and_is_versioned_by_hash():
    assert set(RUBRIC.names) >= {"persona_consistency", "arc_adherence", "emotional_authenticity", "domain_accuracy",
                                 "safety_scope", "brand_voice", "outcome_reached", "naturalness"}
    assert len(RUBRIC.content_hash) == 64
    changed = parse_rubric((REPO / "prompts" / "rubric.yaml").read_text() + "\n# a comment\n")
    assert changed.content_hash != RUBRIC.content_hash
    assert set(TurnVerdict.model_fields) - {"turn"} == set(TURN_SCALES) == set(RUBRIC.turn_scales)


@pytest.mark.parametrize("text, problem", [
    ("name: x\n", "instructions: Field required"),
    ("- a list\n", "expected a mapping"),
    ("name: [unclosed\n", "not valid YAML"),
])
def test_a_bad_rubric_is_one_line_naming_the_file_and_the_field(text, problem):
    with pytest.raises(TemplateError, match=problem) as caught:
        parse_rubric(text, "prompts/rubric.yaml")
    assert str(caught.value).startswith("judge rubric prompts/rubric.yaml:") and "\n" not in str(caught.value)


def test_a_cap_on_an_unknown_criterion_is_refused():
    text = (REPO / "prompts" / "rubric.yaml").read_text().replace("arithmetic_caps: {domain_accuracy: 2}",
                                                                  "arithmetic_caps: {domain_acuracy: 2}")
    with pytest.raises(TemplateError, match="domain_acuracy"):
        parse_rubric(text)


# --- deterministic must-haves and rules --------------------------------------------------------------


def test_must_haves_catch_a_despair_conversation_without_the_crisis_line():
    two_buckets = conversation("Here is a simple way to think about your debt: picture two buckets, one for safety "
                               "and one for growth. Which part feels most unclear right now?")
    missing = [f for f in must_have_findings(EDGE["ec_08"], two_buckets, RUBRIC.must_have_caps) if not f.passed]
    assert [f.label for f in missing][:1] == ["the 988 Suicide and Crisis Lifeline"]
    assert missing[0].caps == RUBRIC.must_have_caps and "988" in missing[0].suggestion


@pytest.mark.parametrize("edge, seed", [("ec_08", "seed_10_marisol_debt_despair.json"),
                                        ("ec_04", "seed_09_linda_guaranteed_14_percent.json")])
def test_our_hand_written_seeds_meet_their_edge_cases_must_haves(edge, seed):
    [record] = parse_seed_text((REPO / "seeds" / "conversations" / seed).read_text(), seed)
    findings = must_have_findings(EDGE[edge], record.turns, RUBRIC.must_have_caps)
    assert findings and all(f.passed for f in findings), [f.label for f in findings if not f.passed]
    assert not rule_findings(RUBRIC.rules, record.turns), "no rule fires on the business's own seeds"
    assert not arithmetic_findings(record.turns, RUBRIC.arithmetic_caps)


def test_hiding_assets_needs_an_attorney_and_refusal_and_forbids_helping():
    helpful = conversation("Sure, move the $70,000 into your sibling's name this week so it won't be counted.")
    failed = {f.label for f in must_have_findings(EDGE["ec_11"], helpful, RUBRIC.must_have_caps) if not f.passed}
    assert {"a clear refusal to help hide assets", "a family law attorney before moving anything",
            "help moving money out of the spouse's sight"} <= failed
    right = conversation("I can't help you hide assets; courts penalize it and it usually backfires. Please talk "
                         "to a family law attorney before you move anything.")
    assert all(f.passed for f in must_have_findings(EDGE["ec_11"], right, RUBRIC.must_have_caps))


def test_the_harmful_answer_breaks_three_rules_that_cap_safety_and_accuracy():
    fired = {f.check: f for f in rule_findings(RUBRIC.rules, conversation(HARMFUL))}
    assert set(fired) == {"guaranteed_returns", "dismissive", "risky_directive"}
    assert fired["guaranteed_returns"].caps == {"domain_accuracy": 1, "safety_scope": 1}
    assert fired["dismissive"].evidence == "Don't be dramatic."


@pytest.mark.parametrize("said", [
    "No one can promise guaranteed returns, and anyone who does is a warning sign.",
    "A guaranteed 14% a year with only three spots left is a classic red flag.",
    "I can't help you keep jobs off the books, but we can lower the tax bill legally.",
])
def test_a_negated_or_warned_about_phrase_is_not_a_rule_break(said):
    assert not rule_findings(RUBRIC.rules, conversation(said))


def test_rules_check_the_advisor_only():
    turns = [Turn(role="user", content="My friend says it's guaranteed to double."),
             Turn(role="assistant", content="Let's look at what that offer really says before anything moves.")]
    assert not rule_findings(RUBRIC.rules, turns)


@pytest.mark.parametrize("said, wrong", [
    ("Saving 15% of $80,000 is $10,000 a year.", "15% of $80,000 is $12,000, not $10,000"),
    ("That is $500 a month, or about $4,000 a year.", "$500 a month over a year is $6,000, not $4,000"),
    ("$1,200 times 12 is $12,400.", "$1,200 times 12 is $14,400, not $12,400"),
    ("$41,000 is about 30% of your $58,000.", "$41,000 as a share of $58,000 is 71%, not 30%"),
])
def test_arithmetic_is_redone(said, wrong):
    [finding] = arithmetic_findings(conversation(said), RUBRIC.arithmetic_caps)
    assert wrong in finding.suggestion and finding.caps == {"domain_accuracy": 2}


@pytest.mark.parametrize("said", ["15% of $80,000 comes to $12,000.", "$500 a month is $6,000 a year.",
                                  "$41,000 is about 70% of your $58,000 of debt.", "about $20k a year, or $1,700 a month"])
def test_right_arithmetic_passes(said):
    assert not arithmetic_findings(conversation(said), RUBRIC.arithmetic_caps)


# --- verdicts, caps and the gate ---------------------------------------------------------------------


def verdict(turns, **given) -> Verdict:
    quote = turns[1].content.split(".")[0] + "."
    return Verdict(criteria=[{"name": n, "score": given.get(n, 5), "evidence": quote, "suggestion": f"fix {n}"}
                             for n in RUBRIC.names],
                   turns=[{"turn": 2, "empathy": 5, "clarity": 5, "appropriateness": 5, "brand_voice": 5},
                          {"turn": 1, "empathy": 5, "clarity": 5, "appropriateness": 5, "brand_voice": 5}],
                   summary="fine")


def test_a_finding_caps_the_model_score_with_its_own_evidence_and_suggestion():
    turns = conversation(HARMFUL)
    judged = judgement(RUBRIC, verdict(turns), turns, rule_findings(RUBRIC.rules, turns), provider="anthropic",
                       model="claude-haiku-5-5", min_score=3)
    safety = next(c for c in judged.criteria if c["name"] == "safety_scope")
    assert safety["score"] == 1 and safety["capped_by"] == "Promises a guaranteed return"
    assert safety["evidence_turn"] == 2 and "guaranteed to double" in safety["evidence"]
    assert not judged.passed and [t["turn"] for t in judged.turns] == [2], "client turns are not scored"


def test_quotes_are_checked_against_the_conversation():
    turns = conversation("Thank you for telling me that, Marisol. Let's take it one step at a time.")
    assert quote_turn("thank you for telling me that, marisol.", turns) == 2
    assert quote_turn("\u201cThank you for telling me that\u2026 one step at a time.\u201d", turns) == 2
    assert quote_turn("The advisor is warm and kind throughout.", turns) is None
    assert quote_turn("Thank", turns) is None, "a word is not evidence"


def test_a_verdict_missing_a_criterion_or_not_json_is_invalid():
    with pytest.raises(InvalidAnswer, match="no score for"):
        parse_verdict(json.dumps({"criteria": [], "turns": [], "summary": ""}), "end_turn", RUBRIC)
    with pytest.raises(InvalidAnswer, match="verdict schema"):
        parse_verdict("Looks good to me!", "end_turn", RUBRIC)
    with pytest.raises(InvalidAnswer, match="cut off"):
        parse_verdict("{", "max_tokens", RUBRIC)


def test_the_gate_repairs_while_repairs_are_left_then_flags_with_the_reason():
    turns = conversation("Okay. Let's look at this together and pick one step for this week.")
    low = judgement(RUBRIC, verdict(turns, naturalness=2), turns, [], provider="anthropic", model="m", min_score=3)
    assert low.reasons == ["Naturalness 2/5"]
    assert gate(low, 0, 1).action == "repair"
    flagged = gate(low, 1, 1)
    assert flagged.action == "flag" and flagged.reason == "still failing after 1 repair(s): Naturalness 2/5"
    assert gate(low, 0, 1, can_repair=False).action == "flag"
    good = judgement(RUBRIC, verdict(turns), turns, [], provider="anthropic", model="m", min_score=3)
    assert good.passed and gate(good, 0, 1).action == "pass"


# --- the offline judge -------------------------------------------------------------------------------


def test_the_offline_judge_scores_every_offline_placeholder_low_on_naturalness():
    templates = {t.tier: t for t in read_templates(REPO / "prompts")}
    naturalness = []
    for row in build_plan(CATALOG):
        values = prompt_values(row.dimensions, SharedInputs(CATALOG), variation=row.variation, examples=[])
        prompt = render(templates[row.dimensions.tier], values)
        # The text of each turn; the offline answer's annotations (emotion, strategy...) are not judged.
        turns = [Turn(role=t["role"], content=t["content"])
                 for t in json.loads(OfflineProvider().generate(prompt).text)["turns"]]
        judged = offline_judgement(turns, prompt.parameters, EDGE.get(row.dimensions.edge_case))
        naturalness.append(scores(judged)["naturalness"])
        assert not judged.passed and judged.model == "offline-judge"
    assert len(naturalness) == 90 and max(naturalness) <= 2


def test_the_offline_judge_fails_the_harmful_conversation_on_safety_and_accuracy():
    judged = offline_judgement(conversation(HARMFUL, "Would it help if I walked you through it? Do it by Friday."))
    assert scores(judged)["safety_scope"] == 1 and scores(judged)["domain_accuracy"] == 1
    assert scores(judged)["emotional_authenticity"] == 1 and not judged.passed


def test_the_offline_judge_quotes_real_sentences():
    judged = offline_judgement(conversation("I hear you, Marisol, and that makes a lot of sense.",
                                            "Would it help if I walked you through the numbers? Let's set up one "
                                            "transfer this week."))
    assert all(c["evidence_turn"] for c in judged.criteria)
    assert scores(judged)["naturalness"] == 3 and scores(judged)["outcome_reached"] == 4


# --- repair requests and diffs -----------------------------------------------------------------------


def test_a_repair_keeps_the_prompt_and_adds_the_previous_version_and_what_to_fix_as_data():
    original = RenderedPrompt("t", "h", "SYSTEM", "CONTEXT", "Write one conversation.", {"topic": "debt"})
    previous = conversation("Picture two buckets.")
    repaired = repair_prompt(original, previous, [{"criterion": "Safety", "score": 1, "evidence": "Picture two buckets.",
                                                   "suggestion": "Give the 988 line."}], 'Turn 2: add "988" }{')
    assert (repaired.system, repaired.context) == ("SYSTEM", "CONTEXT")
    assert repaired.request.startswith("Write one conversation.\n\nRepair request")
    assert "Give the 988 line." in repaired.request and json.dumps('Turn 2: add "988" }{') in repaired.request
    assert repaired.parameters["topic"] == "debt" and "988" in repaired.parameters["repair"]


def test_a_diff_is_turn_by_turn_with_word_runs():
    before = conversation("Picture two buckets for your money.")
    after = conversation("Please call or text 988 now. Picture two buckets for your money.", "A new last turn.")
    changes = diff_versions(before, after)
    assert [c.changed for c in changes] == [False, True, True, True]
    assert changes[1].segments[0] == ("added", "Please call or text 988 now.")
    assert changes[3].before is None and changes[3].after == "A new last turn."
    assert word_diff("a b c", "a x c") == (("same", "a"), ("removed", "b"), ("added", "x"), ("same", "c"))


# --- scorecards --------------------------------------------------------------------------------------


def _version(cid, thash, passed, decision, rubric="r1", naturalness=3):
    return {"conversation_id": cid, "version": 1, "template_name": "tier1_arc", "template_hash": thash,
            "origin": None, "rubric_hash": rubric, "passed": passed, "decision": decision,
            "criteria": [{"name": "naturalness", "score": naturalness}]}


def test_scorecards_from_a_fixture_of_decisions():
    versions = [_version(1, "A", True, "approved", naturalness=5), _version(2, "A", True, "rejected"),
                _version(3, "A", False, "approved", naturalness=2), _version(4, "A", False, "needs_edit"),
                _version(5, "A", True, None, naturalness=4), _version(6, "B", None, "approved", rubric=None)]
    calls = [{"template_hash": "A", "kind": "generate", "calls": 6, "cost_usd": 0.5},
             {"template_hash": "A", "kind": "repair", "calls": 1, "cost_usd": 0.1},
             {"template_hash": "A", "kind": "judge", "calls": 5, "cost_usd": 0.05},
             {"template_hash": "B", "kind": "generate", "calls": 1, "cost_usd": 0.2}]
    a, b = scorecards(versions, calls)
    assert (a.generated, a.approved, a.needs_edit, a.rejected) == (5, 2, 1, 1)
    assert a.approval_rate == 0.5 and a.criteria == {"naturalness": 3.4}
    assert a.mean_attempts == 1.4 and a.mean_cost_usd == pytest.approx(0.13)
    assert (a.judged_and_decided, a.passed_but_rejected, a.failed_but_approved, a.agreement) == (4, 1, 1, 0.5)
    assert (b.rubric_hash, b.approval_rate, b.agreement, b.mean_cost_usd) == ("not judged", 1.0, None, 0.2)
