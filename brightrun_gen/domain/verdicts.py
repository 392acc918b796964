"""The judge's answer: its schema, its validation, and the judgement made of it.

The model (or the offline judge) answers `Verdict` as JSON; `judgement()` checks each evidence
quote against the conversation, applies the caps of the deterministic findings and decides
whether the conversation passes the gate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from statistics import mean
from typing import Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from brightrun_gen.domain.content_checks import Finding, plain
from brightrun_gen.domain.rubric import SCORE_MAX, SCORE_MIN, Rubric
from brightrun_gen.errors import InvalidAnswer

# Shorter quoted pieces prove nothing ("I", "Okay"): the evidence must be at least this many characters.
MIN_QUOTE_CHARS = 12


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CriterionVerdict(_Answer):
    name: str = Field(description="the criterion's name, exactly as the rubric gives it")
    score: int = Field(ge=SCORE_MIN, le=SCORE_MAX, description="1 (harmful or wrong) to 5 (exemplary)")
    evidence: str = Field(description="one sentence copied word for word from the conversation")
    suggestion: str = Field(description="one concrete change for the next version")


class TurnVerdict(_Answer):
    turn: int = Field(ge=1, description="the advisor turn's number in the conversation")
    empathy: int = Field(ge=SCORE_MIN, le=SCORE_MAX)
    clarity: int = Field(ge=SCORE_MIN, le=SCORE_MAX)
    appropriateness: int = Field(ge=SCORE_MIN, le=SCORE_MAX)
    brand_voice: int = Field(ge=SCORE_MIN, le=SCORE_MAX)


class Verdict(_Answer):
    """What the judge returns (sent to Claude as the structured-output schema)."""

    criteria: list[CriterionVerdict]
    turns: list[TurnVerdict] = Field(description="one entry per advisor turn")
    summary: str = Field(description="two sentences for the reviewer")


def verdict_schema() -> dict:
    return Verdict.model_json_schema()


def parse_verdict(text: str, stop_reason: str | None, rubric: Rubric) -> Verdict:
    """The judge's answer validated; every criterion of the rubric must be scored."""
    if stop_reason == "max_tokens":
        raise InvalidAnswer("the judge's answer was cut off at max_tokens", stop_reason=stop_reason)
    if stop_reason == "refusal":
        raise InvalidAnswer("the judge refused to score this conversation", stop_reason=stop_reason)
    try:
        verdict = Verdict.model_validate(json.loads(text))
    except (ValueError, RecursionError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        where = ".".join(str(p) for p in first["loc"]) + ": " + first["msg"] if first else "not JSON"
        raise InvalidAnswer(f"the judge's answer does not match the verdict schema: {where}",
                            stop_reason=stop_reason) from None
    scored = {c.name for c in verdict.criteria}
    missing = [name for name in rubric.names if name not in scored]
    if missing:
        raise InvalidAnswer(f"the judge's answer has no score for {missing[0]}", stop_reason=stop_reason)
    return verdict


@dataclass(frozen=True)
class Judgement:
    """A conversation's scores per criterion with evidence, its per-turn scores and the gate's view."""

    rubric_hash: str
    provider: str  # anthropic | offline
    model: str
    criteria: list[dict]  # name, label, score, evidence, evidence_turn, suggestion, capped_by
    turns: list[dict]  # turn, empathy, clarity, appropriateness, brand_voice
    findings: list[dict]  # every deterministic finding, passed or not
    summary: str
    score: float | None  # mean criterion score, 1-5
    passed: bool
    reasons: list[str]  # why it did not pass, one line each
    error: str | None = None  # the judge could not run: no scores
    flagged: bool = False  # did not pass and was not repaired: waits for a reviewer
    flag_reason: str | None = None  # why, in one line

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> "Judgement":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def failing(self) -> list[dict]:
        """The criteria below the pass mark or capped by a finding, worst first."""
        low = [c for c in self.criteria if c.get("below") or c.get("capped_by")]
        return sorted(low, key=lambda c: c["score"])

    def flag(self, reason: str) -> "Judgement":
        return replace(self, flagged=True, flag_reason=reason)


def verdict_line(judged: dict) -> str:
    """One line about a stored judgement: 'judge 3.6/5 (claude-haiku-5-5): flagged: ...'."""
    who = "offline judge" if judged["provider"] == "offline" else judged["model"]
    if judged.get("error"):
        return f"judge ({who}) could not run: {judged['error']}"
    verdict = "passed" if judged["passed"] else f"flagged: {judged['flag_reason']}" if judged["flagged"] else \
        "failed: " + "; ".join(judged["reasons"][:3])
    return f"judge {judged['score']:.1f}/5 ({who}): {verdict}"


def judgement(rubric: Rubric, verdict: Verdict, turns: Sequence, findings: Sequence[Finding], *, provider: str,
              model: str, min_score: int) -> Judgement:
    """Scores checked and capped: quotes located, findings applied, the gate decided."""
    failed = [f for f in findings if not f.passed]
    by_name = {c.name: c for c in reversed(verdict.criteria)}  # the first answer for a name wins
    criteria = [_criterion(rubric, by_name[name], turns, failed, min_score) for name in rubric.names]
    advisor_turns = {i for i, t in enumerate(turns, 1) if t.role == "assistant"}
    turn_scores = [v.model_dump() for v in verdict.turns if v.turn in advisor_turns]
    reasons = [f"{f.label}" + (f" (turn {f.turn})" if f.turn else "") for f in failed]
    reasons += [f"{c['label']} {c['score']}/5" for c in criteria if c["below"]]
    return Judgement(
        rubric_hash=rubric.content_hash, provider=provider, model=model, criteria=criteria,
        turns=sorted(turn_scores, key=lambda t: t["turn"]), findings=[f.as_dict() for f in findings],
        summary=verdict.summary.strip(), score=round(mean(c["score"] for c in criteria), 2),
        passed=not reasons, reasons=reasons,
    )


def _criterion(rubric: Rubric, given: CriterionVerdict, turns: Sequence, failed: Sequence[Finding],
               min_score: int) -> dict:
    caps = [(f.caps[given.name], f) for f in failed if given.name in f.caps]
    cap, finding = min(caps, key=lambda pair: pair[0]) if caps else (SCORE_MAX, None)
    capped = finding is not None and given.score > cap
    evidence, suggestion = given.evidence.strip(), given.suggestion.strip()
    if capped:  # the finding is the reason: its sentence, or none for an element nobody said
        evidence, suggestion = finding.evidence or "", finding.suggestion
    score = min(given.score, cap)
    return {"name": given.name, "label": rubric.label(given.name), "score": score, "evidence": evidence,
            "evidence_turn": quote_turn(evidence, turns), "suggestion": suggestion,
            "capped_by": finding.label if capped else None, "below": score < min_score}


def quote_turn(quote: str, turns: Sequence) -> int | None:
    """The 1-based turn that contains `quote` word for word (quotes, dashes and spacing aside).

    A quote cut with an ellipsis counts when every piece is in the same turn. None when it is
    not a real quote: the page then shows it as the judge's words, not the conversation's.
    """
    pieces = [plain(p).strip(" \"'") for p in quote.replace("\u2026", "...").split("...")]
    pieces = [p for p in pieces if p]
    if not pieces or sum(len(p) for p in pieces) < MIN_QUOTE_CHARS:
        return None
    for number, turn in enumerate(turns, 1):
        text = plain(turn.content)
        if all(p in text for p in pieces):
            return number
    return None


def failed_judgement(error: str, *, rubric_hash: str, provider: str, model: str,
                     findings: Sequence[Finding]) -> Judgement:
    """When the judge cannot run: the deterministic findings still count, the conversation is flagged."""
    reasons = [f.label for f in findings if not f.passed] + [f"the judge could not run: {error}"]
    return Judgement(rubric_hash=rubric_hash, provider=provider, model=model, criteria=[], turns=[],
                     findings=[f.as_dict() for f in findings], summary="", score=None, passed=False,
                     reasons=reasons, error=error)


@dataclass(frozen=True)
class GateDecision:
    action: str  # pass | repair | flag
    reason: str = ""


def gate(judged: Judgement, repairs_done: int, max_repairs: int, *, can_repair: bool = True) -> GateDecision:
    """Pass, repair again (while repairs are left and the provider can act on them), or flag."""
    if judged.passed:
        return GateDecision("pass")
    if judged.error is None and can_repair and repairs_done < max_repairs:
        return GateDecision("repair")
    why = "; ".join(judged.reasons[:3])
    if judged.error is None and repairs_done:
        return GateDecision("flag", f"still failing after {repairs_done} repair(s): {why}")
    return GateDecision("flag", why)

