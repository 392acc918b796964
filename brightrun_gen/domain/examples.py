"""Choosing each row's example conversations: the closest first, never its own story, rotated.

The pool is our seed conversations, the firm's imported real conversations and (opt-in) approved
ones. A candidate is closer when it shares the row's storyline (arc or edge case), the start
emotion, the persona or the subject; it is left out when it tells the row's own story (the same
scenario or edge case, or the same persona on the same topic). Among candidates about as close
as the best, the row's number rotates the choice, so no one set of examples dominates a plan; a
second example comes from the other kind (ours or the firm's real ones) so every prompt shows the
firm's voice when there is a real conversation to show. Examples are trimmed to a token budget.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from typing import Sequence

from brightrun_gen.domain.models import Catalog, Dimensions

# Candidates within this many points of the best are equally good; rotation picks among them.
CLOSENESS_BAND = 2
# Fewer turns than this is no longer an example of a conversation.
MIN_EXAMPLE_TURNS = 4
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class Example:
    """A conversation that can be shown as an example, with what it is about."""

    key: str
    title: str
    origin: str  # seed (ours) | real (the firm's imported conversations) | approved
    dimensions: Dimensions
    turns: tuple[tuple[str, str], ...]  # (role, text)
    topic: str | None = None  # the catalog topic it is about, when one matches

    @property
    def tokens(self) -> int:
        return math.ceil(len(json.dumps(example_data(self), ensure_ascii=False)) / 4)


SPEAKERS = {"user": "client", "assistant": "advisor"}


def example_data(example: Example) -> dict:
    """How an example appears in the prompt: what it is about and its turns, speaker before text."""
    return {"about": example.title, "example": example.key,
            "turns": [{"speaker": SPEAKERS.get(role, role), "text": text} for role, text in example.turns]}


def match_topic(text: str, catalog: Catalog) -> str | None:
    """The catalog topic a free-text subject ('home_buying_fear') is about, by shared words."""
    words = set(re.findall(r"[a-z0-9]+", text.lower()))
    best, best_score = None, 0
    for topic in catalog.topics:
        topic_words = set(re.findall(r"[a-z0-9]+", f"{topic.key} {topic.name}".lower())) - {"and", "vs", "the", "a"}
        score = len(words & topic_words)
        if score > best_score:
            best, best_score = topic.key, score
    return best


def choose_examples(row_key: str, dims: Dimensions, pool: Sequence[Example], catalog: Catalog, *,
                    count: int = 2, budget_tokens: int = 5000) -> list[Example]:
    """The examples for one row, closest first, rotated by the row's number, within the budget."""
    candidates = [e for e in pool if not tells_same_story(e, dims)]
    if not candidates or count <= 0:
        return []
    emotions = {e.key: e for e in catalog.emotions}
    topics = {t.key: t for t in catalog.topics}
    scored = sorted(candidates, key=lambda e: (-closeness(e, dims, emotions, topics), e.key))
    turn = _row_number(row_key)
    chosen = [_rotated(scored, dims, emotions, topics, turn)]
    while len(chosen) < count:
        rest = [e for e in scored if e not in chosen]
        other = [e for e in rest if (e.origin == "real") != (chosen[0].origin == "real")]
        pick_from = other or rest
        if not pick_from:
            break
        chosen.append(_rotated(pick_from, dims, emotions, topics, turn // 2 + len(chosen)))
    return _within_budget(chosen, budget_tokens)


def tells_same_story(example: Example, dims: Dimensions) -> bool:
    """Whether an example is about the row's own scenario, edge case, or persona and topic."""
    d = example.dimensions
    if dims.scenario and d.scenario == dims.scenario:
        return True
    if dims.edge_case and d.edge_case == dims.edge_case:
        return True
    return d.persona == dims.persona and (example.topic or d.topic) == dims.topic


def closeness(example: Example, dims: Dimensions, emotions: dict, topics: dict) -> int:
    """Points for what the example shares with the row: storyline first, then feeling, then subject."""
    d = example.dimensions
    points = 0
    if dims.edge_case:
        points += 5 if d.edge_case else 0
    elif dims.arc and d.arc == dims.arc:
        points += 5
    start, own = emotions.get(dims.emotion_start), emotions.get(d.emotion_start)
    if own and start:
        points += 2 if own.key == start.key else 1 if own.family == start.family else 0
    if d.persona == dims.persona:
        points += 2
    topic = topics.get(example.topic or d.topic)
    if topic and topic.content_category == dims.content_category:
        points += 2
    if topic and topic.topic_cluster == dims.topic_cluster:
        points += 1
    points += (d.tone == dims.tone) + (d.intent == dims.intent)
    return points


def _rotated(scored: list[Example], dims: Dimensions, emotions: dict, topics: dict, turn: int) -> Example:
    best = closeness(scored[0], dims, emotions, topics)
    band = [e for e in scored if closeness(e, dims, emotions, topics) >= best - CLOSENESS_BAND]
    return band[turn % len(band)]


def _within_budget(chosen: list[Example], budget: int) -> list[Example]:
    """Keep examples while they fit; cut the one that does not to its first whole exchanges."""
    kept, left = [], budget
    for example in chosen:
        if example.tokens <= left:
            kept.append(example)
            left -= example.tokens
            continue
        cut = _trim(example, left)
        if cut is not None:
            kept.append(cut)
            left -= cut.tokens
    return sorted(kept, key=lambda e: e.key)  # the same set always renders the same text: cache hits


def _trim(example: Example, budget: int) -> Example | None:
    total = len(example.turns)
    for n in range(total - total % 2, MIN_EXAMPLE_TURNS - 1, -2):
        cut = replace(example, turns=example.turns[:n], title=f"{example.title} (first {n} of {total} turns)")
        if cut.tokens <= budget:
            return cut
    return None


def _row_number(key: str) -> int:
    """The number in a row key ('T2-014' -> 2014), so consecutive rows rotate their examples."""
    digits = _DIGITS.findall(key)
    return int("".join(digits)) if digits else sum(map(ord, key))
