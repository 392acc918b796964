"""Choosing the provider from settings: Claude with a key, the offline generator without."""

from __future__ import annotations

import importlib

from brightrun_gen.config import PROVIDERS, Settings
from brightrun_gen.errors import InputError
from brightrun_gen.llm.base import Provider
from brightrun_gen.llm.offline import OfflineProvider
from brightrun_gen.llm.offline_judge import OfflineJudge

ANTHROPIC_MODULE = "brightrun_gen.llm.anthropic_provider"


def preload_provider(settings: Settings) -> None:
    """Import the configured provider's SDK now, so that the first job does not have to.

    Importing `anthropic` takes a second or more of pure Python holding the GIL; a long-running
    runner does it once on its own thread at start rather than in the middle of page runs. The
    CLI does not call this: commands that never generate must not pay for the SDK.
    """
    if settings.effective_provider == "anthropic":
        importlib.import_module(ANTHROPIC_MODULE)


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


def make_judge(settings: Settings, provider_name: str) -> Provider | None:
    """The judge for conversations written by `provider_name`: Claude's own judge model, the offline
    judge for offline text, or None when judging is off."""
    if not settings.judge:
        return None
    if provider_name == "offline":
        return OfflineJudge()
    if not settings.api_key:
        raise InputError("the judge needs ANTHROPIC_API_KEY, or set BRIGHTRUN_JUDGE=false")
    from brightrun_gen.llm.anthropic_judge import AnthropicJudge
    from brightrun_gen.llm.anthropic_provider import AnthropicSettings

    return AnthropicJudge(AnthropicSettings(
        api_key=settings.api_key,
        model=settings.judge_model,
        max_tokens=settings.judge_max_tokens,
        timeout=settings.request_timeout,
        max_retries=settings.sdk_max_retries,
        base_url=settings.anthropic_base_url,
    ))
