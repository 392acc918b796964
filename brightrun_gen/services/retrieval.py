"""Which of the firm's chunks fit a planned row: BM25 (bm25s) over every stored chunk.

The index is built in memory from the store, once per process and database, and rebuilt when the
chunks change (a one-query fingerprint is checked before each search). SQLite and PostgreSQL
therefore rank the same way, with one score threshold. A row's words are searched part by part
(topic, scenario or edge case, category, persona) and the scores added with the weights of
domain.knowledge.QUERY_WEIGHTS; pinned chunks always come, removed ones never.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

import bm25s
import numpy as np
import Stemmer
from sqlalchemy import Connection, Engine

from brightrun_gen.domain.knowledge import GENERIC_WORDS, QUERY_WEIGHTS, TIE_BREAKERS, KnowledgeBudget, KnowledgeItem, choose, row_query
from brightrun_gen.domain.models import Catalog, Dimensions
from brightrun_gen.store import catalog_repo, conversations as conv_store, documents as doc_store
from brightrun_gen.store import knowledge as knowledge_store
from brightrun_gen.store.db import read
from brightrun_gen.store.documents import SearchableChunk

logger = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG when imported, so its index-building chatter would pass any
# handler; let it follow the level the app (or the CLI's -v) chose instead.
logging.getLogger("bm25s").setLevel(logging.NOTSET)

_STEMMER = Stemmer.Stemmer("english")
# Candidates looked at per row before the budget is applied: more than any budget takes.
CANDIDATES = 20


@dataclass(frozen=True)
class RowKnowledge:
    """The chunks chosen for one row, and the ranked candidates a reviewer can pin from."""

    conversation_id: int
    key: str
    chosen: list[KnowledgeItem]
    candidates: list[KnowledgeItem]
    removed: list[KnowledgeItem] = field(default_factory=list)


def _tokens(texts: list[str]) -> list[list[str]]:
    """A query's words: no stop words, no generic catalog words, stemmed like the index."""
    texts = [" ".join(w for w in text.split() if w.lower().strip(".,:;!?()") not in GENERIC_WORDS) for text in texts]
    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, show_progress=False, return_ids=False)


class ChunkIndex:
    """BM25 over chunk text, heading, document title, category and the upstream's key terms."""

    def __init__(self, chunks: list[SearchableChunk]):
        self.chunks = chunks
        self.position = {chunk.id: i for i, chunk in enumerate(chunks)}
        self.retriever = bm25s.BM25()
        if chunks:
            texts = [f"{c.document} {c.category or ''} {c.section_heading or ''} {c.section_heading or ''} "
                     f"{c.chunk_text} {c.search_terms}" for c in chunks]
            self.retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, show_progress=False),
                                 show_progress=False)
            # IDF of every word (bm25s keeps only the product with term frequency): Lucene's formula.
            df = np.diff(self.retriever.scores["indptr"]).astype(np.float64)
            self.idf = np.log(1 + (len(chunks) - df + 0.5) / (df + 0.5))
            self.idf_max = float(np.log(1 + (len(chunks) + 0.5) / 0.5))

    def scores(self, parts: dict[str, str], excluded: set[int] = frozenset()) -> np.ndarray:
        """Each chunk's score for a row: its best-matched part, plus the tie-breakers."""
        best = np.zeros(len(self.chunks), dtype=np.float32)
        if not self.chunks:
            return best
        names = [name for name in parts if name in QUERY_WEIGHTS or name in TIE_BREAKERS]
        for name, tokens in zip(names, _tokens([parts[name] for name in names])):
            share = self.matched_share(tokens)
            if name in QUERY_WEIGHTS:
                np.maximum(best, QUERY_WEIGHTS[name] * share, out=best)
            else:
                best += TIE_BREAKERS[name] * share
        for chunk_id in excluded:
            if chunk_id in self.position:
                best[self.position[chunk_id]] = 0.0
        return best

    def matched_share(self, tokens: list[str]) -> np.ndarray:
        """Per chunk, BM25 of these words over their summed IDF: about the share of them it matches.

        A two-word topic and a sixty-word situation land on one scale. A word no chunk has counts
        at the highest IDF, so "college savings" is not half matched by every savings account.
        """
        words = set(tokens)
        known = sorted(words & self.retriever.vocab_dict.keys())
        if not known:
            return np.zeros(len(self.chunks), dtype=np.float32)
        mass = float(self.idf[[self.retriever.vocab_dict[w] for w in known]].sum())
        mass += (len(words) - len(known)) * self.idf_max
        return self.retriever.get_scores(known) / mass

    def ranked(self, parts: dict[str, str], excluded: set[int] = frozenset(), n: int = CANDIDATES) -> list[KnowledgeItem]:
        scores = self.scores(parts, excluded)
        if not len(scores):
            return []
        top = np.argsort(-scores, kind="stable")[:n]
        return [_item(self.chunks[i], float(scores[i])) for i in top if scores[i] > 0]


def _item(chunk: SearchableChunk, score: float | None, pinned: bool = False) -> KnowledgeItem:
    return KnowledgeItem(chunk.id, chunk.chunk_id, chunk.document, chunk.section_heading, chunk.chunk_text,
                         chunk.token_count, None if score is None else round(score, 3), pinned)


# Per database: (fingerprint, value) of the chunk index and of the catalog, rebuilt when the stored
# rows' fingerprint changes (one query per call).
_indexes: dict[str, tuple[tuple, ChunkIndex]] = {}
_catalogs: dict[str, tuple[tuple, Catalog]] = {}
_lock = threading.Lock()
T = TypeVar("T")


def _fresh(cache: dict, engine: Engine, stamp: tuple, build: Callable[[], T]) -> T:
    """The cached value while `stamp` holds, else a new one (built once: other threads wait for it)."""
    key = engine.url.render_as_string(hide_password=False)
    with _lock:
        cached = cache.get(key)
        if cached and cached[0] == stamp:
            return cached[1]
        value = build()
        cache[key] = (stamp, value)
    return value


def chunk_index(engine: Engine, conn: Connection) -> ChunkIndex:
    """The index of this database's chunks, rebuilt when they changed since it was built."""
    def build() -> ChunkIndex:
        started = time.perf_counter()
        index = ChunkIndex(doc_store.searchable_chunks(conn))
        logger.info("indexed %d chunks in %.2f s", len(index.chunks), time.perf_counter() - started)
        return index
    return _fresh(_indexes, engine, doc_store.fingerprint(conn), build)


def catalog_for(engine: Engine, conn: Connection) -> Catalog:
    """The stored catalog, reloaded when it changed."""
    return _fresh(_catalogs, engine, catalog_repo.fingerprint(conn), lambda: catalog_repo.load_catalog(engine))


def for_row(engine: Engine, conversation_id: int, budget: KnowledgeBudget, conn: Connection | None = None,
            candidates: int = CANDIDATES) -> RowKnowledge:
    """The knowledge for one planned row: pinned chunks, then the best that pass and fit the budget."""
    if conn is None:
        with read(engine) as own:
            return for_row(engine, conversation_id, budget, own, candidates)
    row = conv_store.get_row(conn, conversation_id)
    index = chunk_index(engine, conn)
    if not index.chunks:  # no firm documents: nothing to rank, pin or remove
        return RowKnowledge(conversation_id, row.key, [], [])
    choices = knowledge_store.choices(conn, conversation_id)
    pinned_ids = [cid for cid, choice in choices.items() if choice == "pinned"]
    removed_ids = {cid for cid, choice in choices.items() if choice == "removed"}
    ranked = index.ranked(query_for(engine, conn, row.dimensions), removed_ids | set(pinned_ids), candidates)
    pinned = [_item(index.chunks[index.position[cid]], None, True) for cid in pinned_ids if cid in index.position]
    removed = [_item(index.chunks[index.position[cid]], None) for cid in removed_ids if cid in index.position]
    return RowKnowledge(conversation_id, row.key, choose(ranked, pinned, budget), ranked, removed)


def query_for(engine: Engine, conn: Connection, dims: Dimensions) -> dict[str, str]:
    return row_query(dims, catalog_for(engine, conn))
