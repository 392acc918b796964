"""One conversation: planned row -> prompt -> provider -> validate -> score -> save -> log."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

from sqlalchemy import Connection, Engine
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from brightrun_gen.config import Settings, get_settings
from brightrun_gen.domain.answers import parse_answer, storable_text
from brightrun_gen.domain.examples import Example, choose_examples, match_topic
from brightrun_gen.domain.models import Catalog, GeneratedConversation
from brightrun_gen.domain.pricing import PriceTable, Usage
from brightrun_gen.domain.prompt_values import DEFAULT_VARIATION, SharedInputs, client_targets, prompt_values, row_beats
from brightrun_gen.domain.prompts import PromptTemplate, RenderedPrompt, render
from brightrun_gen.domain.quality import RULES, Rule
from brightrun_gen.domain.voice import VoiceProfile
from brightrun_gen.domain.template_choice import pick_version
from brightrun_gen.errors import BrightRunError, InvalidAnswer, ProviderError
from brightrun_gen.llm.base import Answer, Provider
from brightrun_gen.llm.factory import make_provider
from brightrun_gen.services import dataset, dedupe, judging, knowledge
from brightrun_gen.services.voice import quality_rules
from brightrun_gen.store import catalog_repo, conversations as conv_store, logs as log_store, plan_rows
from brightrun_gen.store import templates as template_store, voice as voice_store
from brightrun_gen.store.db import read, write

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    conversation_id: int
    key: str
    prompt: RenderedPrompt
    topic_terms: list[str]
    rules: tuple[Rule, ...] = RULES  # the rule table the prompt states and the answer is scored by
    examples: tuple[Example, ...] = ()
    targets: tuple[str, ...] = ()  # the beat sheet's emotion for each client turn, kept with the annotations


@dataclass(frozen=True)
class GenerationResult:
    conversation_id: int
    key: str
    status: str  # generated | failed
    version: int | None
    quality_score: float | None
    cost_usd: float
    attempts: int
    model: str
    error: str | None = None


@lru_cache(maxsize=8)
def price_table(path: Path) -> PriceTable:
    return PriceTable.load(path)


@dataclass(frozen=True)
class _Static:
    """What every prompt shares: loaded once, reloaded when the store's copy changes."""

    catalog: Catalog
    templates: dict[int, list[tuple[PromptTemplate, int]]]  # tier -> its active versions with their shares
    pool: tuple[Example, ...]  # every conversation that may serve as an example
    voice: VoiceProfile | None


_static_cache: dict[tuple, tuple[tuple, _Static, float]] = {}
_static_lock = threading.Lock()


# How long the cached static part is trusted before its fingerprint is checked again: a catalog or
# template change reaches generation within this time, and a busy runner checks once, not per item.
STATIC_CHECK_SECONDS = 1.0


def _static(engine: Engine, conn: Connection, include_approved: bool = False) -> _Static:
    key = (engine.url.render_as_string(hide_password=False), include_approved)
    with _static_lock:
        cached = _static_cache.get(key)
    if cached and time.monotonic() - cached[2] < STATIC_CHECK_SECONDS:
        return cached[1]
    stamp = catalog_repo.fingerprint(conn)
    if cached and cached[0] == stamp:
        with _static_lock:
            _static_cache[key] = (stamp, cached[1], time.monotonic())
        return cached[1]
    catalog = catalog_repo.load_catalog(engine)
    voice = voice_store.active_voice(conn)
    static = _Static(
        catalog=catalog,
        templates={tier: template_store.active_templates(conn, tier) for tier in (1, 2, 3)},
        pool=tuple(_example(row, catalog) for row in plan_rows.example_pool(conn, include_approved)),
        voice=voice[0] if voice else None,
    )
    with _static_lock:
        _static_cache[key] = (stamp, static, time.monotonic())
    return static


# The phrases many conversations already share change slowly as a job writes more of them; one
# count serves every prompt of this process for this long (it reads the newest conversations).
AVOID_LIST_SECONDS = 60.0
_avoid_cache: dict[tuple, tuple[float, list[str]]] = {}


def _avoid_list(engine: Engine, settings: Settings) -> list[str]:
    """Stock phrases of the dataset so far, for the prompt's "Phrases to avoid (data)" block."""
    key = (engine.url.render_as_string(hide_password=False), settings.avoid_phrase_share)
    with _static_lock:
        cached = _avoid_cache.get(key)
    if cached and time.monotonic() - cached[0] < AVOID_LIST_SECONDS:
        return cached[1]
    phrases = dataset.avoid_phrases(engine, share=settings.avoid_phrase_share)
    with _static_lock:
        _avoid_cache[key] = (time.monotonic(), phrases)
    return phrases


def forget_static(engine: Engine) -> None:
    """Drop this process's cached shared part, so a change made here shows in the next prompt at once."""
    url = engine.url.render_as_string(hide_password=False)
    with _static_lock:
        for cache in (_static_cache, _avoid_cache):
            for key in [k for k in cache if k[0] == url]:
                del cache[key]


def _example(row: plan_rows.PoolRow, catalog: Catalog) -> Example:
    origin = "real" if row.console else "approved" if row.status == "approved" else "seed"
    known = {t.key for t in catalog.topics}
    topic = row.dimensions.topic if row.dimensions.topic in known else match_topic(row.dimensions.topic, catalog)
    title = str(row.title).removeprefix(f"{row.key} - ")  # console files' notes start with their id
    return Example(row.key, title, origin, row.dimensions, tuple(row.turns), topic)


def prepare(engine: Engine, conversation_id: int, *, settings: Settings | None = None,
            extra_blocks: Sequence[tuple[str, str]] = ()) -> Prepared:
    """Render the prompt for one row; a missing parameter fails here, before any API call.

    The row's own part ends with data blocks: the firm knowledge retrieved for the row, the
    phrases the dataset already overuses, then `extra_blocks`, (title, text) pairs such as repair
    notes.
    """
    settings = settings or get_settings()
    with read(engine) as conn:
        row = conv_store.get_row(conn, conversation_id)
        variation = plan_rows.variation_of(conn, conversation_id)
        static = _static(engine, conn, settings.examples_include_approved)
        firm_knowledge = knowledge.knowledge_block(engine, conversation_id, settings, conn)
    d = row.dimensions
    rules = quality_rules(settings, static.voice)
    examples = choose_examples(row.key, d, static.pool, static.catalog, count=settings.examples_per_prompt,
                               budget_tokens=settings.example_token_budget)
    values = prompt_values(d, SharedInputs(static.catalog, rules, static.voice), variation=variation,
                           examples=examples)
    blocks = [("Firm knowledge", firm_knowledge),
              ("Phrases to avoid", _avoid_list(engine, settings)), *extra_blocks]
    template = pick_version(static.templates[d.tier], row.id)  # the active versions share new rows
    prompt = render(template, values, examples=[e.key for e in examples],
                    extra_blocks=[(title, text) for title, text in blocks if text])
    topic = next((x for x in static.catalog.topics if x.key == d.topic), None)
    topics = [topic.name] if topic else [d.topic.replace("_", " ")]
    targets = client_targets(row_beats(d, static.catalog), (variation or DEFAULT_VARIATION).target_turns)
    return Prepared(row.id, row.key, prompt, topics, rules, tuple(examples), tuple(targets))


# Called inside the transaction that stores the outcome, with (conn, status, error): the runner
# closes its queue item there, so a conversation and its item are written together or not at all.
Finish = Callable[[Connection, str, "str | None"], None]


def generate_one(engine: Engine, conversation_id: int, *, settings: Settings | None = None,
                 provider: Provider | None = None, queue_item_id: int | None = None,
                 finish: Finish | None = None, revision: judging.Revision | None = None) -> GenerationResult:
    """Generate, validate, score, judge and store one conversation; every attempt is logged.

    Answers that fail validation are regenerated up to `regenerate_attempts` times. Rate limits
    (RateLimited) propagate so a runner can slow down as a whole; other provider errors and
    answers that never validate mark the conversation failed with the reason. A `revision` (a
    reviewer's notes) asks for a new version of the stored text instead of a first one.
    """
    settings = settings or get_settings()
    provider = provider or make_provider(settings)
    prepared = prepare(engine, conversation_id, settings=settings)
    if revision:
        prepared = revision.revise(prepared)
    prices = price_table(settings.price_file)
    gate = judging.gate_for(engine, settings, provider, prepared, prices, queue_item_id, revision=revision)
    attempt_no = 0

    def attempt() -> GenerationResult:
        nonlocal attempt_no
        attempt_no += 1
        return _attempt(engine, prepared, provider, prices, attempt_no, queue_item_id, finish, gate)

    retrying = Retrying(stop=stop_after_attempt(settings.regenerate_attempts),
                        retry=retry_if_exception_type(InvalidAnswer), reraise=True)
    try:
        return retrying(attempt)
    except InvalidAnswer as exc:
        reason = f"no valid conversation after {attempt_no} attempt(s): {exc}"
        return _fail(engine, prepared, provider, reason, attempt_no, finish)
    except ProviderError as exc:
        if exc.retryable and queue_item_id is not None:
            raise  # the runner decides: back off and try the item again
        return _fail(engine, prepared, provider, str(exc), attempt_no, finish)


def _attempt(engine: Engine, prepared: Prepared, provider: Provider, prices: PriceTable, attempt_no: int,
             queue_item_id: int | None, finish: Finish | None, gate: judging.Gate) -> GenerationResult:
    started = time.perf_counter()
    log = {"conversation_id": prepared.conversation_id, "queue_item_id": queue_item_id, "attempt": attempt_no,
           "provider": provider.name, "model": provider.model, "template_name": prepared.prompt.template,
           "template_hash": prepared.prompt.template_hash,
           "parameters": {**logged_parameters(prepared), "model": provider.model,
                          "max_tokens": getattr(provider, "max_tokens", None)}}
    try:
        answer = provider.generate(prepared.prompt)
    except BrightRunError as exc:
        outcome = "invalid" if isinstance(exc, InvalidAnswer) else "error"
        logger.info("%s attempt %s with %s: %s: %s", prepared.key, attempt_no, provider.model, outcome, exc)
        _log(engine, log, started, outcome=outcome, error=str(exc), stop_reason=getattr(exc, "stop_reason", None))
        raise
    return store_answer(engine, prepared, answer, prices, log, started, batch=False, finish=finish, gate=gate)


def store_answer(engine: Engine, prepared: Prepared, answer: Answer, prices: PriceTable, log: dict,
                 started: float, *, batch: bool, gate: judging.Gate, finish: Finish | None = None) -> GenerationResult:
    """Validate, score, judge and save one answer (direct call or batch result) in one transaction."""
    usage = answer.usage
    log.update(model=answer.model or log["model"], raw_response=storable_text(answer.text), stop_reason=answer.stop_reason,
               retries=answer.retries, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
               cache_creation_tokens=usage.cache_creation_tokens, cache_read_tokens=usage.cache_read_tokens,
               cost_usd=_cost(prices, log["model"], usage, batch))
    try:
        conversation = parse_answer(answer.text, answer.stop_reason)
    except InvalidAnswer as exc:
        logger.info("%s attempt %s: invalid answer: %s", prepared.key, log["attempt"], exc)
        _log(engine, log, started, outcome="invalid", validation_errors=[str(exc)], error=str(exc))
        raise
    return _save(engine, prepared, conversation, log, started, finish, gate)


def _save(engine: Engine, prepared: Prepared, conversation: GeneratedConversation, log: dict,
          started: float, finish: Finish | None, gate: judging.Gate) -> GenerationResult:
    log.update(outcome="ok", duration_ms=int((time.perf_counter() - started) * 1000))
    drafts = gate.review(conversation, log)  # the judge and its repairs: every version to store, last is final
    with write(engine) as conn:
        versions = judging.store_drafts(conn, prepared.conversation_id, drafts, log["queue_item_id"],
                                        targets=prepared.targets)
        for draft, number in zip(drafts, versions):
            knowledge.record_grounding(engine, conn, prepared.conversation_id, number, prepared.prompt)
            dedupe.index_version(conn, prepared.conversation_id, number, draft.conversation.turns)
        version = versions[-1]
        if finish:
            finish(conn, "succeeded", None)
    final, cost = drafts[-1], sum(d.log["cost_usd"] for d in drafts)
    logger.info("%s: stored version %s (attempt %s, quality %s, %s version(s), $%.4f)", prepared.key, version,
                final.log["attempt"], final.quality["score"], len(drafts), cost)
    return GenerationResult(prepared.conversation_id, prepared.key, "generated", version, final.quality["score"],
                            cost, final.log["attempt"], final.log["model"])


def _fail(engine: Engine, prepared: Prepared, provider: Provider, reason: str, attempts: int,
          finish: Finish | None) -> GenerationResult:
    logger.warning("%s failed: %s", prepared.key, reason)
    with write(engine) as conn:
        conv_store.mark_failed(conn, prepared.conversation_id, reason)
        if finish:
            finish(conn, "failed", reason)
    return GenerationResult(prepared.conversation_id, prepared.key, "failed", None, None, 0.0, attempts,
                            provider.model, error=reason)


def _log(engine: Engine, log: dict, started: float, **values) -> None:
    with write(engine) as conn:
        log_store.insert_log(conn, **{**log, **values, "duration_ms": int((time.perf_counter() - started) * 1000)})


def _cost(prices: PriceTable, model: str, usage: Usage, batch: bool) -> float:
    return prices.cost(model, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                       cache_creation_tokens=usage.cache_creation_tokens, cache_read_tokens=usage.cache_read_tokens,
                       batch=batch)


def logged_parameters(prepared: Prepared) -> dict:
    """What was asked (never the key): the row's parameters and the examples it was shown.

    The examples' text is left out (their keys identify it); their keys are stored with the
    attempt, and so with the version it produced, which the review page and `brightrun prompt` show.
    """
    params = {k: v for k, v in prepared.prompt.parameters.items() if k != "examples"}
    return {**params, "examples": list(prepared.prompt.examples), "extra_blocks": list(prepared.prompt.extra_blocks)}
