"""What generating N rows will cost and take, before anything is sent."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import Engine

from brightrun_gen.config import Settings, get_settings
from brightrun_gen.llm.factory import make_provider
from brightrun_gen.services.generation import prepare, price_table
from brightrun_gen.store import logs as log_store

# Used until the log has real attempts with the chosen model.
ASSUMED_OUTPUT_TOKENS = 2500
ASSUMED_SECONDS_PER_CALL = 30.0


@dataclass(frozen=True)
class Estimate:
    count: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    seconds: float
    basis: str  # where the figures come from

    def line(self) -> str:
        minutes = self.seconds / 60
        return (f"{self.count} conversation(s): about ${self.cost_usd:.2f} ({self.input_tokens:,} input + "
                f"{self.output_tokens:,} output tokens), about {minutes:.0f} min; {self.basis}")


def estimate(engine: Engine, conversation_ids: Sequence[int], *, settings: Settings | None = None,
             provider: str | None = None, model: str | None = None, concurrency: int | None = None,
             batch: bool = False) -> Estimate:
    settings = settings or get_settings()
    chosen = make_provider(settings, provider, model)
    count = len(conversation_ids)
    per_call = log_store.average_duration(engine, chosen.model) or ASSUMED_SECONDS_PER_CALL
    seconds = math.ceil(count / max(1, concurrency or settings.concurrency)) * per_call
    averages = log_store.average_usage(engine, chosen.model)
    prices = price_table(settings.price_file)
    if averages:
        tokens_in, tokens_out, _ = averages
        basis = f"average of earlier {chosen.model} attempts"
    elif count:
        tokens_in = chosen.count_tokens(prepare(engine, conversation_ids[0]).prompt)
        tokens_out = ASSUMED_OUTPUT_TOKENS
        basis = f"token count of one prompt, {ASSUMED_OUTPUT_TOKENS} output tokens assumed"
    else:
        tokens_in = tokens_out = 0
        basis = "nothing selected"
    cost = prices.cost(chosen.model, input_tokens=int(tokens_in), output_tokens=int(tokens_out), batch=batch) * count
    return Estimate(count, int(tokens_in * count), int(tokens_out * count), round(cost, 4), seconds, basis)
