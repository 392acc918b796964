"""Table-driven tests of the structural quality rules in `brightrun_gen.domain.quality`."""

from __future__ import annotations

import json

import pytest

from brightrun_gen.domain.models import Turn
from brightrun_gen.domain.quality import (
    _CHECKS,
    RULES,
    SPEC_WORD_LIMITS,
    CriterionResult,
    QualityReport,
    WordLimits,
    rules_with,
    score_conversation,
)

TOPIC = ["Retirement planning"]

OPENING = "Hi Elena, Marcus here. I'm worried about my retirement savings."
QUESTION = "What worries you most when you think about retirement?"
CLOSING = "Your next step this week is to open the account, and I'm proud of you."


def turn(role: str, words: int, lead: str = "", tag: str = "") -> Turn:
    """A turn of exactly `words` words: `lead` as written, then filler unique to `tag`."""
    count = words - len(lead.split())
    assert count >= 0, "lead is longer than the turn"
    filler = " ".join(f"{tag or role}w{k}" for k in range(count))
    return Turn(role=role, content=f"{lead} {filler}".strip())


def conversation(
    n: int = 10, *, user_words: int = 40, assistant_words: int = 80, first: str = "user"
) -> list[Turn]:
    """`n` alternating turns that pass every rule when n is 8–16, even and first is the user."""
    other = {"user": "assistant", "assistant": "user"}
    roles = [first if i % 2 == 0 else other[first] for i in range(n)]
    turns = []
    for i, role in enumerate(roles):
        words = user_words if role == "user" else assistant_words
        turns.append(turn(role, words, _lead(i, n, role), tag=f"t{i + 1}"))
    return turns


def _lead(index: int, n: int, role: str) -> str:
    if index == 0 and role == "user":
        return OPENING
    if index == 1 and role == "assistant":
        return QUESTION
    if index == n - 1 and role == "assistant":
        return CLOSING
    return ""


def replace(turns: list[Turn], number: int, new: Turn) -> list[Turn]:
    """`turns` with turn `number` (1-based) replaced by `new`."""
    return turns[: number - 1] + [new] + turns[number:]


def criterion(turns, name, topic=TOPIC) -> CriterionResult:
    report = score_conversation(turns, topic_terms=topic)
    return next(c for c in report.criteria if c.name == name)


# --- the table itself ------------------------------------------------------------------------


def test_every_rule_has_one_check_and_a_positive_weight():
    assert [r.name for r in RULES] == list(_CHECKS)
    assert all(r.weight > 0 for r in RULES)


def test_criteria_follow_the_rules_table():
    report = score_conversation(conversation(), topic_terms=TOPIC)
    assert [(c.name, c.label, c.weight) for c in report.criteria] == [
        (r.name, r.title, r.weight) for r in RULES
    ]
    assert report.criteria[0].label == "8–16 turns"


# --- overall score ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "turns, topic, expected",
    [
        (conversation(), TOPIC, 10.0),
        (conversation(16), TOPIC, 10.0),
        (conversation(), [], 10.0),
        ([], TOPIC, 1.0),
        ([], [], 1.0),
    ],
    ids=["perfect", "perfect-16", "perfect-no-topic", "empty", "empty-no-checks"],
)
def test_overall_score(turns, topic, expected):
    report = score_conversation(turns, topic_terms=topic)
    assert report.score == expected


def test_perfect_conversation_fails_nothing():
    report = score_conversation(conversation(), topic_terms=TOPIC)
    assert report.failed() == []


def test_empty_conversation_fails_everything_without_crashing():
    report = score_conversation([], topic_terms=TOPIC)
    assert len(report.failed()) == len(RULES)
    assert all(c.detail == "no turns to check" for c in report.criteria)


def test_flawed_conversation_scores_between_the_ends():
    turns = replace(conversation(), 3, turn("user", 5, tag="short"))
    report = score_conversation(turns, topic_terms=["Emergency fund"])
    assert 1.0 < report.score < 10.0
    assert {c.name for c in report.failed()} == {"user_length", "topic_present"}


def test_naming_the_client_is_neither_required_nor_rewarded():
    """A deployed assistant cannot know the user's name: no rule looks for it."""
    named = replace(conversation(), 2, turn("assistant", 80, "Marcus, what worries you most?", tag="n"))
    assert "persona_present" not in {r.name for r in RULES}
    assert score_conversation(named, topic_terms=TOPIC).score == score_conversation(conversation(), topic_terms=TOPIC).score


def test_word_limits_follow_the_setting_through_the_rule_table():
    firm = rules_with(WordLimits(client=(40, 150), advisor=(120, 290)))
    assert [r.name for r in firm] == [r.name for r in RULES]
    assert next(r for r in firm if r.name == "assistant_length").title == "Advisor turns 120–290 words"
    turns = conversation(user_words=40, assistant_words=100)
    assert score_conversation(turns, topic_terms=TOPIC).failed() == []
    failed = score_conversation(turns, topic_terms=TOPIC, rules=firm).failed()
    assert [c.name for c in failed] == ["assistant_length"]
    assert rules_with(SPEC_WORD_LIMITS) == RULES


# --- turn_count ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, passed, score, detail",
    [
        (4, False, 0.5, "4 turns, below 8"),
        (7, False, 0.875, "7 turns, below 8"),
        (8, True, 1.0, "8 turns"),
        (16, True, 1.0, "16 turns"),
        (17, False, 0.875, "17 turns, above 16"),
        (24, False, 0.0, "24 turns, above 16"),
    ],
)
def test_turn_count(n, passed, score, detail):
    result = criterion(conversation(n), "turn_count")
    assert (result.passed, result.score, result.detail) == (passed, pytest.approx(score), detail)


# --- user_length / assistant_length ----------------------------------------------------------


@pytest.mark.parametrize(
    "role, number, words, passed, detail",
    [
        ("user", 3, 19, False, "turn 3 (user): 19 words, below 20"),
        ("user", 3, 20, True, "all 5 user turns have 20–150 words"),
        ("user", 3, 150, True, "all 5 user turns have 20–150 words"),
        ("user", 3, 151, False, "turn 3 (user): 151 words, above 150"),
        ("assistant", 4, 49, False, "turn 4 (assistant): 49 words, below 50"),
        ("assistant", 4, 50, True, "all 5 assistant turns have 50–250 words"),
        ("assistant", 4, 250, True, "all 5 assistant turns have 50–250 words"),
        ("assistant", 4, 251, False, "turn 4 (assistant): 251 words, above 250"),
    ],
)
def test_turn_length_boundaries(role, number, words, passed, detail):
    turns = replace(conversation(10), number, turn(role, words, tag="probe"))
    result = criterion(turns, f"{role}_length")
    assert result.passed is passed
    assert result.score == (1.0 if passed else pytest.approx(0.8))
    out_of_range = f" (1 of 5 {role} turns out of range)"
    assert result.detail == (detail if passed else detail + out_of_range)


@pytest.mark.parametrize(
    "name, user_words, assistant_words, score, first_bad",
    [
        ("user_length", 10, 80, 0.0, "turn 1 (user): 10 words"),
        ("assistant_length", 40, 300, 0.0, "turn 2 (assistant): 300 words"),
    ],
)
def test_length_names_the_first_offending_turn(name, user_words, assistant_words, score, first_bad):
    turns = conversation(10, user_words=user_words, assistant_words=assistant_words)
    result = criterion(turns, name)
    assert result.score == score
    assert result.detail.startswith(first_bad)


# --- alternation -----------------------------------------------------------------------------


def _swap_role(turns: list[Turn], number: int) -> list[Turn]:
    old = turns[number - 1]
    new_role = "user" if old.role == "assistant" else "assistant"
    return replace(turns, number, Turn(role=new_role, content=old.content))


@pytest.mark.parametrize(
    "turns, passed, detail_start",
    [
        (conversation(10), True, "roles alternate"),
        (conversation(10, first="assistant"), False, "turn 1 (assistant)"),
        (
            _swap_role(conversation(10), 5),
            False,
            "turn 5 (assistant): follows another assistant turn",
        ),
        (conversation(9), False, "turn 9 (user): the conversation should end with the assistant"),
    ],
    ids=["alternating", "assistant-first", "repeat-at-5", "ends-with-user"],
)
def test_alternation(turns, passed, detail_start):
    result = criterion(turns, "alternation")
    assert result.passed is passed
    assert result.detail.startswith(detail_start)


def test_alternation_gives_partial_credit():
    result = criterion(conversation(10, first="assistant"), "alternation")
    assert 0.0 < result.score < 1.0


# --- progression -----------------------------------------------------------------------------


def _plain_turn(turns: list[Turn], number: int) -> list[Turn]:
    """`turns` with turn `number` replaced by filler of the same length and role."""
    old = turns[number - 1]
    return replace(turns, number, turn(old.role, len(old.content.split()), tag=f"plain{number}"))


@pytest.mark.parametrize(
    "turns, score, detail_part",
    [
        (conversation(10), 1.0, "opens with a problem"),
        (_plain_turn(conversation(10), 1), 2 / 3, "turn 1 (user): states no problem"),
        (_plain_turn(conversation(10), 2), 2 / 3, "turns 1–7: the assistant asks no question"),
        (
            _plain_turn(conversation(10), 10),
            2 / 3,
            "turn 10 (assistant): closes without next steps",
        ),
        (
            _plain_turn(_plain_turn(_plain_turn(conversation(10), 1), 2), 10),
            0.0,
            "turn 1 (user)",
        ),
    ],
    ids=["complete", "no-problem", "no-exploration", "no-resolution", "none"],
)
def test_progression(turns, score, detail_part):
    result = criterion(turns, "progression")
    assert result.score == pytest.approx(score, abs=1e-3)
    assert result.passed is (score == 1.0)
    assert detail_part in result.detail


@pytest.mark.parametrize(
    "opening",
    ["I feel so stressed about money lately", "Can you look at my budget with me?",
     "Honestly I don't know where to begin", "I'm stuck and overwhelmed by it all"],
)
def test_progression_accepts_problem_or_feeling_openings(opening):
    turns = replace(conversation(10), 1, turn("user", 30, opening, tag="open"))
    assert "turn 1" not in criterion(turns, "progression").detail


def test_question_after_the_first_two_thirds_is_not_exploration():
    turns = _plain_turn(conversation(10), 2)
    turns = replace(turns, 8, turn("assistant", 80, "Does that sound right?", tag="late"))
    assert "asks no question" in criterion(turns, "progression").detail


# --- topic_present --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "topic, passed, detail",
    [
        (["Retirement planning"], True, '"retirement" appears in turn 1'),
        (["retirement savings"], True, '"retirement savings" appears in turn 1'),
        (["Emergency fund"], False, "no turn mentions 'emergency fund' or 'emergency'"),
        (["Talking about savings"], True, '"savings" appears in turn 1'),
        (["Talking about debt"], False, "no turn mentions 'talking about debt' or 'talking'"),
        ([], True, "no topic to check"),
    ],
    ids=[
        "significant-word", "whole-term", "absent", "skips-stopword", "stopword-not-enough", "none"
    ],
)
def test_topic_present(topic, passed, detail):
    result = criterion(conversation(10), "topic_present", topic=topic)
    assert (result.passed, result.detail) == (passed, detail)


# --- no_duplicates ---------------------------------------------------------------------------


def _copy(turns: list[Turn], source: int, target: int, transform=lambda s: s) -> list[Turn]:
    text = transform(turns[source - 1].content)
    return replace(turns, target, Turn(role=turns[target - 1].role, content=text))


@pytest.mark.parametrize(
    "turns, passed, detail",
    [
        (conversation(10), True, "no two turns are the same"),
        (_copy(conversation(10), 3, 5), False, "turn 5 (user) repeats turn 3"),
        (
            _copy(conversation(10), 3, 5, lambda s: "  " + s.upper().replace(" ", "\n  ")),
            False,
            "turn 5 (user) repeats turn 3",
        ),
        (
            _copy(conversation(10), 4, 6, lambda s: s + " but with a different ending"),
            False,
            "turn 6 (assistant) starts like turn 4 (same first 100 characters)",
        ),
    ],
    ids=["distinct", "exact", "case-and-whitespace", "near-duplicate"],
)
def test_no_duplicates(turns, passed, detail):
    result = criterion(turns, "no_duplicates")
    assert (result.passed, result.detail) == (passed, detail)
    assert result.score == (1.0 if passed else pytest.approx(0.9))


def test_short_turns_that_only_share_a_beginning_are_not_duplicates():
    turns = conversation(10)
    turns = replace(turns, 3, Turn(role="user", content="Thanks, that helps."))
    turns = replace(turns, 5, Turn(role="user", content="Thanks, that helps a lot."))
    assert criterion(turns, "no_duplicates").passed


# --- no_meta_text ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, phrase",
    [
        ("As an AI, I can only give general guidance", "As an AI"),
        ("As a language model I should note this", "As a language model"),
        ("Here is the conversation you asked for", "Here is the conversation"),
        ("Here\u2019s the conversation between them", "Here's the conversation"),
        ("Sorry, I cannot roleplay a client", "I cannot roleplay"),
        ("Fine.\nUser: what about my debt", "User:"),
        ("assistant: let me explain", "assistant:"),
        ("Sure ``` json block", "```"),
        ("Hello [insert client name] welcome", "[insert"),
        ("Hi {{name}} nice to meet you", "{{"),
        ("Your balance is ${amount} today", "${"),
    ],
)
def test_meta_text_detected_and_named(text, phrase):
    turns = replace(conversation(10), 4, turn("assistant", 80, text, tag="meta"))
    result = criterion(turns, "no_meta_text")
    assert not result.passed
    assert result.score == pytest.approx(0.9)
    assert result.detail == f'turn 4 (assistant): meta-text "{phrase}" (1 of 10 turns affected)'


@pytest.mark.parametrize(
    "text",
    [
        "As a user of budgeting apps I track things",
        "My advisor said: keep going",
        "It costs $50 a month",
        "An aide helped me, as an aid to planning",
    ],
)
def test_ordinary_text_is_not_meta(text):
    turns = replace(conversation(10), 3, turn("user", 30, text, tag="ok"))
    assert criterion(turns, "no_meta_text").passed


# --- report serialisation --------------------------------------------------------------------


@pytest.mark.parametrize(
    "turns",
    [conversation(10), conversation(7, first="assistant"), []],
    ids=["good", "bad", "empty"],
)
def test_as_dict_from_dict_round_trip(turns):
    report = score_conversation(turns, topic_terms=TOPIC)
    data = json.loads(json.dumps(report.as_dict()))
    assert set(data) == {"score", "criteria"}
    assert set(data["criteria"][0]) == {"name", "label", "passed", "score", "weight", "detail"}
    assert QualityReport.from_dict(data) == report
