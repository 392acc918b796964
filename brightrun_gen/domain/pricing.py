"""Costs from the editable price table (USD per million tokens) and the usage the API returns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from brightrun_gen.errors import InputError


@dataclass(frozen=True)
class Usage:
    """Tokens that model calls used, and their cost: one call's, or the sum over several.

    A provider reports one call's tokens (`calls=1`; the price table sets the cost above it).
    An export sums every attempt logged for a conversation; `calls=0` means none was logged.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0


@dataclass(frozen=True)
class Price:
    input: float
    output: float
    cache_write: float
    cache_read: float


@dataclass(frozen=True)
class PriceTable:
    models: dict[str, Price]
    batch_discount: float = 0.5

    @classmethod
    def load(cls, path: Path) -> "PriceTable":
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            models = {name: Price(**values) for name, values in data["models"].items()}
        except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
            raise InputError(f"price table {path}: cannot be read ({exc}); expected models: {{name: {{input, output, cache_write, cache_read}}}}") from None
        return cls(models=models, batch_discount=float(data.get("batch_discount", 0.5)))

    def price(self, model: str) -> Price:
        if model in self.models:
            return self.models[model]
        # Dated snapshots ("claude-sonnet-5-5-20260901") cost what their alias costs.
        for name, price in self.models.items():
            if model.startswith(name):
                return price
        raise InputError(f"model {model!r} has no price in the price table; add it to seeds/prices.yaml")

    def cost(self, model: str, *, input_tokens: int, output_tokens: int, cache_creation_tokens: int = 0,
             cache_read_tokens: int = 0, batch: bool = False) -> float:
        p = self.price(model)
        total = (input_tokens * p.input + output_tokens * p.output + cache_creation_tokens * p.cache_write
                 + cache_read_tokens * p.cache_read) / 1_000_000
        return round(total * (self.batch_discount if batch else 1.0), 6)
