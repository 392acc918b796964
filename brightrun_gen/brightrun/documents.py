"""The firm's own documents and the knowledge they give each row."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from brightrun_gen.brightrun.noun import Noun
from brightrun_gen.services import browse, documents as documents_service, knowledge, suggestions, upstream


class Documents(Noun):
    """The firm's own documents: import, chunks, knowledge per row, provenance, scenario suggestions."""

    summary = staticmethod(documents_service.summary)
    CHOICES = ("pinned", "removed")

    def import_files(self, paths: Iterable[str | Path], category: str | None = None):
        """Files or folders (Markdown, text, HTML, PDF, DOCX); one result per file, never raises for bad input."""
        return documents_service.import_paths(self.engine, paths, self.app.settings, category=category)

    def import_upload(self, name: str, data: bytes, category: str | None = None):
        return documents_service.import_bytes(self.engine, name, data, self.app.settings, category=category)

    def import_chunks(self, *, database_url: str | None = None, csv: str | Path | None = None,
                      schema: str | None = None):
        """The upstream stage's chunks, read-only from its database (or the setting), or from a CSV."""
        if csv is not None:
            return upstream.import_from_csv(self.engine, csv)
        return upstream.import_from_database(self.engine, self.app.settings, database_url, schema)

    def list(self):
        return documents_service.list_documents(self.engine)

    def chunks(self, document_id: int | None = None, *, unused_only: bool = False):
        """Chunks with how many conversations each grounded (of one document, or every unused one)."""
        return documents_service.chunk_uses(self.engine, document_id, unused_only=unused_only)

    def chunk(self, chunk_row_id: int):
        """One chunk in full: pages, section, and the upstream stage's dimensions (key terms, confidence...)."""
        return documents_service.chunk_detail(self.engine, chunk_row_id)

    def grounded_count(self) -> int:
        """Conversations with a version grounded in the firm's documents."""
        return knowledge.grounded_count(self.engine)

    def for_row(self, key_or_id: str | int):
        """The knowledge a row's prompt gets: chosen chunks, ranked candidates, removed ones."""
        return knowledge.for_row(self.engine, key_or_id, self.app.settings)

    def choose(self, key_or_id: str | int, chunk_row_id: int, choice: str | None) -> None:
        """Pin a chunk to a row ("pinned"), keep it out ("removed"), or leave it to retrieval (None)."""
        knowledge.set_choice(self.engine, key_or_id, chunk_row_id, choice)

    def knowledge_block(self, key_or_id: str | int) -> str | None:
        """The row's "firm knowledge (data)" prompt block, or None when the documents do not cover it."""
        return knowledge.knowledge_block(self.engine, browse.find_id(self.engine, key_or_id), self.app.settings)

    def sources(self, key_or_id: str | int, version: int | None = None) -> list[dict]:
        """Which chunks grounded a version (default: the current one)."""
        return knowledge.sources(self.engine, key_or_id, version)

    def suggest_scenarios(self, chunk_row_ids: Sequence[int], *, provider: str | None = None):
        """Tier-2 scenarios drawn from these chunks (Claude, or the offline provider); (stored, problems)."""
        chosen = self.app.provider_factory(provider or self.app.settings.effective_provider, self.app.settings.model)
        return suggestions.suggest(self.engine, chosen, chunk_row_ids)

    def suggestions(self, statuses: Sequence[str] = ()):
        return suggestions.list_suggestions(self.engine, statuses)

    def accept_scenario(self, key: str):
        return suggestions.accept(self.engine, key)

    def dismiss_scenario(self, key: str) -> None:
        suggestions.dismiss(self.engine, key)

    def add_plan_rows(self) -> list[str]:
        """Plan rows for accepted scenarios that have none yet (one per persona each fits)."""
        return suggestions.add_plan_rows(self.engine)
