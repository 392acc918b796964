"""The content judge and its gate: judge a written conversation, repair it until it passes or the
repairs run out, then store every version with its judgement in one transaction.

`generation` calls this at one point, after an answer validated: `Gate.review()` returns the
versions to store (the original first, each repair after it) and `store_drafts()` writes them
where the generation used to write one. Every judge and repair call is logged as its own attempt
(kind "judge" / "repair") with its tokens and cost, the way generation logs its calls: a call
that failed at once, the one that succeeded in the transaction that stores what it produced.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Sequence

from sqlalchemy import Connection, Engine

from brightrun_gen.config import Settings
from brightrun_gen.domain.annotations import SCORE_NAMES, annotated_turns, with_scores
from brightrun_gen.domain.answers import parse_answer, storable_text
from brightrun_gen.domain.content_checks import Finding, arithmetic_findings, must_have_findings, rule_findings
from brightrun_gen.domain.models import EdgeCase, GeneratedConversation, Turn
from brightrun_gen.domain.pricing import PriceTable
from brightrun_gen.domain.quality import score_conversation
from brightrun_gen.domain.repairs import fixes_from, repair_prompt
from brightrun_gen.domain.rubric import RUBRIC_FILE, Rubric, judge_prompt, parse_rubric
from brightrun_gen.domain.verdicts import Judgement, failed_judgement, gate, judgement, parse_verdict
from brightrun_gen.errors import BrightRunError, InputError, InvalidAnswer, ProviderError, TemplateError
from brightrun_gen.llm.base import Answer, Provider
from brightrun_gen.llm.factory import make_judge, make_provider
from brightrun_gen.services import dedupe
from brightrun_gen.store import budget as budget_store, conversations as conv_store, judgements as store, logs as log_store
from brightrun_gen.store.db import read, write

if TYPE_CHECKING:
    from brightrun_gen.services.generation import Prepared

logger = logging.getLogger(__name__)
# A near-duplicate scores naturalness at most this (below the gate's default of 3): it is repaired.
NEAR_DUPLICATE_CAP = 2

# A judge answer that does not validate is asked for once more before the judge counts as failed.
JUDGE_ATTEMPTS = 2
# A judge call reads the conversation and the rubric and writes scores with evidence: until the log
# has real judge calls, estimates and budget caps plan with these sizes.
TYPICAL_JUDGE_INPUT_TOKENS, TYPICAL_JUDGE_OUTPUT_TOKENS = 5000, 1500


# --- the rubric ----------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _parsed(text: str) -> Rubric:
    return parse_rubric(text)


def sync_rubric(engine: Engine, settings: Settings) -> bool:
    """Store the rubric file's text (a new content version becomes the active one); True if new."""
    path = settings.prompts_dir / RUBRIC_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"judge rubric {path}: cannot be read ({exc.strerror})") from None
    rubric = parse_rubric(text, str(path))
    with write(engine) as conn:
        return store.save_rubric(conn, rubric.name, rubric.content_hash, text)


def active_rubric(engine: Engine, settings: Settings) -> Rubric:
    """The rubric the store holds as active (stored from the file the first time it is needed)."""
    with read(engine) as conn:
        text = store.active_rubric(conn)
    if text is None:
        sync_rubric(engine, settings)
        with read(engine) as conn:
            text = store.active_rubric(conn)
    return _parsed(text)


def expected_judge_cost(engine: Engine, settings: Settings, provider: Provider) -> float:
    """What judging one conversation written by `provider` costs: the log's average, else typical."""
    if not settings.judge or provider.name == "offline":
        return 0.0
    from brightrun_gen.services.generation import price_table  # generation imports this module

    average = budget_store.average_cost(engine, settings.judge_model, "judge")
    if average is not None:
        return average
    return price_table(settings.price_file).cost(settings.judge_model, input_tokens=TYPICAL_JUDGE_INPUT_TOKENS,
                                                 output_tokens=TYPICAL_JUDGE_OUTPUT_TOKENS)


# --- versions to store ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Revision:
    """A new version asked for on purpose (a reviewer's notes): its origin, base and notes."""

    origin: str  # reviewer_repair
    base_version: int
    base_turns: tuple
    notes: str
    fixes: tuple[dict, ...] = ()

    def revise(self, prepared: "Prepared") -> "Prepared":
        return replace(prepared, prompt=repair_prompt(prepared.prompt, self.base_turns, self.fixes, self.notes))


@dataclass
class Draft:
    """One version to store: the conversation, the log of the call that wrote it, its scores."""

    conversation: GeneratedConversation
    log: dict
    quality: dict
    origin: str | None = None
    parent_version: int | None = None  # a stored version a revision started from
    notes: str | None = None
    judgement: Judgement | None = None
    judge_log: dict | None = None  # the judge call that made the judgement, stored with it


def store_drafts(conn: Connection, conversation_id: int, drafts: list[Draft], queue_item_id: int | None,
                 targets: Sequence[str] = ()) -> list[int]:
    """Write every draft as a version (the last one is current, unless an approved version is) with
    its log and judgement; returns the version numbers, in the drafts' order.

    Each turn is stored with its annotation: what the writer says it wrote, the beat sheet's target
    emotion for client turns (`targets`), and the judge's scores for advisor turns."""
    version, numbers = None, []
    for draft in drafts:
        log_id = log_store.insert_log(conn, **draft.log)
        parent = version if version is not None else draft.parent_version
        turns = annotated_turns(draft.conversation.turns, draft.log["model"], targets)
        if draft.judgement is not None:
            turns = _with_turn_scores(turns, draft.judgement.as_dict().get("turns") or [])
        version = conv_store.save_version(
            conn, conversation_id, turns, model=draft.log["model"], status="generated",
            quality=draft.quality, template_name=draft.log["template_name"], template_hash=draft.log["template_hash"],
            log_id=log_id)
        if draft.origin:
            store.describe_version(conn, conversation_id, version, origin=draft.origin, parent_version=parent,
                                   notes=draft.notes)
        if draft.judgement is not None:
            judge_log_id = log_store.insert_log(conn, **draft.judge_log) if draft.judge_log else None
            store.save_judgement(conn, conversation_id, version, draft.judgement.as_dict(),
                                 log_id=judge_log_id, queue_item_id=queue_item_id)
        numbers.append(version)
    return numbers


def _with_turn_scores(turns: list, scored: list[dict]) -> list:
    """The judge's empathy / clarity / appropriateness / brand-voice scores added to the annotation of
    the advisor turns it scored (its "turn" numbers count every turn from 1)."""
    by_position = {int(s["turn"]) - 1: s for s in scored if str(s.get("turn", "")).isdigit()}
    out = []
    for position, turn in enumerate(turns):
        score = by_position.get(position)
        if turn.role == "assistant" and score and all(name in score for name in SCORE_NAMES):
            turn = turn.model_copy(update={"annotation": with_scores(turn.annotation, score)})
        out.append(turn)
    return out


# --- the gate ------------------------------------------------------------------------------------


class Gate:
    """Judges one conversation and repairs it until it passes, the repairs run out, or a call fails."""

    def __init__(self, engine: Engine, settings: Settings, provider: Provider, judge: Provider | None,
                 prepared: "Prepared", prices: PriceTable, queue_item_id: int | None, *,
                 revision: Revision | None = None):
        self.engine, self.settings, self.provider, self.judge = engine, settings, provider, judge
        self.prepared, self.prices, self.queue_item_id = prepared, prices, queue_item_id
        self.revision = revision
        self.rubric = active_rubric(engine, settings) if judge else None
        self.edge_case = _edge_case(engine, prepared.conversation_id) if judge else None

    def first_draft(self, conversation: GeneratedConversation, log: dict) -> Draft:
        r = self.revision
        return Draft(conversation, {**log, "kind": "repair" if r else "generate"}, self.quality(conversation),
                     origin=r.origin if r else None, parent_version=r.base_version if r else None,
                     notes=r.notes if r else None)

    def quality(self, conversation: GeneratedConversation) -> dict:
        return score_conversation(conversation.turns, topic_terms=self.prepared.topic_terms,
                                  rules=self.prepared.rules).as_dict()

    def review(self, conversation: GeneratedConversation, log: dict) -> list[Draft]:
        """The versions to store: the first, then one per repair; the last carries the verdict."""
        drafts = [self.first_draft(conversation, log)]
        if self.judge is None:
            return drafts
        attempt = log["attempt"]
        while True:
            draft = drafts[-1]
            draft.judgement, draft.judge_log = self.judge_turns(draft.conversation.turns)
            decision = gate(draft.judgement, len(drafts) - 1, self.settings.repair_attempts,
                            can_repair=self.provider.name != "offline")
            if decision.action == "pass":
                return drafts
            if decision.action == "flag":
                draft.judgement = draft.judgement.flag(decision.reason)
                logger.info("%s flagged for review: %s", self.prepared.key, decision.reason)
                return drafts
            try:
                repaired, attempt = self.repair(draft, attempt)
            except BrightRunError as exc:
                draft.judgement = draft.judgement.flag(f"the automatic repair failed: {exc}")
                logger.warning("%s: repair failed: %s", self.prepared.key, exc)
                return drafts
            drafts.append(repaired)

    # --- judging ---

    def findings(self, turns) -> list[Finding]:
        found = (must_have_findings(self.edge_case, turns, self.rubric.must_have_caps)
                 + rule_findings(self.rubric.rules, turns) + arithmetic_findings(turns, self.rubric.arithmetic_caps))
        return found + self._near_duplicate(turns)

    def _near_duplicate(self, turns) -> list[Finding]:
        """With `repair_near_duplicates`, a conversation that reads like one already stored fails like
        any other check: it caps naturalness below the gate, so it is repaired (or flagged)."""
        if not self.settings.repair_near_duplicates:
            return []
        twin = dedupe.near_duplicate(self.engine, turns, threshold=self.settings.near_duplicate_threshold,
                                     conversation_id=self.prepared.conversation_id)
        if twin is None:
            return []
        return [Finding("near_duplicate", f"near-duplicate of {twin.match.key}", False,
                        caps={"naturalness": NEAR_DUPLICATE_CAP}, suggestion=twin.problem)]

    def judge_turns(self, turns) -> tuple[Judgement, dict | None]:
        """One judgement (asked again once if the answer does not validate) and the log of its call.

        A call that failed is logged at once; the one that judged is stored with its judgement, in
        the transaction that stores the version (as generation stores its own successful call)."""
        findings = self.findings(turns)
        prompt = judge_prompt(self.rubric, turns, self.prepared.prompt.parameters, [f.as_dict() for f in findings])
        problem = "no answer"
        for attempt in range(1, JUDGE_ATTEMPTS + 1):
            log = self._log_base("judge", self.judge, attempt, self.rubric.name, self.rubric.content_hash,
                                 {"rubric_hash": self.rubric.content_hash,
                                  "failed_checks": sum(not f.passed for f in findings)})
            started = time.perf_counter()
            try:
                answer = self._call(self.judge, prompt, log, started)
            except ProviderError as exc:
                problem = str(exc)
                break
            log.update(self._usage(self.judge, answer))
            try:
                verdict = parse_verdict(answer.text, answer.stop_reason, self.rubric)
            except InvalidAnswer as exc:
                self._write_log({**log, "outcome": "invalid", "error": str(exc), "validation_errors": [str(exc)]},
                                started)
                problem = str(exc)
                continue
            judged = judgement(self.rubric, verdict, turns, findings, provider=self.judge.name,
                               model=log["model"], min_score=self.settings.judge_min_score)
            return judged, {**log, "outcome": "ok", "duration_ms": int((time.perf_counter() - started) * 1000)}
        logger.warning("%s: the judge could not run: %s", self.prepared.key, problem)
        return failed_judgement(problem, rubric_hash=self.rubric.content_hash, provider=self.judge.name,
                                model=self.judge.model, findings=findings), None

    # --- repairing ---

    def repair(self, draft: Draft, attempt: int) -> tuple[Draft, int]:
        """A new version from the failing one, its failing criteria and findings; bounded retries."""
        failed = [f for f in draft.judgement.findings if not f["passed"]]
        fixes = fixes_from(draft.judgement.failing()) + [
            {"check": f["label"], "evidence": f["evidence"], "suggestion": f["suggestion"]} for f in failed]
        prompt = repair_prompt(self.prepared.prompt, draft.conversation.turns, fixes, None)
        problem: Exception | None = None
        for _ in range(self.settings.regenerate_attempts):
            attempt += 1
            log = self._log_base("repair", self.provider, attempt, self.prepared.prompt.template,
                                 self.prepared.prompt.template_hash, {"repair_of_attempt": draft.log["attempt"]})
            started = time.perf_counter()
            answer = self._call(self.provider, prompt, log, started)
            try:
                conversation = parse_answer(answer.text, answer.stop_reason)
            except InvalidAnswer as exc:
                problem = exc
                self._write_log({**log, **self._usage(self.provider, answer), "outcome": "invalid", "error": str(exc),
                                 "validation_errors": [str(exc)]}, started)
                continue
            ok = {**log, **self._usage(self.provider, answer), "outcome": "ok",
                  "duration_ms": int((time.perf_counter() - started) * 1000)}
            return Draft(conversation, ok, self.quality(conversation), origin="auto_repair",
                         notes="; ".join(draft.judgement.reasons[:5])), attempt
        raise InvalidAnswer(f"no valid repair after {self.settings.regenerate_attempts} attempt(s): {problem}")

    # --- calls and their logs ---

    def _log_base(self, kind: str, provider: Provider, attempt: int, template: str, template_hash: str,
                  extra: dict) -> dict:
        return {"conversation_id": self.prepared.conversation_id, "queue_item_id": self.queue_item_id,
                "attempt": attempt, "provider": provider.name, "model": provider.model, "template_name": template,
                "template_hash": template_hash, "kind": kind,
                "parameters": {**extra, "model": provider.model, "max_tokens": getattr(provider, "max_tokens", None)}}

    def _usage(self, provider: Provider, answer: Answer) -> dict:
        u = answer.usage
        model = answer.model or provider.model
        return {"model": model, "raw_response": storable_text(answer.text), "stop_reason": answer.stop_reason,
                "retries": answer.retries, "input_tokens": u.input_tokens, "output_tokens": u.output_tokens,
                "cache_creation_tokens": u.cache_creation_tokens, "cache_read_tokens": u.cache_read_tokens,
                "cost_usd": self.prices.cost(model, input_tokens=u.input_tokens, output_tokens=u.output_tokens,
                                             cache_creation_tokens=u.cache_creation_tokens,
                                             cache_read_tokens=u.cache_read_tokens)}

    def _call(self, provider: Provider, prompt, log: dict, started: float) -> Answer:
        """One call; a failed one is logged here, an answered one by the caller once it is checked."""
        try:
            return provider.generate(prompt)
        except ProviderError as exc:
            self._write_log({**log, "outcome": "error", "error": str(exc)}, started)
            raise

    def _write_log(self, values: dict, started: float) -> int:
        with write(self.engine) as conn:
            return log_store.insert_log(conn, **{**values, "duration_ms": int((time.perf_counter() - started) * 1000)})


def _edge_case(engine: Engine, conversation_id: int) -> EdgeCase | None:
    with read(engine) as conn:
        key = conv_store.get_row(conn, conversation_id).dimensions.edge_case
        data = store.edge_case_entry(conn, key) if key else None
    return EdgeCase.model_validate(data) if data else None


def gate_for(engine: Engine, settings: Settings, provider: Provider, prepared: "Prepared", prices: PriceTable,
             queue_item_id: int | None, *, revision: Revision | None = None) -> Gate:
    """The gate of one queue item: judged by the judge that fits the provider (or none when off).
    Judge and repair calls are direct calls, at full price, also for a batch job's answers."""
    return Gate(engine, settings, provider, make_judge(settings, provider.name), prepared, prices, queue_item_id,
                revision=revision)


def _row_for_judge(engine: Engine, row, prepare) -> "Prepared":
    """What the row asked for: its rendered prompt, or for an import whose dimensions the catalog does
    not know, the dimensions themselves (the judge still reads the row, as data)."""
    try:
        return prepare(engine, row.id)
    except TemplateError:
        from brightrun_gen.domain.prompts import RenderedPrompt
        from brightrun_gen.services.generation import Prepared

        values = {k: str(v) for k, v in row.dimensions.model_dump(exclude_none=True).items()}
        values["persona_name"] = row.dimensions.persona.replace("_", " ").title()
        prompt = RenderedPrompt("imported", "", "", "", "", values)
        return Prepared(row.id, row.key, prompt, [row.dimensions.persona.replace("_", " ")],
                        [row.dimensions.topic.replace("_", " ")])


def judge_stored(engine: Engine, settings: Settings, key_or_id: str | int, provider_name: str | None = None) -> dict:
    """Judge a stored conversation's current version as it is (a seed, an import, an older judgement
    under a new rubric): no gate, no repair. Returns the judgement as stored."""
    from brightrun_gen.services.generation import prepare, price_table

    with read(engine) as conn:
        cid = conv_store.find_id(conn, key_or_id)
        row = conv_store.get_row(conn, cid)
        turns = [Turn(role=t.role, content=t.content) for t in conv_store.load_turns(conn, cid, row.current_version)]
    if not turns:
        raise InputError(f"conversation {row.key} has no text to judge yet")
    name = provider_name or settings.effective_provider
    judge = make_judge(settings.model_copy(update={"judge": True}), name)
    gate = Gate(engine, settings, make_provider(settings, name), judge, _row_for_judge(engine, row, prepare),
                price_table(settings.price_file), None)
    judged, log = gate.judge_turns(turns)
    with write(engine) as conn:
        log_id = log_store.insert_log(conn, **log) if log else None
        store.save_judgement(conn, cid, row.current_version, judged.as_dict(), log_id=log_id, queue_item_id=None)
        return store.judgement_of(conn, cid, row.current_version)
