"""The content judge on Claude: the same client, errors and usage as generation, its own schema."""

from __future__ import annotations

import anthropic

from brightrun_gen.domain.prompts import RenderedPrompt
from brightrun_gen.domain.verdicts import verdict_schema
from brightrun_gen.llm.anthropic_provider import AnthropicProvider, request_params

_VERDICT_SCHEMA = anthropic.transform_schema(verdict_schema())


class AnthropicJudge(AnthropicProvider):
    """Answers a judge prompt with a `Verdict` as structured output."""

    def request_params(self, prompt: RenderedPrompt) -> dict:
        params = request_params(prompt, self.model, self.max_tokens)
        params["output_config"] = {"format": {"type": "json_schema", "schema": _VERDICT_SCHEMA}}
        return params
