"""What generating N rows will cost and take, before anything is sent."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import Engine

from brightrun_gen.config import Settings, get_settings
from brightrun_gen.errors import ProviderError
from brightrun_gen.llm.factory import make_provider
from brightrun_gen.services import judging
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

    def lines(self) -> list[str]:
        """What a confirmation dialog says."""
        cost = "free (offline generator)" if self.provider == "offline" else f"about ${self.cost_usd:,.2f}"
        return [f"Estimated cost: {cost}", f"Estimated time: {duration_text(self.seconds)}"]

    def line(self) -> str:
        return (f"{self.count} conversation(s) with {self.model}: about ${self.cost_usd:.2f} "
                f"({self.input_tokens:,} input + {self.output_tokens:,} output tokens), "
                f"about {math.ceil(self.seconds / 60)} min; {self.basis}")


def estimate(engine: Engine, conversation_ids: Sequence[int], *, settings: Settings | None = None,
             provider: str | None = None, model: str | None = None, concurrency: int | None = None,
             batch: bool = False) -> Estimate:
    settings = settings or get_settings()
    chosen = make_provider(settings, provider, model)
    count = len(conversation_ids)
    tokens_in, tokens_out, basis = _tokens_per_call(engine, chosen, conversation_ids)
    cost = price_table(settings.price_file).cost(chosen.model, input_tokens=int(tokens_in),
                                                 output_tokens=int(tokens_out), batch=batch) * count
    cost += judging.expected_judge_cost(engine, settings, chosen) * count  # the judge's calls are direct, full price
    per_call = log_store.average_duration(engine, chosen.model) or TYPICAL_SECONDS_PER_CALL[chosen.name]
    seconds = BATCH_SECONDS if batch else math.ceil(count / max(1, concurrency or settings.concurrency)) * per_call
    return Estimate(count, chosen.name, chosen.model, int(tokens_in * count), int(tokens_out * count),
                    round(cost, 4), seconds, basis)


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
