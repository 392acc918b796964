"""Stock phrases: word n-grams (3 to 6 words) that many conversations share, by role and position.

A phrase counts once per conversation (in how many conversations it appears, not how often),
per role and per position: in the role's first turn ("opening"), its last turn ("closing"), or
anywhere. Phrases made only of function words ("and i want to") are common English, not a
habit, and are left out. A phrase is hidden behind a longer one that contains it and appears in
nearly as many conversations, so "glad you reached out" shows once as "i'm really glad you
reached out" and not as every piece of it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Sequence, TypeVar

import numpy as np

from brightrun_gen.domain.ngrams import NAME_TOKEN, TextConversation, words

ROLES = ("assistant", "user")
POSITIONS = ("opening", "closing", "any")
MIN_WORDS, MAX_WORDS = 3, 6
MIN_CONVERSATIONS = 3
# A shorter phrase is hidden when a longer one containing it is in at least this share of its
# conversations: the longer one is the habit, the shorter a piece of it.
SUBSUMED = 0.8
EXAMPLES = 3
EXCERPT_CHARS = 60

FUNCTION_WORDS = frozenset("""
a about after again all also am an and any are as at be because been before being both but by can
could did do does doing don't down for from had has have having he her here hers him his how i i'd
i'll i'm i've if in into is isn't it it's its just let's me more most my no not now of off on once
only or other our ours out over own same she should so some such than that that's the their them
then there these they this those through to too under until up very was we we'll we're we've were
what when where which while who whom why will with would you you'd you'll you're you've your yours
""".split())

Slot = tuple[str, str]  # (role, position)
Gram = tuple[str, ...]
T = TypeVar("T")
_ID_MASK = np.int64((1 << 21) - 1)


@dataclass(frozen=True)
class Phrase:
    text: str
    role: str
    position: str
    conversations: int  # how many conversations have it in this role and position
    share: float  # of the conversations with a turn of this role
    offline: int  # how many of those conversations the offline generator wrote
    examples: tuple[str, ...] = ()  # keys of the first conversations that have it
    excerpt: str = ""  # the phrase in one of its turns, as written

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class PhraseStats:
    phrases: list[Phrase]  # most shared first
    conversations: int
    offline: int
    per_role: dict[str, int] = field(default_factory=dict)  # conversations with a turn of each role
    # per role: (turns that open with the client's first name, turns); a tic phrases cannot show
    name_openings: dict[str, tuple[int, int]] = field(default_factory=dict)


def count_phrases(conversations: Sequence[TextConversation], names: Iterable[str] = (), *,
                  min_conversations: int = MIN_CONVERSATIONS) -> PhraseStats:
    """Every phrase in at least `min_conversations` conversations, for every role and position."""
    names = frozenset(n.lower() for n in names)
    vocabulary = _Vocabulary()
    slots = [_slots(conv, lambda text: vocabulary.ids(words(text, names))) for conv in conversations]
    per_role = Counter(role for conv_slots in slots for (role, position) in conv_slots if position == "any")
    frequent3 = _frequent_trigrams(slots, min_conversations)
    counts: Counter[tuple[Slot, Gram]] = Counter()
    offline: Counter[tuple[Slot, Gram]] = Counter()
    for conv, conv_slots in zip(conversations, slots):
        for slot, turns in conv_slots.items():
            for gram in _grams(turns, frequent3[slot[0]]):
                counts[slot, gram] += 1
                offline[slot, gram] += conv.offline
    spelling = vocabulary.spelling()
    kept: dict[tuple[Slot, Gram], int] = {}
    offline_by_words: Counter[tuple[Slot, Gram]] = Counter()
    for (slot, ids), n in counts.items():
        gram = tuple(spelling[i] for i in ids)
        if n >= min_conversations and not _function_words_only(gram):
            kept[slot, gram] = n
            offline_by_words[slot, gram] = offline[slot, ids]
    shown = _passages(_unsubsumed(kept), offline_by_words)
    phrases = [Phrase(" ".join(gram), role, position, n, n / per_role[role], off)
               for ((role, position), gram), (n, off) in shown.items()]
    phrases.sort(key=lambda p: (ROLES.index(p.role), POSITIONS.index(p.position), -p.share, -p.words, p.text))
    return PhraseStats(phrases, len(conversations), sum(c.offline for c in conversations), dict(per_role),
                       _name_openings(slots, vocabulary.ids([NAME_TOKEN])[0]))


def _name_openings(slots: list[dict[Slot, list[np.ndarray]]], name_id: int) -> dict[str, tuple[int, int]]:
    found = {}
    for role in ROLES:
        turns = [ids for conv_slots in slots for ids in conv_slots.get((role, "any"), ())]
        found[role] = (sum(1 for ids in turns if len(ids) and ids[0] == name_id), len(turns))
    return found


class _Vocabulary:
    """Words as small integers while counting: millions of words cost megabytes, not strings."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def ids(self, tokens: list[str]) -> np.ndarray:
        known = self._ids
        return np.array([known.setdefault(w, len(known)) for w in tokens], dtype=np.int64)

    def spelling(self) -> list[str]:
        """Each id's word (ids are given in insertion order)."""
        return list(self._ids)


def _slots(conv: TextConversation, read: Callable[[str], T]) -> dict[Slot, list[T]]:
    """Each role's turns, as `read` makes them: the first one, the last one, and all of them."""
    found: dict[Slot, list[T]] = {}
    for role in ROLES:
        turns = [read(turn.content) for turn in conv.turns if turn.role == role]
        if turns:
            found[role, "opening"] = turns[:1]
            found[role, "closing"] = turns[-1:]
            found[role, "any"] = turns
    return found


def _trigram_codes(ids: np.ndarray) -> np.ndarray:
    """One integer per run of three word ids. Ids past 21 bits share codes; that only makes a rare
    run look frequent, which the exact count of the phrases built from it then corrects."""
    masked = ids & _ID_MASK
    return (masked[:-2] << 42) | (masked[1:-1] << 21) | masked[2:]


def _frequent_trigrams(slots: list[dict[Slot, list[np.ndarray]]], minimum: int) -> dict[str, np.ndarray]:
    """Per role, the 3-word runs in at least `minimum` conversations: every longer phrase is made
    of such runs, so only those are extended (which keeps counting fast on thousands)."""
    per_role: dict[str, list[np.ndarray]] = {role: [] for role in ROLES}
    for conv_slots in slots:
        for (role, position), turns in conv_slots.items():
            codes = [_trigram_codes(ids) for ids in turns if len(ids) >= 3] if position == "any" else []
            if codes:
                per_role[role].append(_distinct(np.concatenate(codes)))  # once per conversation
    return {role: _at_least(arrays, minimum) for role, arrays in per_role.items()}


def _distinct(values: np.ndarray) -> np.ndarray:
    """Each value once, sorted (by sorting: numpy's hashing unique is slower on these sizes)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def _isin_sorted(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Which values are in `sorted_set`, by binary search."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[at] == values


def _at_least(arrays: list[np.ndarray], minimum: int) -> np.ndarray:
    """The values found in at least `minimum` of the arrays (each holds a value once), sorted."""
    if not arrays:
        return np.empty(0, dtype=np.int64)
    values = np.sort(np.concatenate(arrays))
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    counts = np.diff(np.r_[starts, len(values)])
    return values[starts[counts >= minimum]]


def _grams(turns: list[np.ndarray], frequent3: np.ndarray) -> set[tuple[int, ...]]:
    """The distinct phrases of 3 to 6 words in these turns whose every 3-word run is frequent."""
    found: set[tuple[int, ...]] = set()
    for ids in turns:
        if len(ids) < MIN_WORDS:
            continue
        frequent = _isin_sorted(_trigram_codes(ids), frequent3)
        if not frequent.any():
            continue
        ok, tokens = frequent.tolist(), ids.tolist()
        for start in np.flatnonzero(frequent).tolist():
            found.add(tuple(tokens[start:start + 3]))
            for size in range(MIN_WORDS + 1, MAX_WORDS + 1):
                last = start + size - 3
                if last >= len(ok) or not ok[last]:
                    break
                found.add(tuple(tokens[start:start + size]))
    return found


def _function_words_only(gram: Gram) -> bool:
    return all(w in FUNCTION_WORDS or w == NAME_TOKEN for w in gram)


def _unsubsumed(counts: dict[tuple[Slot, Gram], int]) -> dict[tuple[Slot, Gram], int]:
    hidden = set()
    for (slot, gram), n in counts.items():
        if len(gram) > MIN_WORDS:
            for part in (gram[1:], gram[:-1]):
                inner = counts.get((slot, part))
                if inner and n >= SUBSUMED * inner:
                    hidden.add((slot, part))
    return {k: n for k, n in counts.items() if k not in hidden}


def _passages(counts: dict[tuple[Slot, Gram], int],
              offline: Counter[tuple[Slot, Gram]]) -> dict[tuple[Slot, Gram], tuple[int, int]]:
    """Longest phrases that overlap word by word, in about as many conversations, joined into one.

    A sentence copied into many conversations shows as one passage, not as each of its 6-word
    windows. A passage's counts are the smallest of its windows' (at most that many have it all).
    """
    longest = {k: n for k, n in counts.items() if len(k[1]) == MAX_WORDS}
    by_prefix: dict[tuple[Slot, Gram], list[Gram]] = {}
    for slot, gram in longest:
        by_prefix.setdefault((slot, gram[:-1]), []).append(gram)

    def close(a: int, b: int) -> bool:
        return min(a, b) >= SUBSUMED * max(a, b)

    def successor(slot: Slot, gram: Gram) -> Gram | None:
        found = [g for g in by_prefix.get((slot, gram[1:]), ()) if close(longest[slot, g], longest[slot, gram])]
        return found[0] if len(found) == 1 else None

    linked = {(slot, nxt) for slot, gram in longest if (nxt := successor(slot, gram))}
    merged = {k: (n, offline[k]) for k, n in counts.items() if k not in longest}
    for slot, gram in longest:
        if (slot, gram) in linked:
            continue  # inside a passage that starts earlier
        tokens, n, off, seen, current = list(gram), longest[slot, gram], offline[slot, gram], {gram}, gram
        while (nxt := successor(slot, current)) and nxt not in seen:
            tokens.append(nxt[-1])
            n, off = min(n, longest[slot, nxt]), min(off, offline[slot, nxt])
            seen.add(nxt)
            current = nxt
        merged[slot, tuple(tokens)] = (n, off)
    return merged


def with_examples(phrases: Sequence[Phrase], conversations: Sequence[TextConversation],
                  names: Iterable[str] = ()) -> list[Phrase]:
    """The phrases with the keys of their first conversations and an excerpt of one turn."""
    names = frozenset(n.lower() for n in names)
    keys: dict[tuple[str, str, str], list[str]] = {_key(p): [] for p in phrases}
    excerpts: dict[tuple[str, str, str], str] = {}
    for conv in conversations:
        pending = [k for k, found in keys.items() if len(found) < EXAMPLES]
        if not pending:
            break
        for (role, position), turns in _slots(conv, lambda text: words(text, names)).items():
            texts = [k[2] for k in pending if k[:2] == (role, position)]
            if not texts:
                continue
            for tokens, raw in zip(turns, _raw_turns(conv, role, position)):
                joined = f" {' '.join(tokens)} "
                for text in (t for t in texts if f" {t} " in joined):
                    found = keys[role, position, text]
                    if conv.key not in found:
                        found.append(conv.key)
                    excerpts.setdefault((role, position, text), _excerpt(raw, text))
    return [replace(p, examples=tuple(keys[_key(p)]), excerpt=excerpts.get(_key(p), "")) for p in phrases]


def _key(phrase: Phrase) -> tuple[str, str, str]:
    return phrase.role, phrase.position, phrase.text


def _raw_turns(conv: TextConversation, role: str, position: str) -> list[str]:
    texts = [turn.content for turn in conv.turns if turn.role == role]
    return {"opening": texts[:1], "closing": texts[-1:]}.get(position, texts)


def _excerpt(text: str, phrase: str) -> str:
    """The phrase as written in `text`, with some words either side."""
    parts = [r"[^\W_]+" if w == NAME_TOKEN else re.escape(w).replace("'", "['\u2019\u2018\u02bc]")
             for w in phrase.split()]
    found = re.search(r"(?<![^\W_])" + r"[\W_]+".join(parts) + r"(?![^\W_])", text, re.IGNORECASE)
    if not found:
        return ""
    start, end = max(found.start() - EXCERPT_CHARS, 0), min(found.end() + EXCERPT_CHARS, len(text))
    return ("…" if start else "") + " ".join(text[start:end].split()) + ("…" if end < len(text) else "")


def over_share(stats: PhraseStats, share: float, limit: int, subject_words: frozenset[str] = frozenset()) -> list[str]:
    """The habits worth avoiding: phrases in at least `share` of their role's conversations, most
    shared first, each once.

    A three-word phrase needs two words that are not function words: "makes complete sense" is a
    habit, "i want to" is English. Longer phrases count as they are. A phrase with a word of the
    subject matter ("your emergency fund") is what conversations are about, not a habit: telling
    the model to avoid it would only make a conversation about that subject awkward.
    """
    found: list[str] = []
    for phrase in sorted(stats.phrases, key=lambda p: (-p.share, -p.words, p.text)):
        tokens = phrase.text.split()
        if (phrase.share >= share and phrase.text not in found and _distinctive(tokens)
                and not subject_words.intersection(tokens)):
            found.append(phrase.text)
    return found[:limit]


def _distinctive(tokens: list[str]) -> bool:
    content = [w for w in tokens if w not in FUNCTION_WORDS and w != NAME_TOKEN]
    return len(tokens) > MIN_WORDS or len(content) >= 2
