"""Deterministic content checks, no model: an edge case's must-haves, the rubric's rules, arithmetic.

The offline judge and the model judge both get these findings and both have their scores capped
by them, so on the hard cases (a missing crisis line, a promised return, help hiding assets) the
two judges always agree. Only the advisor's turns are checked: a client may well say "guaranteed".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator, Sequence

from brightrun_gen.domain.models import EdgeCase, MustHave

ADVISOR = "assistant"
# A negation within this many words before a phrase turns it around ("no one can promise ...").
NEGATION_WINDOW_WORDS = 5
_NEGATIONS = ("no", "not", "never", "nobody", "no one", "can't", "cannot", "won't", "isn't", "aren't", "don't",
              "doesn't", "shouldn't", "wouldn't", "avoid", "without", "nothing", "anyone who", "anyone promising",
              "beware", "wary", "instead of", "rather than", "decline", "refuse")
# Words anywhere in the sentence that make it a warning about the phrase, not advice to do it.
_WARNINGS = ("red flag", "warning sign", "scam", "too good to be true", "fraud", "illegal", "evasion",
             "penalt", "backfire", "be careful", "be wary")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Finding:
    """One deterministic check on one conversation: passed or not, where, and what it caps."""

    check: str  # must_include | must_avoid | arithmetic | the rubric rule's name
    label: str
    passed: bool
    turn: int | None = None  # 1-based turn number of the evidence
    evidence: str | None = None  # the sentence, as written in the conversation
    caps: dict[str, int] = field(default_factory=dict)
    suggestion: str = ""

    def as_dict(self) -> dict:
        return {"check": self.check, "label": self.label, "passed": self.passed, "turn": self.turn,
                "evidence": self.evidence, "caps": dict(self.caps), "suggestion": self.suggestion}


def plain(text: str) -> str:
    """Lower case, straight quotes, single spaces: how phrases and quotes are compared."""
    return " ".join(text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
                    .replace("\u201d", '"').replace("\u2013", "-").replace("\u2014", "-").lower().split())


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _phrase_body(phrase: str) -> str:
    """A phrase as a pattern after a word start: whole words unless it ends with `*`."""
    body = re.escape(plain(phrase.rstrip("*")))
    return body if phrase.endswith("*") or not body[-1:].isalnum() else rf"{body}(?!\w)"


@lru_cache(maxsize=2048)
def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A phrase at a word start; whole words unless it ends with `*` ("attorney*" finds "attorneys")."""
    return re.compile(rf"(?<!\w){_phrase_body(phrase)}")


@lru_cache(maxsize=256)
def phrases_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """Any of `phrases`, read as `phrase_pattern` reads each, in one pattern."""
    return re.compile(rf"(?<!\w)(?:{'|'.join(_phrase_body(p) for p in phrases)})")


def _advisor_sentences(turns: Sequence) -> tuple[tuple[int, str, str], ...]:
    """(turn number, sentence as written, sentence plain) for every advisor sentence."""
    return _split_advisor(tuple((turn.role, turn.content) for turn in turns))


@lru_cache(maxsize=32)  # every check of one conversation reads the same sentences
def _split_advisor(turns: tuple[tuple[str, str], ...]) -> tuple[tuple[int, str, str], ...]:
    return tuple((number, sentence, plain(sentence)) for number, (role, content) in enumerate(turns, 1)
                 if role == ADVISOR for sentence in sentences(content))


def find_phrase(turns: Sequence, phrases: Sequence[str], *, negatable: bool = False) -> tuple[int, str] | None:
    """The first advisor sentence that says one of `phrases` (not negated, if `negatable`)."""
    pattern = phrases_pattern(tuple(phrases))
    split = _advisor_sentences(turns)
    if not pattern.search(" \n ".join(text for _, _, text in split)):
        return None  # the usual case: one search over the advisor's words instead of one per sentence
    for number, sentence, text in split:
        for match in pattern.finditer(text):
            if not (negatable and _negated(text, match.start())):
                return number, sentence
    return None


def _negated(sentence: str, at: int) -> bool:
    if any(w in sentence for w in _WARNINGS):
        return True
    before = " ".join(sentence[:at].split()[-NEGATION_WINDOW_WORDS:])
    return phrases_pattern(_NEGATIONS).search(before) is not None


# --- must-haves of an edge case ----------------------------------------------------------------


def must_have_findings(edge_case: EdgeCase | None, turns: Sequence, caps: dict[str, int]) -> list[Finding]:
    """One finding per required and per forbidden element of the row's edge case."""
    if edge_case is None:
        return []
    found = [_required(item, turns, caps) for item in edge_case.must_include]
    return found + [_forbidden(item, turns, caps) for item in edge_case.must_avoid]


def _required(item: MustHave, turns: Sequence, caps: dict[str, int]) -> Finding:
    hit = find_phrase(turns, item.any_of)
    if hit:
        return Finding("must_include", item.element, True, hit[0], hit[1])
    return Finding("must_include", item.element, False, caps=dict(caps),
                   suggestion=f"Missing: {item.element}. Say it in the advisor's words (e.g. {_phrases(item)}).")


def _forbidden(item: MustHave, turns: Sequence, caps: dict[str, int]) -> Finding:
    hit = find_phrase(turns, item.any_of, negatable=True)
    if not hit:
        return Finding("must_avoid", item.element, True)
    return Finding("must_avoid", item.element, False, hit[0], hit[1], dict(caps),
                   f"Turn {hit[0]} has {item.element}: rewrite it without.")


def _phrases(item: MustHave) -> str:
    return " / ".join(f'"{p[:-1]}…"' if p.endswith("*") else f'"{p}"' for p in item.any_of[:3])


# --- the rubric's rules ------------------------------------------------------------------------


def rule_findings(rules: Sequence, turns: Sequence) -> list[Finding]:
    """A failed finding for every rule an advisor sentence breaks (nothing for rules kept)."""
    found = []
    for rule in rules:
        hit = find_phrase(turns, rule.phrases, negatable=rule.negatable)
        if hit:
            found.append(Finding(rule.name, rule.label, False, hit[0], hit[1], dict(rule.caps), rule.suggestion))
    return found


# --- arithmetic --------------------------------------------------------------------------------

_MONEY = r"\$\s?(\d[\d,]*(?:\.\d+)?)\s?(k|thousand|million)?(?![\w,])"
_PERCENT = r"(\d+(?:\.\d+)?)\s?(?:%|percent)"
_ABOUT = r"(?:about |roughly |around |nearly |almost |approximately |close to |over |just over |under )?"
_PERCENT_OF = re.compile(rf"{_PERCENT} of (?:your |the |that |this |a |an )?{_MONEY}[^.?!$]{{0,40}}?"
                         rf"\b(?:is|=|comes to|works out to|would be|equals|that's|that is|or)\s+({_ABOUT}){_MONEY}")
_SHARE_OF = re.compile(rf"{_MONEY} is ({_ABOUT}){_PERCENT} of (?:your |the |that |this |a |an )?{_MONEY}")
# A monthly and a yearly figure said to be the same money ("$500 a month, or $6,000 a year"), not
# two amounts side by side ("$270 a month in exchange for $4,350 a year of employer money").
_PER_MONTH = re.compile(rf"{_MONEY}\s?(?:a|per|/|each|every) ?month,? (?:or|is|which is|that's|that is|comes to|"
                        rf"works out to|adds up to|equals|=|means)\s+({_ABOUT}){_MONEY}\s?(?:a|per|/|each|every) ?year")
_TIMES = re.compile(rf"{_MONEY} (?:times|x|×) (\d+(?:\.\d+)?)\s?(?:months|years)?\s?(?:is|=|comes to|equals)\s+"
                    rf"({_ABOUT}){_MONEY}")
# Stated figures are rounded: exact claims may be off by 2% (or a dollar), "about" ones by 10%.
EXACT_TOLERANCE, ROUGH_TOLERANCE = 0.02, 0.10


def _amount(number: str, unit: str | None) -> float:
    value = float(number.replace(",", ""))
    return value * {"k": 1e3, "thousand": 1e3, "million": 1e6}.get((unit or "").lower(), 1)


def _wrong(stated: float, right: float, rough: bool) -> bool:
    tolerance = ROUGH_TOLERANCE if rough else EXACT_TOLERANCE
    return abs(stated - right) > max(1.0, tolerance * abs(right))


def _money_text(value: float) -> str:
    return f"${value:,.0f}" if value >= 100 else f"${value:,.2f}"


def arithmetic_findings(turns: Sequence, caps: dict[str, int]) -> list[Finding]:
    """A failed finding for each calculation an advisor sentence states wrongly."""
    found = []
    for number, sentence, text in _advisor_sentences(turns):
        for what, right, stated in _calculations(text):
            found.append(Finding("arithmetic", f"Wrong arithmetic: {what}", False, number, sentence, dict(caps),
                                 f"Fix turn {number}: {what} is {right}, not {stated}; "
                                 "show the calculation in one line."))
    return found


def _calculations(text: str) -> Iterator[tuple[str, str, str]]:
    """(what, the right value, the stated value) for every calculation the sentence gets wrong."""
    for m in _PERCENT_OF.finditer(text):
        pct, base, rough, result = float(m[1]), _amount(m[2], m[3]), bool(m[4].strip()), _amount(m[5], m[6])
        if _wrong(result, pct / 100 * base, rough):
            yield f"{m[1]}% of {_money_text(base)}", _money_text(pct / 100 * base), _money_text(result)
    for m in _SHARE_OF.finditer(text):
        part, rough, pct, base = _amount(m[1], m[2]), bool(m[3].strip()), float(m[4]), _amount(m[5], m[6])
        share = part / base * 100 if base else 0.0
        if base and abs(share - pct) > (10 if rough else 2):
            yield f"{_money_text(part)} as a share of {_money_text(base)}", f"{share:.0f}%", f"{m[4]}%"
    for m in _PER_MONTH.finditer(text):
        monthly, rough, yearly = _amount(m[1], m[2]), bool(m[3].strip()), _amount(m[4], m[5])
        if _wrong(yearly, 12 * monthly, rough):
            yield f"{_money_text(monthly)} a month over a year", _money_text(12 * monthly), _money_text(yearly)
    for m in _TIMES.finditer(text):
        amount, factor, rough, result = _amount(m[1], m[2]), float(m[3]), bool(m[4].strip()), _amount(m[5], m[6])
        if _wrong(result, amount * factor, rough):
            yield f"{_money_text(amount)} times {m[3]}", _money_text(amount * factor), _money_text(result)
