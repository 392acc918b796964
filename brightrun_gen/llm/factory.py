"""Choosing the provider from settings: Claude with a key, the offline generator without."""

from __future__ import annotations

from brightrun_gen.config import Settings
from brightrun_gen.errors import InputError
from brightrun_gen.llm.base import Provider
from brightrun_gen.llm.offline import OfflineProvider

PROVIDERS = ("anthropic", "offline")


def make_provider(settings: Settings, name: str | None = None, model: str | None = None) -> Provider:
    name = name or settings.effective_provider
    if name == "offline":
        return OfflineProvider()
    if name != "anthropic":
        raise InputError(f"provider {name!r} is unknown; use one of {', '.join(PROVIDERS)}")
    if not settings.api_key:
        raise InputError("provider 'anthropic' needs ANTHROPIC_API_KEY (environment or .streamlit/secrets.toml)")
    from brightrun_gen.llm.anthropic_provider import AnthropicProvider, AnthropicSettings

    return AnthropicProvider(AnthropicSettings(
        api_key=settings.api_key,
        model=model or settings.model,
        max_tokens=settings.max_tokens,
        timeout=settings.request_timeout,
        max_retries=settings.sdk_max_retries,
        base_url=settings.anthropic_base_url,
    ))
