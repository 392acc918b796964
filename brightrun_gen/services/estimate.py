"""What generating N rows will cost and take, before anything is sent."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import Engine

from brightrun_gen.config import Settings, get_settings
from brightrun_gen.errors import ProviderError
from brightrun_gen.llm.factory import make_provider
from brightrun_gen.services import judging, pacing
from brightrun_gen.services.generation import prepare, price_table
from brightrun_gen.store import logs as log_store

# Used until the log has real attempts with the chosen model.
TYPICAL_INPUT_TOKENS, TYPICAL_OUTPUT_TOKENS = 6000, 2500
TYPICAL_SECONDS_PER_CALL = {"anthropic": 25.0, "offline": 0.2}
# Message Batches usually end within an hour (at most 24 h), whatever the concurrency.
BATCH_SECONDS = 3600.0


@dataclass(frozen=True)
class Estimate:
    count: int
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    seconds: float
    basis: str  # where the figures come from
    paced_by: str | None = None  # the rate limit that decides the time ('180,000 output tokens a minute')
    advice: str | None = None  # why Message Batches would pay, when they would

    def lines(self) -> list[str]:
        """What a confirmation dialog says."""
        cost = "free (offline generator)" if self.provider == "offline" else f"about ${self.cost_usd:,.2f}"
        lines = [f"Estimated cost: {cost}", f"Estimated time: {duration_text(self.seconds)}{self._paced()}"]
        return lines + ([self.advice] if self.advice else [])

    def line(self) -> str:
        line = (f"{self.count} conversation(s) with {self.model}: about ${self.cost_usd:.2f} "
                f"({self.input_tokens:,} input + {self.output_tokens:,} output tokens), "
                f"about {math.ceil(self.seconds / 60)} min{self._paced()}; {self.basis}")
        return line + (f"\n{self.advice}" if self.advice else "")

    def _paced(self) -> str:
        return f" (paced to your rate limit of {self.paced_by})" if self.paced_by else ""


def estimate(engine: Engine, conversation_ids: Sequence[int], *, settings: Settings | None = None,
             provider: str | None = None, model: str | None = None, concurrency: int | None = None,
             batch: bool = False) -> Estimate:
    settings = settings or get_settings()
    chosen = make_provider(settings, provider, model)
    count = len(conversation_ids)
    tokens_in, tokens_out, basis = _tokens_per_call(engine, chosen, conversation_ids)

    def cost_of(in_batch: bool) -> float:
        generating = price_table(settings.price_file).cost(chosen.model, input_tokens=int(tokens_in),
                                                           output_tokens=int(tokens_out), batch=in_batch)
        # The judge's calls are direct, full price, also for a batch job's answers.
        return (generating + judging.expected_judge_cost(engine, settings, chosen)) * count

    cost = cost_of(batch)
    per_call = log_store.average_duration(engine, chosen.model) or TYPICAL_SECONDS_PER_CALL[chosen.name]
    seconds = BATCH_SECONDS if batch else math.ceil(count / max(1, concurrency or settings.concurrency)) * per_call
    paced = None if batch else pacing.time_at_limits(engine, getattr(chosen, "account", None), chosen.model, count)
    if paced and paced.seconds > seconds:
        seconds = paced.seconds
    else:
        paced = None
    return Estimate(count, chosen.name, chosen.model, int(tokens_in * count), int(tokens_out * count),
                    round(cost, 4), seconds, basis, paced_by=paced.limit if paced else None,
                    advice=_advice(settings, paced, cost_of(True) if paced else 0.0))


def batch_advice(engine: Engine, settings: Settings, count: int, *, provider: str | None = None,
                 model: str | None = None) -> str | None:
    """Why Message Batches would pay for `count` direct calls, when the known rate limit makes them slow."""
    chosen = make_provider(settings, provider, model)
    return _advice(settings, pacing.time_at_limits(engine, getattr(chosen, "account", None), chosen.model, count))


def _advice(settings: Settings, paced: pacing.LimitTime | None, batch_cost: float = 0.0) -> str | None:
    if paced is None or paced.seconds <= settings.batch_suggest_minutes * 60:
        return None
    price = f" (about ${batch_cost:,.2f} in all)" if batch_cost else ""
    return (f"Consider Message Batches: at your rate limit of {paced.limit} this job needs "
            f"{duration_text(paced.seconds)}, more than {settings.batch_suggest_minutes:g} min. A batch is billed at "
            f"half price{price}, is not held to that limit and usually ends within an hour.")


def _tokens_per_call(engine: Engine, provider, conversation_ids: Sequence[int]) -> tuple[float, float, str]:
    averages = log_store.average_usage(engine, provider.model)
    if averages:
        return averages[0], averages[1], f"average of earlier {provider.model} attempts"
    if not conversation_ids:
        return 0, 0, "nothing selected"
    try:
        counted = provider.count_tokens(prepare(engine, conversation_ids[0]).prompt)
    except ProviderError:
        return TYPICAL_INPUT_TOKENS, TYPICAL_OUTPUT_TOKENS, "typical size of a conversation (token counting was unavailable)"
    return counted, TYPICAL_OUTPUT_TOKENS, f"token count of one prompt, {TYPICAL_OUTPUT_TOKENS} output tokens assumed"


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"about {hours} h {rest} min" if rest else f"about {hours} h"
