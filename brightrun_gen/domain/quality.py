"""Structural quality rules for a conversation and the 1–10 score built from them.

Every rule with its weight and bounds is one row of `RULES`; each rule is one small function in
`_CHECKS`. Pure code (no I/O), so the generator, the importer, the review page and the CLI all
score a conversation the same way. The prompt renders its limits from the same rows
(`domain/prompts.py`), so a limit is changed in one place.

Whether the client is named is not a rule: a deployed assistant cannot know the user's name, so
rewarding it would teach the wrong habit; whether the persona comes through is the content
judge's call.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, replace
from typing import Callable, Sequence

from brightrun_gen.domain.models import Turn


@dataclass(frozen=True)
class Rule:
    """One criterion: stable id, label template, weight in the score and its bounds.

    `low`/`high` are the rule's range (turns, words) or limit (characters compared for
    near-duplicates); the label may use them as `{low}` and `{high}`.
    """

    name: str
    label: str
    weight: float
    low: int = 0
    high: int = 0

    @property
    def title(self) -> str:
        return self.label.format(low=self.low, high=self.high)


RULES: tuple[Rule, ...] = (
    Rule("turn_count", "{low}–{high} turns", 1.5, low=8, high=16),
    Rule("user_length", "User turns {low}–{high} words", 1.0, low=20, high=150),
    Rule("assistant_length", "Advisor turns {low}–{high} words", 1.0, low=50, high=250),
    Rule("alternation", "Alternating roles, user first", 1.5),
    Rule("progression", "Problem → exploration → resolution", 1.5),
    Rule("topic_present", "Topic present", 1.0),
    Rule("no_duplicates", "No duplicated turns", 1.0, high=100),
    Rule("no_meta_text", "No meta-text", 1.5),
)
RULES_BY_NAME = {rule.name: rule for rule in RULES}


@dataclass(frozen=True)
class WordLimits:
    """Words per client message and per advisor reply: the spec's, or the firm's own."""

    client: tuple[int, int]
    advisor: tuple[int, int]


SPEC_WORD_LIMITS = WordLimits(
    client=(RULES_BY_NAME["user_length"].low, RULES_BY_NAME["user_length"].high),
    advisor=(RULES_BY_NAME["assistant_length"].low, RULES_BY_NAME["assistant_length"].high),
)


def rules_with(limits: WordLimits) -> tuple[Rule, ...]:
    """`RULES` with the length rules set to `limits`; the scorer and the prompt both take these."""
    bounds = {"user_length": limits.client, "assistant_length": limits.advisor}
    return tuple(replace(r, low=bounds[r.name][0], high=bounds[r.name][1]) if r.name in bounds else r for r in RULES)


# Matched case-insensitively at the start of a word, so "stress" also finds "stressed".
PROBLEM_WORDS = (
    "worried", "worry", "worries", "stress", "confused", "confusing", "don't know",
    "not sure", "unsure", "help", "overwhelm", "afraid", "scared", "behind", "stuck",
    "anxious", "nervous", "panic", "struggl", "frustrat", "embarrass", "ashamed", "lost",
    "problem", "concern", "fear", "no idea", "can't afford",
)
CLOSING_WORDS = (
    "next step", "first step", "plan", "let's", "let us", "start", "this week",
    "this month", "tomorrow", "you've got", "proud", "going forward", "follow up",
    "follow-up", "check in", "schedule", "set up", "we'll", "action", "goal", "ready",
)
META_PATTERNS = (
    r"\bas an ai\b",
    r"\bas a language model\b",
    r"\bhere(?: is|'s) (?:the|a|your) conversation\b",
    r"\bi (?:cannot|can't|can not|won't) role-?play\b",
    r"^[ \t]*(?:user|assistant|human|ai|client|advisor)[ \t]*:",
    r"```",
    r"\[insert",
    r"\[(?:client|your|persona) name\]",
    r"\{\{",
    r"\$\{",
)
# Words of a topic term too common to show that the topic came up.
TOPIC_STOPWORDS = frozenset(
    {"about", "their", "there", "which", "where", "while", "other", "these", "those", "after",
     "before", "under", "between", "should", "could", "would", "being"}
)


@dataclass(frozen=True)
class CriterionResult:
    """How one conversation fared on one rule."""

    name: str
    label: str
    passed: bool
    score: float
    weight: float
    detail: str


@dataclass(frozen=True)
class QualityReport:
    """The 1–10 score of a conversation and the per-criterion breakdown behind it."""

    score: float
    criteria: tuple[CriterionResult, ...]

    def failed(self) -> list[CriterionResult]:
        return [c for c in self.criteria if not c.passed]

    def as_dict(self) -> dict:
        return {"score": self.score, "criteria": [asdict(c) for c in self.criteria]}

    @classmethod
    def from_dict(cls, d: dict) -> QualityReport:
        criteria = tuple(CriterionResult(**c) for c in d["criteria"])
        return cls(score=float(d["score"]), criteria=criteria)


@dataclass(frozen=True)
class _Conversation:
    turns: Sequence[Turn]
    topic_terms: Sequence[str]


Check = Callable[[Rule, _Conversation], tuple[float, str]]


def score_conversation(
    turns: Sequence[Turn], *, topic_terms: Sequence[str], rules: Sequence[Rule] = RULES
) -> QualityReport:
    """Score a conversation 1.0–10.0 against `rules` (`RULES` or `rules_with(limits)`), one result per rule."""
    if not turns:
        criteria = tuple(_result(rule, 0.0, "no turns to check") for rule in rules)
        return QualityReport(score=_overall(criteria), criteria=criteria)
    conv = _Conversation(tuple(turns), tuple(topic_terms))
    criteria = tuple(_result(rule, *_CHECKS[rule.name](rule, conv)) for rule in rules)
    return QualityReport(score=_overall(criteria), criteria=criteria)


def _result(rule: Rule, score: float, detail: str) -> CriterionResult:
    # Three decimals keep the breakdown readable on the review page and in stored JSON.
    score = round(min(1.0, max(0.0, score)), 3)
    return CriterionResult(rule.name, rule.title, score >= 1.0, score, rule.weight, detail)


def _overall(criteria: Sequence[CriterionResult]) -> float:
    """1 + 9 × the weighted mean of the rule scores: 10.0 is perfect, 1.0 is nothing right."""
    total = sum(c.weight for c in criteria)
    mean = sum(c.weight * c.score for c in criteria) / total if total else 0.0
    return round(1 + 9 * mean, 1)


# --- text helpers ----------------------------------------------------------------------------


def _words(turn: Turn) -> int:
    return len(turn.content.split())


def _where(number: int, turn: Turn) -> str:
    return f"turn {number} ({turn.role})"


def _plain(text: str) -> str:
    """Lower case, single spaces and straight apostrophes, so wording compares fairly."""
    return " ".join(text.replace("\u2019", "'").lower().split())


def _any_word_pattern(words: Sequence[str]) -> re.Pattern[str]:
    """A pattern finding any of `words` at a word start ("stress" also finds "stressed")."""
    alternatives = "|".join(re.escape(w.lower()) for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})")


_PROBLEM = _any_word_pattern(PROBLEM_WORDS)
_CLOSING = _any_word_pattern(CLOSING_WORDS)
_META = [re.compile(p, re.IGNORECASE | re.MULTILINE) for p in META_PATTERNS]


def _first_mention(turns: Sequence[Turn], terms: Sequence[str]):
    """The first (term, turn number) where any of `terms` appears, or None."""
    patterns = [(term, _any_word_pattern([term])) for term in terms]
    for number, turn in enumerate(turns, 1):
        text = _plain(turn.content)
        for term, pattern in patterns:
            if pattern.search(text):
                return term, number
    return None


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


# --- the rules -------------------------------------------------------------------------------


def _check_turn_count(rule: Rule, conv: _Conversation) -> tuple[float, str]:
    n = len(conv.turns)
    distance = max(rule.low - n, n - rule.high, 0)
    score = 1 - distance / rule.low
    if distance == 0:
        return score, f"{n} turns"
    side = f"below {rule.low}" if n < rule.low else f"above {rule.high}"
    return score, f"{n} turns, {side}"


def _check_user_length(rule: Rule, conv: _Conversation) -> tuple[float, str]:
    return _check_lengths(rule, conv, "user")


def _check_assistant_length(rule: Rule, conv: _Conversation) -> tuple[float, str]:
    return _check_lengths(rule, conv, "assistant")


def _check_lengths(rule: Rule, conv: _Conversation, role: str) -> tuple[float, str]:
    numbered = [(n, t) for n, t in enumerate(conv.turns, 1) if t.role == role]
    if not numbered:
        return 0.0, f"no {role} turns"
    bad = [(n, t) for n, t in numbered if not rule.low <= _words(t) <= rule.high]
    if not bad:
        return 1.0, f"all {len(numbered)} {role} turns have {rule.low}–{rule.high} words"
    number, turn = bad[0]
    words = _words(turn)
    side = f"below {rule.low}" if words < rule.low else f"above {rule.high}"
    share = f"{len(bad)} of {len(numbered)} {role} turns out of range"
    return 1 - len(bad) / len(numbered), f"{_where(number, turn)}: {words} words, {side} ({share})"


def _check_alternation(rule: Rule, conv: _Conversation) -> tuple[float, str]:
    turns = conv.turns
    repeats = [n for n in range(2, len(turns) + 1) if turns[n - 1].role == turns[n - 2].role]
    pairs = len(turns) - 1
    parts = (
        turns[0].role == "user",
        1 - len(repeats) / pairs if pairs else 1.0,
        turns[-1].role == "assistant",
    )
    return sum(parts) / len(parts), _alternation_detail(turns, repeats)


def _alternation_detail(turns: Sequence[Turn], repeats: list[int]) -> str:
    if turns[0].role != "user":
        return f"{_where(1, turns[0])}: the conversation must start with the user"
    if repeats:
        n = repeats[0]
        return f"{_where(n, turns[n - 1])}: follows another {turns[n - 1].role} turn"
    if turns[-1].role != "assistant":
        return f"{_where(len(turns), turns[-1])}: the conversation should end with the assistant"
    return "roles alternate, user first, assistant last"


def _check_progression(rule: Rule, conv: _Conversation) -> tuple[float, str]:
    parts = (_opening_gap, _exploration_gap, _closing_gap)
    gaps = [gap for gap in (part(conv.turns) for part in parts) if gap]
    if not gaps:
        return 1.0, "opens with a problem, explores with questions, closes with next steps"
    return 1 - len(gaps) / 3, "; ".join(gaps)


def _opening_gap(turns: Sequence[Turn]) -> str | None:
    """Why the first user turn does not state a problem or a feeling, or None if it does."""
    first = next(((n, t) for n, t in enumerate(turns, 1) if t.role == "user"), None)
    if first is None:
        return "no user turn states a problem"
    number, turn = first
    if "?" in turn.content or _PROBLEM.search(_plain(turn.content)):
        return None
    return f"{_where(number, turn)}: states no problem, question or feeling"


def _exploration_gap(turns: Sequence[Turn]) -> str | None:
    """Why the assistant does not explore (ask a question) in the first two thirds, or None."""
    cutoff = math.ceil(len(turns) * 2 / 3)
    if any(t.role == "assistant" and "?" in t.content for t in turns[:cutoff]):
        return None
    return f"turns 1–{cutoff}: the assistant asks no question"


def _closing_gap(turns: Sequence[Turn]) -> str | None:
    """Why the last assistant turn does not close with next steps, or None if it does."""
    numbered = [(n, t) for n, t in enumerate(turns, 1) if t.role == "assistant"]
    if not numbered:
        return "no assistant turn closes the conversation"
    number, turn = numbered[-1]
    if _CLOSING.search(_plain(turn.content)):
        return None
    return f"{_where(number, turn)}: closes without next steps or resolution"


def _check_topic(rule: Rule, conv: _Conversation) -> tuple[float, str]:
    terms = _unique([form for term in conv.topic_terms for form in _term_forms(term)])
    if not terms:
        return 1.0, "no topic to check"
    found = _first_mention(conv.turns, terms)
    if found:
        return 1.0, f'"{found[0]}" appears in turn {found[1]}'
    return 0.0, f"no turn mentions {' or '.join(repr(t) for t in terms)}"


def _term_forms(term: str) -> list[str]:
    """A topic term and its significant words: "Emergency fund" -> it and "emergency"."""
    plain = _plain(term)
    words = [w for w in re.findall(r"[a-z']+", plain) if len(w) >= 5]
    return [plain] + [w for w in words if w not in TOPIC_STOPWORDS] if plain else []


def _check_duplicates(rule: Rule, conv: _Conversation) -> tuple[float, str]:
    seen: dict[str, int] = {}
    repeats: list[tuple[int, int]] = []
    for number, turn in enumerate(conv.turns, 1):
        key = _plain(turn.content)[: rule.high]
        if key in seen:
            repeats.append((number, seen[key]))
        seen.setdefault(key, number)
    if not repeats:
        return 1.0, "no two turns are the same"
    return 1 - len(repeats) / len(conv.turns), _duplicate_detail(conv.turns, repeats[0], rule.high)


def _duplicate_detail(turns: Sequence[Turn], repeat: tuple[int, int], chars: int) -> str:
    number, earlier = repeat
    turn = turns[number - 1]
    if _plain(turn.content) == _plain(turns[earlier - 1].content):
        return f"{_where(number, turn)} repeats turn {earlier}"
    return f"{_where(number, turn)} starts like turn {earlier} (same first {chars} characters)"


def _check_meta_text(rule: Rule, conv: _Conversation) -> tuple[float, str]:
    hits = [(n, t, p) for n, t in enumerate(conv.turns, 1) if (p := _meta_phrase(t.content))]
    if not hits:
        return 1.0, "no meta-text found"
    number, turn, phrase = hits[0]
    share = f"{len(hits)} of {len(conv.turns)} turns affected"
    detail = f'{_where(number, turn)}: meta-text "{phrase}" ({share})'
    return 1 - len(hits) / len(conv.turns), detail


def _meta_phrase(text: str) -> str | None:
    """The first meta-text phrase in `text`, as written there, or None."""
    text = text.replace("\u2019", "'")
    for pattern in _META:
        match = pattern.search(text)
        if match:
            return match.group(0).strip()
    return None


_CHECKS: dict[str, Check] = {
    "turn_count": _check_turn_count,
    "user_length": _check_user_length,
    "assistant_length": _check_assistant_length,
    "alternation": _check_alternation,
    "progression": _check_progression,
    "topic_present": _check_topic,
    "no_duplicates": _check_duplicates,
    "no_meta_text": _check_meta_text,
}
