"""Suggest scenarios: Claude (or the offline provider) proposes Tier-2 scenarios from chosen chunks;
accepted ones join the catalog (stored, never overwritten by `init`) and can add plan rows."""

from __future__ import annotations

import logging
from typing import Sequence

from pydantic import ValidationError
from sqlalchemy import Engine

from brightrun_gen.domain import suggestions as rules
from brightrun_gen.domain.documents import clean_line
from brightrun_gen.domain.suggestions import ScenarioSuggestion, ScenarioSuggestions
from brightrun_gen.errors import InputError, InvalidAnswer
from brightrun_gen.llm.base import Provider, StructuredPrompt
from brightrun_gen.services import retrieval
from brightrun_gen.store import conversations as conv_store, documents as doc_store, knowledge as knowledge_store
from brightrun_gen.store.db import read, write
from brightrun_gen.store.knowledge import StoredSuggestion

logger = logging.getLogger(__name__)


def suggest(engine: Engine, provider: Provider, chunk_row_ids: Sequence[int],
            count: int = rules.MAX_SUGGESTIONS) -> tuple[list[StoredSuggestion], list[str]]:
    """Ask for scenarios drawn from these chunks; store the usable ones. Returns (stored, problems)."""
    if not chunk_row_ids:
        raise InputError("choose at least one chunk to suggest scenarios from")
    with read(engine) as conn:
        chunks = doc_store.searchable_chunks(conn, chunk_row_ids)
        catalog = retrieval.catalog_for(engine, conn)
    data = [{"chunk_id": c.chunk_id, "document": c.document, "section": c.section_heading or "",
             "text": clean_line(c.chunk_text)} for c in chunks]
    prompt = StructuredPrompt(name="scenario_suggestions", system=rules.SYSTEM,
                              request=rules.suggestion_request(data, catalog, count), schema=ScenarioSuggestions,
                              offline_answer=lambda: rules.offline_suggestions(data, catalog, count))
    answer = provider.structured(prompt)
    try:
        found = ScenarioSuggestions.model_validate_json(answer.text).scenarios
    except ValidationError as exc:
        raise InvalidAnswer(f"the scenario suggestions are not in the expected shape: {exc.errors()[0]['msg']}") from None
    problems, entries = [], []
    given = {c.chunk_id for c in chunks}
    with write(engine) as conn:
        number = knowledge_store.next_suggestion_number(conn)
        for suggestion in found:
            problem = rules.catalog_problem(suggestion, catalog, given)
            if problem:
                problems.append(f"suggestion {suggestion.title!r} left out: {problem}")
                continue
            entries.append((f"{rules.KEY_PREFIX}{number:03d}", suggestion.title, suggestion.model_dump()))
            number += 1
        knowledge_store.add_suggestions(conn, entries)
    logger.info("%s suggested %d scenarios from %d chunks (%d left out)", answer.model, len(entries), len(chunks),
                len(problems))
    stored = {s.key: s for s in knowledge_store.list_suggestions(engine)}
    return [stored[key] for key, _, _ in entries], problems


def accept(engine: Engine, key: str) -> StoredSuggestion:
    """Put a suggested scenario into the catalog (its key never clashes with the catalog files')."""
    with write(engine) as conn:
        found = knowledge_store.get_suggestion(conn, key)
        suggestion = ScenarioSuggestion.model_validate(found.data)
        knowledge_store.add_catalog_scenario(conn, rules.as_scenario(key, suggestion))
        knowledge_store.set_suggestion_status(conn, key, "accepted")
    logger.info("scenario %s accepted into the catalog: %s", key, found.title)
    return knowledge_store.get_suggestion_by_key(engine, key)


def dismiss(engine: Engine, key: str) -> None:
    with write(engine) as conn:
        if knowledge_store.get_suggestion(conn, key).status == "accepted":
            raise InputError(f"scenario {key} is already in the catalog")
        knowledge_store.set_suggestion_status(conn, key, "dismissed")


def add_plan_rows(engine: Engine) -> list[str]:
    """Plan rows (one per persona) for every accepted scenario that has none yet; their keys."""
    accepted = knowledge_store.list_suggestions(engine, ["accepted"])
    with read(engine) as conn:
        catalog = retrieval.catalog_for(engine, conn)
    rows = [row for s in accepted for row in rules.plan_rows(s.key, ScenarioSuggestion.model_validate(s.data), catalog)]
    with write(engine) as conn:
        taken = conv_store.existing_keys(conn, [row.key for row in rows])
        new_rows = [row for row in rows if row.key not in taken]
        for row in new_rows:
            conv_store.insert_conversation(conn, row.key, row.dimensions, source="plan", status="not_generated")
    logger.info("added %d plan rows for %d accepted scenarios", len(new_rows), len(accepted))
    return [row.key for row in new_rows]


def list_suggestions(engine: Engine, statuses: Sequence[str] = ()) -> list[StoredSuggestion]:
    return knowledge_store.list_suggestions(engine, statuses)
