"""The provider protocol: one rendered prompt in, one answer with its usage out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from brightrun_gen.domain.pricing import Usage
from brightrun_gen.domain.prompts import RenderedPrompt


@dataclass(frozen=True)
class Answer:
    """The model's raw text plus what the API said about it; validation happens above."""

    text: str
    stop_reason: str | None
    model: str
    usage: Usage = field(default_factory=Usage)
    retries: int = 0


class Provider(Protocol):
    name: str  # "anthropic" | "offline"
    model: str

    def generate(self, prompt: RenderedPrompt) -> Answer:
        """One call. Raises ProviderError / RateLimited; never an SDK exception."""
        ...

    def count_tokens(self, prompt: RenderedPrompt) -> int:
        ...
