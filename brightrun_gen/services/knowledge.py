"""Firm knowledge per row: the preview, pins and removals, the prompt block, and provenance.

`knowledge_block(engine, conversation_id)` is what the prompt assembly calls to ground a row;
`record_grounding(...)` is what generation calls when it stores a version: it records exactly
the chunks that the version's prompt carried, found by reading the block back from the prompt,
so provenance never claims a chunk the model did not see.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy import Connection, Engine

from brightrun_gen.config import Settings, get_settings
from brightrun_gen.domain.knowledge import KnowledgeBudget, KnowledgeItem, knowledge_block as render_block, knowledge_text
from brightrun_gen.domain.prompts import RenderedPrompt
from brightrun_gen.errors import InputError
from brightrun_gen.services import retrieval
from brightrun_gen.services.retrieval import RowKnowledge
from brightrun_gen.store import conversations as conv_store, knowledge as knowledge_store
from brightrun_gen.store.db import read, write

logger = logging.getLogger(__name__)

DATA_MARKER = "Firm knowledge (data): "


def budget(settings: Settings | None = None) -> KnowledgeBudget:
    settings = settings or get_settings()
    return KnowledgeBudget(chunks=settings.knowledge_chunks, tokens=settings.knowledge_tokens,
                           min_score=settings.knowledge_min_score)


def for_row(engine: Engine, key_or_id: str | int, settings: Settings | None = None) -> RowKnowledge:
    """What the row's prompt gets (chosen), what else ranked (candidates) and what was removed."""
    with read(engine) as conn:
        cid = conv_store.find_id(conn, key_or_id)
        return retrieval.for_row(engine, cid, budget(settings), conn)


def knowledge_block(engine: Engine, conversation_id: int, settings: Settings | None = None,
                    conn: Connection | None = None) -> str | None:
    """The row's "firm knowledge (data)" block for the prompt, or None when no chunk fits it."""
    if conn is None:
        with read(engine) as own:
            return knowledge_block(engine, conversation_id, settings, own)
    found = retrieval.for_row(engine, conversation_id, budget(settings), conn)
    return render_block(found.chosen)


def set_choice(engine: Engine, key_or_id: str | int, chunk_row_id: int, choice: str | None) -> None:
    """Pin a chunk to a row, remove it from the row, or (None) let retrieval decide again."""
    if choice not in (*knowledge_store.CHOICES, None):
        raise InputError(f"choice {choice!r}: use one of {', '.join(knowledge_store.CHOICES)} (or none)")
    with write(engine) as conn:
        cid = conv_store.find_id(conn, key_or_id)
        knowledge_store.set_choice(conn, cid, chunk_row_id, choice)
    logger.info("conversation %s: chunk %s %s", key_or_id, chunk_row_id, choice or "left to retrieval")


def knowledge_in_prompt(prompt: RenderedPrompt) -> list[dict]:
    """The knowledge entries a rendered prompt carries ([] when it has no firm-knowledge block)."""
    for section in (prompt.system, prompt.context, prompt.request):
        at = section.find(DATA_MARKER)
        if at < 0:
            continue
        try:
            entries, _ = json.JSONDecoder().raw_decode(section, at + len(DATA_MARKER))
        except json.JSONDecodeError:
            logger.warning("prompt %s: the firm-knowledge block is not readable JSON", prompt.template)
            return []
        return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
    return []


def record_grounding(engine: Engine, conn: Connection, conversation_id: int, version: int,
                     prompt: RenderedPrompt) -> list[KnowledgeItem]:
    """Store which chunks grounded a version: those whose text its prompt carried, in prompt order.

    Called by generation in the transaction that stores the version. Chunks are matched by text
    among the row's pinned and ranked ones; one that cannot be matched (its document was
    re-imported in between) is logged and left out rather than guessed.
    """
    entries = knowledge_in_prompt(prompt)
    if not entries:
        return []
    found = retrieval.for_row(engine, conversation_id, budget(), conn, candidates=100)
    by_text = {knowledge_text(item.chunk_text): item for item in [*found.chosen, *found.candidates]}
    items = []
    for entry in entries:
        item = by_text.get(str(entry.get("text", "")))
        if item is None:
            logger.warning("%s v%s: a knowledge entry from %r matches no stored chunk", found.key, version,
                           entry.get("source"))
            continue
        items.append(item)
    knowledge_store.save_sources(conn, conversation_id, version, items)
    logger.info("%s v%s grounded in %s", found.key, version, ", ".join(i.chunk_id for i in items) or "nothing")
    return items


def sources(engine: Engine, key_or_id: str | int, version: int | None = None) -> list[dict]:
    """Provenance of a version (default: the current one): [{document, heading, chunk, excerpt, pinned}]."""
    with read(engine) as conn:
        cid = conv_store.find_id(conn, key_or_id)
        wanted = version if version is not None else conv_store.get_row(conn, cid).current_version
        return knowledge_store.sources(conn, [cid], {cid: wanted}).get(cid, [])


def grounded_count(engine: Engine) -> int:
    return knowledge_store.grounded_count(engine)
