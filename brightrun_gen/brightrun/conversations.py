"""Planned, generated and seed conversations: find, list, show, filter, import."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from brightrun_gen.brightrun.noun import Noun
from brightrun_gen.services import browse, dashboard, importing, insights, prompting


class Conversations(Noun):
    """Planned, generated and seed conversations: find, list, show, filter, import."""

    def find_id(self, key_or_id: str | int) -> int:
        return browse.find_id(self.engine, key_or_id)

    def list(self, *, where: dict | None = None, statuses: Sequence[str] = (), persona_text: str = ""):
        return browse.list_conversations(self.engine, where=where, statuses=statuses, persona_text=persona_text)

    def detail(self, key_or_id: str | int, version: int | None = None):
        return browse.conversation_detail(self.engine, key_or_id, version)

    def as_json(self, key_or_id: str | int) -> dict:
        return browse.conversation_json(self.engine, key_or_id)

    def with_annotations(self, key_or_id: str | int):
        return insights.conversation_with_annotations(self.engine, key_or_id)

    def status_counts(self) -> dict[str, int]:
        return browse.status_counts(self.engine)

    def filter_options(self) -> dict[str, list]:
        return browse.filter_options(self.engine)

    def filter_choices(self) -> dashboard.FilterChoices:
        return dashboard.filter_choices(self.engine)

    def dashboard(self, filters: dict) -> dashboard.DashboardData:
        return dashboard.load_dashboard(self.engine, filters)

    def preview(self, key: str, *, job_running: bool = False) -> dashboard.Preview:
        return dashboard.preview(self.engine, key, job_running=job_running)

    def import_files(self, paths: Iterable[str | Path]) -> list[importing.ImportResult]:
        return importing.import_paths(self.engine, paths)

    def prompt(self, key_or_id: str | int) -> prompting.PromptView:
        """The exact prompt this conversation would be sent now, with its examples and size."""
        return prompting.prompt_view(self.engine, key_or_id, self.app.settings)
