"""Firm knowledge for one planned row: what to search for, what fits the budget, and the prompt block.

Retrieval itself (BM25 over the stored chunks) lives in services/retrieval.py; this module holds
the rules, so they are tested without a store: which words of a row say what it is about and how
much each counts, how pinned and ranked chunks share the token budget, and how the chosen chunks
are written into the prompt as inert data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from brightrun_gen.domain.documents import clean_line, excerpt
from brightrun_gen.domain.models import Catalog, Dimensions

# How a row's parts count when ranking chunks. A chunk is as relevant as the part of the row it
# matches best: the topic says what the conversation is about, a scenario's or edge case's title
# and situation make it concrete (a situation is long, so a smaller share of it matched counts
# the same). The category and the persona only break ties between chunks.
QUERY_WEIGHTS = {"topic": 1.0, "title": 1.0, "situation": 2.0}
TIE_BREAKERS = {"category": 0.1, "persona": 0.1}
# Words of catalog names that say what kind of topic it is, not what it is about ("Estate Planning
# Basics" is about estates): left out of every query, like stop words.
GENERIC_WORDS = frozenset({"basics", "basic", "planning", "habits", "options", "timing", "vs"})


@dataclass(frozen=True)
class KnowledgeBudget:
    """At most `chunks` chunks and `tokens` tokens per row; a chunk must score `min_score` or more."""

    chunks: int = 3
    tokens: int = 900
    min_score: float = 0.24


@dataclass(frozen=True)
class KnowledgeItem:
    """A chunk chosen for a row, in prompt order."""

    id: int
    chunk_id: str
    document: str
    section_heading: str | None
    chunk_text: str
    token_count: int
    score: float | None  # None for a pinned chunk that the search did not rank
    pinned: bool = False

    @property
    def excerpt(self) -> str:
        return excerpt(self.chunk_text)

    def as_source(self) -> dict:
        """How provenance names it: `show --json`'s and the export's `sources` entries."""
        return {"document": self.document, "heading": self.section_heading, "chunk": self.chunk_id,
                "excerpt": self.excerpt}


def row_query(dims: Dimensions, catalog: Catalog) -> dict[str, str]:
    """The words of a row per part (see QUERY_WEIGHTS, TIE_BREAKERS); a part the row lacks is left out."""
    topic = next((x for x in catalog.topics if x.key == dims.topic), None)
    persona = next((p for p in catalog.personas if p.key == dims.persona), None)
    parts = {"topic": topic.name if topic else dims.topic.replace("_", " "), "category": dims.content_category}
    if persona:
        parts["persona"] = persona.archetype
    if dims.scenario:
        scenario = next((s for s in catalog.scenarios if s.key == dims.scenario), None)
        if scenario:
            parts["title"] = scenario.title
            parts["situation"] = f"{scenario.context} {scenario.desired_outcome}"
    if dims.edge_case:
        edge = next((e for e in catalog.edge_cases if e.key == dims.edge_case), None)
        if edge:
            parts["title"] = edge.title
            parts["situation"] = f"{edge.context} {' '.join(edge.stress_factors)} {edge.resolution_strategy}"
    return parts


def choose(ranked: list[KnowledgeItem], pinned: list[KnowledgeItem], budget: KnowledgeBudget) -> list[KnowledgeItem]:
    """Pinned chunks first (always kept), then the best-ranked ones that pass the score and fit.

    A chunk too long for what is left of the budget is passed over for a shorter one further
    down; chunks below `min_score` never come in, so a row the documents do not cover gets none.
    """
    chosen = list(pinned)
    used = sum(item.token_count for item in chosen)
    taken = {item.id for item in chosen}
    for item in ranked:
        if len(chosen) >= max(budget.chunks, len(pinned)):
            break
        if item.id in taken or item.score is None or item.score < budget.min_score:
            continue
        if used + item.token_count > budget.tokens:
            continue
        chosen.append(item)
        used += item.token_count
        taken.add(item.id)
    return chosen


_MARKUP = re.compile(r"^\s{0,3}#{1,6}\s+|\*\*|__|^\s*[*+]\s+", re.MULTILINE)


def knowledge_text(chunk_text: str) -> str:
    """A chunk as the prompt carries it: one line, without Markdown's heading and emphasis marks."""
    return clean_line(_MARKUP.sub(" ", chunk_text))


def knowledge_block(items: list[KnowledgeItem]) -> str | None:
    """The text of the prompt's "Firm knowledge (data)" block, or None when no chunk was chosen.

    The chunks as one JSON list: their newlines, headings and quotes are escaped, so a document
    cannot open a new section of the prompt or pose as an instruction. What the advisor does with
    it is a rule of the shared prompt (prompts/shared.yaml), the same for every row.
    """
    if not items:
        return None
    data = [{"source": item.document, "section": item.section_heading or "", "text": knowledge_text(item.chunk_text)}
            for item in items]
    return json.dumps(data, ensure_ascii=False)
