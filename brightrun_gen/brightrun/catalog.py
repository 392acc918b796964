"""Personas, emotions, arcs, scenarios, topics, templates, seeds and the firm's voice."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from brightrun_gen.brightrun.noun import Noun
from brightrun_gen.services import browse, generation, insights, templates, voice


class Catalog(Noun):
    """Personas, emotions, arcs, scenarios, edge cases, topics, templates and seeds; template versions' activation."""

    SECTIONS = insights.CATALOG_SECTIONS

    def table(self, section: str, search: str = ""):
        return insights.catalog_table(self.engine, section, search)

    def entries(self, section: str) -> list[dict]:
        return insights.catalog_entries(self.engine, section)

    def entry(self, section: str, key: str) -> dict:
        return insights.catalog_entry(self.engine, section, key)

    def templates(self, search: str = ""):
        return insights.template_table(self.engine, search)

    def seeds(self, search: str = ""):
        return insights.seed_table(self.engine, search)

    def persona_labels(self) -> dict[str, str]:
        return browse.persona_labels(self.engine)

    def voice(self) -> tuple | None:
        """The firm's voice profile in use and what it was measured from, or None before the first."""
        return voice.current_voice(self.engine)

    def measure_voice(self, paths: Iterable[str | Path] | None = None) -> voice.VoiceReport:
        """Measure the voice from seed files, or from the firm's imported conversations, and keep it."""
        report = voice.derive_voice(self.engine, paths)
        generation.forget_static(self.engine)  # the next prompt built here speaks with the new voice
        return report

    def activate_template(self, template_id: int, *, share: int = 100, only: bool = True) -> str:
        """Make a template version active, alone in its tier or with a share of new rows; returns the sentence."""
        return templates.activate(self.engine, template_id, share=share, only=only)

    def deactivate_template(self, template_id: int) -> str:
        return templates.deactivate(self.engine, template_id)
