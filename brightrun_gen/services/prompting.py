"""See the exact prompt of a row: what would be sent, which examples, how much the cache serves."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from brightrun_gen.config import Settings, get_settings
from brightrun_gen.domain.prompts import MIN_CACHEABLE_TOKENS, PromptSize, prompt_size
from brightrun_gen.services import browse
from brightrun_gen.services.generation import prepare


@dataclass(frozen=True)
class PromptView:
    key: str
    template: str
    template_hash: str
    system: str
    context: str
    request: str
    examples: list[dict]  # key, title, origin, estimated tokens
    size: PromptSize

    def as_dict(self) -> dict:
        return {
            "key": self.key, "template": self.template, "template_hash": self.template_hash,
            "system": self.system, "context": self.context, "request": self.request, "examples": self.examples,
            "estimated_tokens": {"system": self.size.system, "context": self.size.context,
                                 "request": self.size.request, "total": self.size.total,
                                 "cacheable": self.size.cacheable},
            "cacheable_share": round(self.size.cacheable_share, 3),
        }

    def summary(self) -> list[str]:
        """How the prompt is built, as lines for a person."""
        s = self.size
        cached = (f"{s.cacheable_share:.0%} of it ({s.cacheable} tokens: system and examples) can be read from the "
                  "prompt cache" if s.cacheable else
                  f"the system and examples ({s.system + s.context} tokens) are under the {MIN_CACHEABLE_TOKENS}-token "
                  "minimum the cache needs")
        return [f"{self.key}: template {self.template} ({self.template_hash[:12]}), about {s.total} tokens; {cached}",
                *[f"example {e['key']} ({e['origin']}, ~{e['tokens']} tokens): {e['title']}" for e in self.examples]]


def prompt_view(engine: Engine, key_or_id: str | int, settings: Settings | None = None) -> PromptView:
    """The prompt a row would be sent now, with its examples and estimated size."""
    prepared = prepare(engine, browse.find_id(engine, key_or_id), settings=settings or get_settings())
    prompt = prepared.prompt
    examples = [{"key": e.key, "title": e.title, "origin": e.origin, "tokens": e.tokens} for e in prepared.examples]
    return PromptView(prepared.key, prompt.template, prompt.template_hash, prompt.system, prompt.context,
                      prompt.request, examples, prompt_size(prompt))
