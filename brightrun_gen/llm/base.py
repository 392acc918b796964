"""The provider protocol: one rendered prompt in, one answer with its usage out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

from pydantic import BaseModel

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
    rate_limits: dict = field(default_factory=dict)  # kind -> domain.ratelimits.Reading, from the answer's headers
    refused: int = 0  # tries of this call the API refused (429/529) before it answered


@dataclass(frozen=True)
class StructuredPrompt:
    """A one-off request for JSON in `schema` (e.g. scenario suggestions), not a conversation.

    `offline_answer` is what the offline provider answers: deterministic, built by the service
    that asks, so the app works the same way without a key.
    """

    name: str
    system: str
    request: str
    schema: type[BaseModel]
    offline_answer: Callable[[], BaseModel]


class Provider(Protocol):
    name: str  # "anthropic" | "offline"
    model: str
    # Who the API counts the calls against (a fingerprint of key and endpoint, never the key), or
    # None when nothing limits the calls (offline): the runner paces calls per account and model.
    account: str | None

    def generate(self, prompt: RenderedPrompt) -> Answer:
        """One call. Raises ProviderError / RateLimited; never an SDK exception."""
        ...

    def count_tokens(self, prompt: RenderedPrompt) -> int:
        ...

    def structured(self, prompt: StructuredPrompt) -> Answer:
        """One request answered as JSON in the prompt's schema; same errors as generate."""
        ...
