"""The dataset as a whole: stock phrases, the avoid list they make, diversity figures.

Phrase statistics read the newest PHRASE_SAMPLE conversations: habits show in far fewer, and the
count stays a few seconds on a store of any size. distinct-n is counted on a fixed random sample
of DISTINCT_SAMPLE conversations for the same reason (and because distinct-n falls as a corpus
grows, a fixed size keeps figures of different stores comparable); the other figures use all.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import replace
from typing import Sequence

from sqlalchemy import Engine

from brightrun_gen.domain import phrases as phrasing, similarity
from brightrun_gen.domain.diversity import Diversity, distinct_n, diversity as diversity_figures
from brightrun_gen.domain.vocabulary import OFFLINE_MODEL, STATUSES
from brightrun_gen.domain.ngrams import TextConversation
from brightrun_gen.domain.phrases import POSITIONS, ROLES, PhraseStats
from brightrun_gen.errors import InputError
from brightrun_gen.services.dedupe import DATASET_STATUSES, indexed_dataset, signature_matrix
from brightrun_gen.store import catalog_repo, signatures as store
from brightrun_gen.store.db import read

logger = logging.getLogger(__name__)

PHRASE_SAMPLE = 2000
DISTINCT_SAMPLE = 500
AVOID_LIMIT = 20
TOP = 50


def phrases(engine: Engine, *, role: str | None = None, position: str | None = None, top: int = TOP,
            include_offline: bool = True, sample: int = PHRASE_SAMPLE) -> PhraseStats:
    """The most shared phrases of each role and position (or only those asked for), with examples."""
    if role is not None and role not in ROLES:
        raise InputError(f"phrases: role {role!r} is unknown; use {' or '.join(ROLES)}")
    if position is not None and position not in POSITIONS:
        raise InputError(f"phrases: position {position!r} is unknown; use one of {', '.join(POSITIONS)}")
    if top < 1:
        raise InputError(f"phrases: --top {top} must be at least 1")
    conversations = _newest(engine, include_offline, sample)
    names = client_names(engine)
    stats = phrasing.count_phrases(conversations, names)
    chosen = [p for p in stats.phrases if role in (None, p.role) and position in (None, p.position)]
    chosen = _top_per_slot(chosen, top)
    return replace(stats, phrases=phrasing.with_examples(chosen, conversations, names))


def _top_per_slot(found: Sequence[phrasing.Phrase], top: int) -> list[phrasing.Phrase]:
    taken: dict[tuple[str, str], int] = {}
    chosen = []
    for phrase in found:
        slot = (phrase.role, phrase.position)
        if taken.get(slot, 0) < top:
            taken[slot] = taken.get(slot, 0) + 1
            chosen.append(phrase)
    return chosen


def avoid_phrases(engine: Engine, *, share: float, limit: int = AVOID_LIMIT) -> list[str]:
    """The advisor's phrases in at least `share` of the conversations: for the prompt, as data.

    Only the advisor's: the advisor is the role the model is trained to speak, so her stock phrases
    become its habits, while "i feel like" in a client's message is how people talk (and asking
    the writer to avoid it made clients stilted). Offline conversations are left out: their phrases
    are the offline generator's templates, not habits the model should unlearn.
    """
    stats = phrasing.count_phrases(_newest(engine, False, PHRASE_SAMPLE), client_names(engine))
    advisor = replace(stats, phrases=[p for p in stats.phrases if p.role == "assistant"])
    return phrasing.over_share(advisor, share, limit, subject_words(engine))


def subject_words(engine: Engine) -> frozenset[str]:
    """The words of the catalog's topic names and categories, lowercased: the subject matter."""
    words = set()
    for entry in catalog_repo.list_section(engine, "topics"):
        for text in (entry.get("name"), entry.get("content_category"), entry.get("topic_cluster")):
            words.update(w for w in re.findall(r"[a-z0-9]+", str(text or "").lower()) if len(w) > 2)
    return frozenset(words - phrasing.FUNCTION_WORDS)


def client_names(engine: Engine) -> list[str]:
    """First names of every persona: replaced by one token, so a greeting by name is one phrase."""
    return sorted({entry["name"].split()[0] for entry in catalog_repo.list_section(engine, "personas")
                   if entry.get("name")})


def _newest(engine: Engine, include_offline: bool, sample: int) -> list[TextConversation]:
    with read(engine) as conn:
        ids = store.newest_ids(conn, DATASET_STATUSES)
        found: list[TextConversation] = []
        for start in range(0, len(ids), store.BATCH):
            batch = store.text_conversations(conn, ids[start:start + store.BATCH], OFFLINE_MODEL)
            found += [c for c in batch if include_offline or not c.offline]
            if len(found) >= sample:
                break
    newest_first = {cid: i for i, cid in enumerate(ids)}
    return sorted(found, key=lambda c: newest_first[c.id])[:sample]


def diversity(engine: Engine, *, threshold: float, ids: Sequence[int] | None = None,
              include_offline: bool = True) -> Diversity:
    """Diversity of the dataset (or of the conversations `ids`, e.g. an export's)."""
    rows = indexed_dataset(engine, DATASET_STATUSES if ids is None else STATUSES, ids)
    rows = [r for r in rows if include_offline or r.model != OFFLINE_MODEL]
    chosen = [r.id for r in rows]
    matrix = signature_matrix(rows)
    sampled = sorted(random.Random(0).sample(chosen, min(DISTINCT_SAMPLE, len(chosen))))
    with read(engine) as conn:
        texts = store.text_conversations(conn, sampled, OFFLINE_MODEL)
    return diversity_figures(
        conversations=len(rows), offline=sum(r.model == OFFLINE_MODEL for r in rows), distinct=distinct_n(texts),
        mean_similarity=similarity.mean_pairwise_similarity(matrix),
        near_duplicate_pairs=len(similarity.similar_pairs(matrix, threshold)), threshold=threshold,
        lengths=[(r.turns, r.words) for r in rows],
    )
