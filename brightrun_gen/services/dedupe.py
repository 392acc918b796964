"""Near-duplicates across the whole store: the index, similar pairs, one conversation's twins.

Every conversation's current version (generated, approved, seeds, imports; offline ones too,
labelled) gets a MinHash signature and LSH band keys in the store. Generation indexes each new
version in the transaction that saves it and records its nearest twin with it; imports and
anything written before the index existed are indexed by `refresh_index`, which every read here
runs first, so the figures never miss a conversation.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Sequence

import numpy as np
from sqlalchemy import Connection, Engine

from brightrun_gen.domain import similarity
from brightrun_gen.domain.vocabulary import OFFLINE_MODEL
from brightrun_gen.domain.models import Turn
from brightrun_gen.domain.vocabulary import STATUSES, WRITTEN
from brightrun_gen.domain.similarity import MIN_THRESHOLD
from brightrun_gen.errors import InputError
from brightrun_gen.store import conversations as conv_store, signatures as store
from brightrun_gen.store.db import read, write
from brightrun_gen.store.signatures import Indexed, IndexRow

logger = logging.getLogger(__name__)

# The dataset: every written conversation except rejected ones, whose text will not be trained on
# and should not make a new conversation look like a repeat.
DATASET_STATUSES = tuple(s for s in WRITTEN if s != "rejected")
SCOPES = ("conversations", "turns")
INDEX_BATCH = 500
_EPOCH = datetime.min.replace(tzinfo=timezone.utc)
_NO_WORDS = similarity.to_bytes(np.full(similarity.NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32))


@dataclass(frozen=True)
class Match:
    """Another conversation and how similar it is (MinHash estimate of shingle Jaccard)."""

    id: int
    key: str
    similarity: float
    offline: bool
    seed: bool


@dataclass(frozen=True)
class NearDuplicate:
    """A failed check, for repair: the conversation reads like one already in the store."""

    match: Match
    threshold: float

    @property
    def problem(self) -> str:
        return (f"near-duplicate of {self.match.key} (similarity {self.match.similarity:.2f}, limit "
                f"{self.threshold:.2f}): vary the opening, the examples and metaphors, and the closing")


@dataclass(frozen=True)
class Pair:
    """Two similar conversations (or turns of two conversations); `a` was written first."""

    a: str
    b: str
    similarity: float
    scope: str
    a_offline: bool
    b_offline: bool
    a_turn: int | None = None  # 1-based turn positions, scope "turns" only
    b_turn: int | None = None

    def as_dict(self) -> dict:
        found = asdict(self)
        if self.scope == "conversations":
            del found["a_turn"], found["b_turn"]
        return {**found, "similarity": round(self.similarity, 3)}


@dataclass(frozen=True)
class Twins:
    """One conversation's twins: recorded when its current version was written, and now."""

    recorded_key: str | None
    recorded_similarity: float | None
    matches: list[Match]


@dataclass(frozen=True)
class Dropped:
    key: str
    kept: str
    similarity: float


@dataclass(frozen=True)
class Deduplicated:
    """An export selection with the later of each near-duplicate pair left out (never a seed)."""

    kept_ids: list[int]
    dropped: list[Dropped]
    threshold: float

    def manifest(self) -> dict:
        return {"threshold": self.threshold, "dropped": len(self.dropped),
                "pairs": [{"dropped": d.key, "kept": d.kept, "similarity": round(d.similarity, 3)}
                          for d in self.dropped]}


# --- the index -----------------------------------------------------------------------------------


def refresh_index(engine: Engine) -> int:
    """Index every conversation whose current version has no signature yet; returns how many."""
    indexed, after = 0, 0
    while True:
        with read(engine) as conn:
            ids = store.unindexed(conn, after, INDEX_BATCH)
            texts = store.current_texts(conn, ids)
        if not ids:
            break
        rows = _index_rows([(cid, version, [content for _, content in turns])
                            for cid, (version, turns) in texts.items()])
        with write(engine) as conn:
            store.save(conn, rows)
        indexed, after = indexed + len(rows), ids[-1]
    if indexed:
        logger.info("near-duplicate index: %s conversation(s) indexed", indexed)
    return indexed


def _index_rows(versions: Sequence[tuple[int, int, Sequence[str]]]) -> list[IndexRow]:
    """Index rows of (conversation id, version, turn texts), band keys computed for all at once."""
    signatures = [similarity.signature(texts) for _, _, texts in versions]
    signed = [found for found in signatures if found is not None]
    keys = iter(similarity.band_keys(np.vstack(signed)).tolist() if signed else ())
    rows = []
    for (cid, version, texts), found in zip(versions, signatures):
        if found is None:  # no words at all: stored so it is not read again, never a candidate
            rows.append(IndexRow(cid, version, _NO_WORDS, len(texts), 0, ()))
        else:
            words = sum(len(text.split()) for text in texts)
            rows.append(IndexRow(cid, version, similarity.to_bytes(found), len(texts), words, next(keys)))
    return rows


def index_version(conn: Connection, conversation_id: int, version: int, turns: Sequence[Turn]) -> Match | None:
    """At generation: index a new version and record its nearest twin with it (same transaction)."""
    [row] = _index_rows([(conversation_id, version, [turn.content for turn in turns])])
    nearest = _nearest(conn, row, conversation_id)
    store.save(conn, [row])
    if nearest:  # a new version's twin columns start empty: only a twin is written
        store.set_nearest(conn, conversation_id, version, nearest.key, round(nearest.similarity, 3))
        logger.info("conversation %s version %s: nearest twin %s (%.2f)", conversation_id, version, nearest.key,
                    nearest.similarity)
    return nearest


def near_duplicate(engine: Engine, turns: Sequence[Turn], *, threshold: float,
                   conversation_id: int | None = None) -> NearDuplicate | None:
    """The check repair runs: the stored conversation these turns are at least `threshold` like."""
    similarity.check_threshold(threshold)
    [row] = _index_rows([(conversation_id or 0, 0, [turn.content for turn in turns])])
    with read(engine) as conn:
        nearest = _nearest(conn, row, conversation_id)
    if nearest is None or nearest.similarity < threshold:
        return None
    return NearDuplicate(nearest, threshold)


def _nearest(conn: Connection, row: IndexRow, exclude_id: int | None) -> Match | None:
    if not row.band_keys:
        return None
    found = _matches(store.sharing_a_band(conn, row.band_keys, DATASET_STATUSES, exclude_id),
                     similarity.from_bytes(row.signature), MIN_THRESHOLD)
    return found[0] if found else None


def _matches(candidates: Sequence[Indexed], values: np.ndarray, floor: float) -> list[Match]:
    candidates = [c for c in candidates if c.words]
    if not candidates:
        return []
    sims = similarity.similarities(signature_matrix(candidates), values)
    found = [_match(c, s) for c, s in zip(candidates, sims.tolist()) if s >= floor]
    return sorted(found, key=lambda m: (-m.similarity, m.key))


def _match(row: Indexed, value: float) -> Match:
    return Match(row.id, row.key, value, row.model == OFFLINE_MODEL, row.source == "seed")


def signature_matrix(rows: Sequence[Indexed]) -> np.ndarray:
    """The rows' signatures as one (rows x 128) uint32 matrix."""
    data = b"".join(r.signature for r in rows)
    return np.frombuffer(data, dtype="<u4").reshape(len(rows), similarity.NUM_PERM).astype(np.uint32)


# --- reading it ----------------------------------------------------------------------------------


def pairs(engine: Engine, threshold: float, scope: str = "conversations") -> list[Pair]:
    """Every pair at least `threshold` similar across the dataset, most similar first."""
    _check(threshold, scope)
    found = _conversation_pairs(engine, threshold) if scope == "conversations" else _turn_pairs(engine, threshold)
    return sorted(found, key=lambda p: (-p.similarity, p.a, p.b, p.a_turn or 0, p.b_turn or 0))


def _check(threshold: float, scope: str) -> None:
    if scope not in SCOPES:
        raise InputError(f"dedupe scope {scope!r} is unknown; use {' or '.join(SCOPES)}")
    try:
        similarity.check_threshold(threshold)
    except ValueError as exc:
        raise InputError(f"dedupe: {exc}") from None


def _conversation_pairs(engine: Engine, threshold: float) -> list[Pair]:
    rows = indexed_dataset(engine)
    return [_pair(rows[i], rows[j], s, "conversations")
            for i, j, s in similarity.similar_pairs(signature_matrix(rows), threshold)]


def indexed_dataset(engine: Engine, statuses: Sequence[str] = DATASET_STATUSES,
                    ids: Sequence[int] | None = None) -> list[Indexed]:
    """The signed conversations of the dataset (or of `ids`), the index refreshed first."""
    refresh_index(engine)
    with read(engine) as conn:
        return [row for row in store.indexed(conn, statuses, ids) if row.words]


def _pair(first: Indexed, second: Indexed, value: float, scope: str,
          turns: tuple[int | None, int | None] = (None, None)) -> Pair:
    (a, a_turn), (b, b_turn) = sorted([(first, turns[0]), (second, turns[1])], key=lambda p: _written(p[0]))
    return Pair(a.key, b.key, value, scope, a.model == OFFLINE_MODEL, b.model == OFFLINE_MODEL, a_turn, b_turn)


def _written(row: Indexed) -> tuple[datetime, int]:
    written = row.written_at or _EPOCH
    return (written if written.tzinfo else written.replace(tzinfo=timezone.utc), row.id)


def _turn_pairs(engine: Engine, threshold: float) -> list[Pair]:
    rows = {row.id: row for row in indexed_dataset(engine)}
    signatures, owners, positions = [], [], []
    ids = sorted(rows)
    for start in range(0, len(ids), INDEX_BATCH):
        with read(engine) as conn:
            texts = store.current_texts(conn, ids[start:start + INDEX_BATCH])
        for cid, (_, turns) in texts.items():
            for position, (_, content) in enumerate(turns):
                values = similarity.turn_signature(content)
                if values is not None:
                    signatures.append(values)
                    owners.append(cid)
                    positions.append(position + 1)
    if not signatures:
        return []
    owner = np.array(owners)
    found = similarity.similar_pairs(np.vstack(signatures), threshold, group=owner)
    return [_pair(rows[owners[i]], rows[owners[j]], s, "turns", (positions[i], positions[j])) for i, j, s in found]


def twins(engine: Engine, key_or_id: str | int, floor: float = MIN_THRESHOLD) -> Twins:
    """The conversations like this one's current version (at least `floor`), most similar first."""
    refresh_index(engine)
    with read(engine) as conn:
        cid = conv_store.find_id(conn, key_or_id)
        recorded = store.nearest_of_current(conn, cid)
        own = next(iter(store.indexed(conn, STATUSES, [cid])), None)
        if own is None or not own.words:
            return Twins(*recorded, [])
        values = similarity.from_bytes(own.signature)
        keys = similarity.band_keys(values)[0].tolist()
        candidates = store.sharing_a_band(conn, keys, DATASET_STATUSES, exclude_id=cid)
    return Twins(*recorded, _matches(candidates, values, floor))


def without_near_duplicates(engine: Engine, ids: Sequence[int], threshold: float) -> Deduplicated:
    """Leave the later of each near-duplicate pair among `ids` out; seeds always stay.

    Conversations are taken in order (seeds first, then by when their current version was
    written); each is dropped when it is at least `threshold` like one already kept.
    """
    _check(threshold, "conversations")
    rows = indexed_dataset(engine, STATUSES, ids)
    neighbours: dict[int, list[tuple[int, float]]] = {}
    for i, j, value in similarity.similar_pairs(signature_matrix(rows), threshold):
        neighbours.setdefault(i, []).append((j, value))
        neighbours.setdefault(j, []).append((i, value))
    order = sorted(range(len(rows)), key=lambda i: (rows[i].source != "seed", _written(rows[i])))
    kept: set[int] = set()
    dropped: dict[int, Dropped] = {}
    for i in order:
        twin = max(((j, v) for j, v in neighbours.get(i, ()) if j in kept), key=lambda p: p[1], default=None)
        if twin is None or rows[i].source == "seed":
            kept.add(i)
        else:
            dropped[rows[i].id] = Dropped(rows[i].key, rows[twin[0]].key, twin[1])
    return Deduplicated([cid for cid in ids if cid not in dropped], list(dropped.values()), threshold)
