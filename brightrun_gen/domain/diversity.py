"""How varied a dataset is: distinct n-grams, similarity between conversations, lengths."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

from brightrun_gen.domain.ngrams import TextConversation, words

SIMILARITY_NOTE = ("MinHash estimate of the Jaccard similarity of 5-word shingle sets (128 permutations), "
                   "mean over all pairs of conversations")


@dataclass(frozen=True)
class Spread:
    """Smallest, median, mean, 90th percentile and largest of a set of numbers."""

    min: float
    median: float
    mean: float
    p90: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> "Spread | None":
        if not values:
            return None
        ordered = sorted(values)
        p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
        return cls(ordered[0], statistics.median(ordered), round(statistics.fmean(ordered), 1), p90, ordered[-1])


@dataclass(frozen=True)
class DistinctN:
    """Share of unique n-grams among all n-grams of the turns (n-grams never cross a turn)."""

    distinct_2: float | None
    distinct_3: float | None
    conversations: int  # how many conversations they were counted on (a sample on large sets)


@dataclass(frozen=True)
class Diversity:
    conversations: int
    offline: int
    distinct: DistinctN
    mean_similarity: float | None
    near_duplicate_pairs: int
    threshold: float
    words: Spread | None  # words per conversation
    turns: Spread | None  # turns per conversation
    turn_counts: dict[int, int]  # how many conversations have each number of turns

    def as_dict(self) -> dict:
        found = asdict(self)
        found["mean_similarity"] = None if self.mean_similarity is None else round(self.mean_similarity, 4)
        found["mean_similarity_method"] = SIMILARITY_NOTE
        found["turn_counts"] = {str(k): v for k, v in sorted(self.turn_counts.items())}
        return found


def distinct_n(conversations: Sequence[TextConversation]) -> DistinctN:
    """distinct-2 and distinct-3 over every turn of the conversations.

    Words become integer ids and an n-gram one integer code, so a few million n-grams are
    counted in numpy arrays rather than as millions of tuples in a set.
    """
    vocabulary: dict[str, int] = {}
    turns = [np.array([vocabulary.setdefault(w, len(vocabulary)) for w in words(turn.content)], dtype=np.int64)
             for conv in conversations for turn in conv.turns]
    size = max(len(vocabulary), 1)
    bigrams = [ids[:-1] * size + ids[1:] for ids in turns if len(ids) >= 2]
    trigrams = [(ids[:-2] * size + ids[1:-1]) * size + ids[2:] for ids in turns if len(ids) >= 3]
    return DistinctN(_distinct_share(bigrams), _distinct_share(trigrams), len(conversations))


def _distinct_share(codes: list[np.ndarray]) -> float | None:
    if not codes:
        return None
    every = np.sort(np.concatenate(codes))  # sorted, the distinct values are where a run starts
    distinct = 1 + int(np.count_nonzero(every[1:] != every[:-1]))
    return round(distinct / len(every), 4)


def diversity(*, conversations: int, offline: int, distinct: DistinctN, mean_similarity: float | None,
              near_duplicate_pairs: int, threshold: float, lengths: Sequence[tuple[int, int]]) -> Diversity:
    """The figures, from the parts the store and the index provide; `lengths` is (turns, words) each."""
    return Diversity(
        conversations=conversations, offline=offline, distinct=distinct, mean_similarity=mean_similarity,
        near_duplicate_pairs=near_duplicate_pairs, threshold=threshold,
        words=Spread.of([w for _, w in lengths]), turns=Spread.of([t for t, _ in lengths]),
        turn_counts=dict(Counter(t for t, _ in lengths)),
    )
