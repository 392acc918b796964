"""One conversation: planned row -> prompt -> provider -> validate -> score -> save -> log."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from sqlalchemy import Connection, Engine
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from brightrun_gen.config import Settings, get_settings
from brightrun_gen.domain.answers import parse_answer, storable_text
from brightrun_gen.domain.models import Catalog, GeneratedConversation
from brightrun_gen.domain.pricing import PriceTable, Usage
from brightrun_gen.domain.prompts import PromptTemplate, RenderedPrompt, prompt_values, render
from brightrun_gen.domain.quality import score_conversation, scoring_terms
from brightrun_gen.domain.template_choice import pick_version
from brightrun_gen.errors import BrightRunError, InvalidAnswer, ProviderError
from brightrun_gen.llm.base import Answer, Provider
from brightrun_gen.llm.factory import make_provider
from brightrun_gen.store import catalog_repo, conversations as conv_store, logs as log_store, templates as template_store
from brightrun_gen.store.db import read, write

logger = logging.getLogger(__name__)

EXAMPLES_PER_PROMPT = 2


@dataclass(frozen=True)
class Prepared:
    conversation_id: int
    key: str
    prompt: RenderedPrompt
    persona_names: list[str]
    topic_terms: list[str]


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
    """What every prompt of a tier shares: loaded once, reloaded when the store's copy changes."""

    catalog: Catalog
    templates: dict[int, list[tuple[PromptTemplate, int]]]  # tier -> its active versions with their shares
    examples: dict[int, list[list[dict]]]


_static_cache: dict[str, tuple[tuple, _Static, float]] = {}
_static_lock = threading.Lock()


# How long the cached static part is trusted before its fingerprint is checked again: a catalog or
# template change reaches generation within this time, and a busy runner checks once, not per item.
STATIC_CHECK_SECONDS = 1.0


def _static(engine: Engine, conn: Connection) -> _Static:
    key = engine.url.render_as_string(hide_password=False)
    with _static_lock:
        cached = _static_cache.get(key)
    if cached and time.monotonic() - cached[2] < STATIC_CHECK_SECONDS:
        return cached[1]
    stamp = catalog_repo.fingerprint(conn)
    if cached and cached[0] == stamp:
        with _static_lock:
            _static_cache[key] = (stamp, cached[1], time.monotonic())
        return cached[1]
    static = _Static(
        catalog=catalog_repo.load_catalog(engine),
        templates={tier: template_store.active_templates(conn, tier) for tier in (1, 2, 3)},
        examples={tier: conv_store.example_turns(conn, tier, EXAMPLES_PER_PROMPT) for tier in (1, 2, 3)},
    )
    with _static_lock:
        _static_cache[key] = (stamp, static, time.monotonic())
    return static


def prepare(engine: Engine, conversation_id: int) -> Prepared:
    """Render the prompt for one row; a missing parameter fails here, before any API call."""
    with read(engine) as conn:
        row = conv_store.get_row(conn, conversation_id)
        static = _static(engine, conn)
    d = row.dimensions
    template = pick_version(static.templates[d.tier], row.id)  # the active versions share new rows
    prompt = render(template, prompt_values(d, static.catalog, static.examples[d.tier]))
    persona = next(((p.name, p.archetype) for p in static.catalog.personas if p.key == d.persona), None)
    topic = next((x.name for x in static.catalog.topics if x.key == d.topic), None)
    return Prepared(row.id, row.key, prompt, *scoring_terms(d, persona, topic))


# Called inside the transaction that stores the outcome, with (conn, status, error): the runner
# closes its queue item there, so a conversation and its item are written together or not at all.
Finish = Callable[[Connection, str, "str | None"], None]


def generate_one(engine: Engine, conversation_id: int, *, settings: Settings | None = None,
                 provider: Provider | None = None, queue_item_id: int | None = None,
                 finish: Finish | None = None) -> GenerationResult:
    """Generate, validate, score and store one conversation; every attempt is logged.

    Answers that fail validation are regenerated up to `regenerate_attempts` times. Rate limits
    (RateLimited) propagate so a runner can slow down as a whole; other provider errors and
    answers that never validate mark the conversation failed with the reason.
    """
    settings = settings or get_settings()
    provider = provider or make_provider(settings)
    prepared = prepare(engine, conversation_id)
    prices = price_table(settings.price_file)
    attempt_no = 0

    def attempt() -> GenerationResult:
        nonlocal attempt_no
        attempt_no += 1
        return _attempt(engine, prepared, provider, prices, attempt_no, queue_item_id, finish)

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
             queue_item_id: int | None, finish: Finish | None) -> GenerationResult:
    started = time.perf_counter()
    log = {"conversation_id": prepared.conversation_id, "queue_item_id": queue_item_id, "attempt": attempt_no,
           "provider": provider.name, "model": provider.model, "template_name": prepared.prompt.template,
           "template_hash": prepared.prompt.template_hash, "parameters": _logged_parameters(prepared, provider)}
    try:
        answer = provider.generate(prepared.prompt)
    except BrightRunError as exc:
        outcome = "invalid" if isinstance(exc, InvalidAnswer) else "error"
        logger.info("%s attempt %s with %s: %s: %s", prepared.key, attempt_no, provider.model, outcome, exc)
        _log(engine, log, started, outcome=outcome, error=str(exc), stop_reason=getattr(exc, "stop_reason", None))
        raise
    return store_answer(engine, prepared, answer, prices, log, started, batch=False, finish=finish)


def store_answer(engine: Engine, prepared: Prepared, answer: Answer, prices: PriceTable, log: dict,
                 started: float, *, batch: bool, finish: Finish | None = None) -> GenerationResult:
    """Validate, score and save one answer (direct call or batch result) in one transaction."""
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
    return _save(engine, prepared, conversation, log, started, finish)


def _save(engine: Engine, prepared: Prepared, conversation: GeneratedConversation, log: dict,
          started: float, finish: Finish | None) -> GenerationResult:
    quality = score_conversation(conversation.turns, persona_names=prepared.persona_names,
                                 topic_terms=prepared.topic_terms).as_dict()
    log.update(outcome="ok", duration_ms=int((time.perf_counter() - started) * 1000))
    with write(engine) as conn:
        log_id = log_store.insert_log(conn, **log)
        version = conv_store.save_version(
            conn, prepared.conversation_id, conversation.turns, model=log["model"], status="generated",
            quality=quality, template_name=log["template_name"], template_hash=log["template_hash"], log_id=log_id)
        if finish:
            finish(conn, "succeeded", None)
    logger.info("%s: stored version %s (attempt %s, quality %s, $%.4f)", prepared.key, version, log["attempt"],
                quality["score"], log["cost_usd"])
    return GenerationResult(prepared.conversation_id, prepared.key, "generated", version, quality["score"],
                            log["cost_usd"], log["attempt"], log["model"])


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


def _logged_parameters(prepared: Prepared, provider: Provider) -> dict:
    """What was asked (never the key): row parameters and model settings.

    The example conversations are left out: they are the same for every row of a tier and
    the template hash plus the seed keys identify them.
    """
    params = {k: v for k, v in prepared.prompt.parameters.items() if k != "examples"}
    return {**params, "model": provider.model, "max_tokens": getattr(provider, "max_tokens", None)}
