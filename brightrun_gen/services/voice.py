"""The firm's voice: measure it from real conversations, store it, and the limits it implies."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from sqlalchemy import Engine

from brightrun_gen.config import Settings
from brightrun_gen.domain.quality import SPEC_WORD_LIMITS, Rule, WordLimits, rules_with
from brightrun_gen.domain.seedfiles import parse_seed_file
from brightrun_gen.domain.voice import VoiceProfile, VoiceSample, firm_word_limits, measure_voice
from brightrun_gen.errors import BrightRunError, InputError
from brightrun_gen.services.importing import expand_paths
from brightrun_gen.store import catalog_repo, plan_rows, voice as voice_store
from brightrun_gen.store.db import read, write

logger = logging.getLogger(__name__)

WORD_LIMITS = ("spec", "firm")


@dataclass(frozen=True)
class VoiceReport:
    profile: VoiceProfile
    source: str
    stored: bool  # False when the newest stored profile was already this one


def derive_voice(engine: Engine, paths: Iterable[str | Path] | None = None) -> VoiceReport:
    """Measure the voice from seed files (`paths`) or, without them, from the firm's imported
    conversations in the store, and keep it as the voice every prompt uses."""
    if paths:
        samples, source = _samples_from_files(engine, paths)
    else:
        samples, source = _samples_from_store(engine)
    if not samples:
        raise InputError("no real conversations to measure: import the firm's seed files first "
                         "(`brightrun import-seeds PATH`) or give them with `brightrun voice --from PATH`")
    profile = measure_voice(samples)
    with write(engine) as conn:
        stored = voice_store.save_voice(conn, profile, source)
    logger.info("voice profile from %s (%s)", source, "stored" if stored else "unchanged")
    return VoiceReport(profile, source, stored)


def current_voice(engine: Engine) -> tuple[VoiceProfile, str] | None:
    with read(engine) as conn:
        return voice_store.active_voice(conn)


def word_limits(settings: Settings, voice: VoiceProfile | None) -> WordLimits:
    """The word limits in force: the spec's by default, the firm's when the setting asks for them."""
    if settings.word_limits == "spec":
        return SPEC_WORD_LIMITS
    if voice is None:
        raise InputError("BRIGHTRUN_WORD_LIMITS=firm needs the firm's voice profile: run `brightrun voice` first")
    return firm_word_limits(voice)


def quality_rules(settings: Settings, voice: VoiceProfile | None) -> tuple[Rule, ...]:
    """The rule table that both the prompt and the scorer use."""
    return rules_with(word_limits(settings, voice))


def _samples_from_files(engine: Engine, paths) -> tuple[list[VoiceSample], str]:
    files = expand_paths(paths)
    names = _persona_names(engine)
    samples = []
    for path in files:
        try:
            records = parse_seed_file(path)
        except BrightRunError as exc:
            raise InputError(str(exc)) from None
        for r in records:
            client = (r.metadata.get("persona") or {}).get("name") if isinstance(r.metadata.get("persona"), dict) else None
            samples.append(VoiceSample(r.key, [(t.role, t.content) for t in r.turns],
                                       [n for n in (client, names.get(r.dimensions.persona)) if n]))
    return samples, f"{len(files)} file(s): {', '.join(p.name for p in files)}"


def _samples_from_store(engine: Engine) -> tuple[list[VoiceSample], str]:
    names = _persona_names(engine)
    with read(engine) as conn:
        real = [p for p in plan_rows.example_pool(conn, include_approved=False) if p.console]
    samples = [VoiceSample(p.key, p.turns, [n for n in [names.get(p.dimensions.persona)] if n]) for p in real]
    return samples, f"{len(real)} imported real conversation(s): {', '.join(p.key for p in real)}"


def _persona_names(engine: Engine) -> dict[str, str]:
    return {p["key"]: p["name"] for p in catalog_repo.list_section(engine, "personas")}
