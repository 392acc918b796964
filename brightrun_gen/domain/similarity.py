"""Near-duplicates by MinHash: signatures of word shingles, LSH band keys, similar pairs.

A conversation's signature is the MinHash (datasketch, 128 permutations) of the set of its
5-word shingles; a turn's is that of its own shingles. The share of equal signature values of two
texts estimates the Jaccard similarity of their shingle sets (standard error about 0.035 near
0.8). Shingles never cross a turn boundary, so a conversation's set is the union of its turns'.

Finding pairs without comparing every two signatures is locality-sensitive hashing: the first
128 values are cut into 32 bands of 4; two signatures that agree on a whole band become
candidates, and only candidates are compared. With 32 x 4, a pair of true similarity 0.6 shares
a band with probability 0.988, 0.7 with 0.9999, 0.5 with 0.87; so thresholds below
MIN_THRESHOLD are refused. The band keys are what the store indexes (one row per band), so
checking one new conversation against the whole store is an indexed lookup.
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

from brightrun_gen.domain.ngrams import words

# Signatures and band keys are stored: changing any of these five (or the tokenizer, or the
# multipliers below) needs a migration that empties conversation_signatures and signature_bands,
# which the next read then rebuilds.
NUM_PERM = 128
SEED = 1
SCHEME = "affine32"
SHINGLE_WORDS = 5
BANDS, ROWS = 32, 4
MIN_THRESHOLD = 0.5
# Turns shorter than this are replies ("Thank you, that helps a lot") that many conversations
# share by nature; phrase statistics count those. Turn-level pairs are of longer turns only.
MIN_TURN_WORDS = 10
# Signatures compared at once when verifying candidate pairs (each pair costs 2 x 512 bytes).
_VERIFY_CHUNK = 50_000


def _splitmix64(seed: int, count: int) -> np.ndarray:
    """Fixed odd 64-bit multipliers: the same on every machine and numpy version."""
    out, state, mask = [], seed, (1 << 64) - 1
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append((z ^ (z >> 31)) | 1)
    return np.array(out, dtype=np.uint64)


_SHINGLE_MULTIPLIERS = _splitmix64(0x5EED_0001, SHINGLE_WORDS)
_BAND_MULTIPLIERS = _splitmix64(0x5EED_0002, BANDS * ROWS).reshape(BANDS, ROWS)


def to_bytes(values: np.ndarray) -> bytes:
    """A signature as the store keeps it: 128 little-endian uint32."""
    return values.astype("<u4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)


class _WordHashes(dict):
    """word -> CRC-32 of its UTF-8 bytes, computed once per word; emptied when it grows past a
    vocabulary's size so a long-running server does not keep every word it ever saw."""

    LIMIT = 1 << 18

    def __missing__(self, word: str) -> int:
        if len(self) >= self.LIMIT:
            self.clear()
        value = self[word] = zlib.crc32(word.encode("utf-8"))
        return value


_word_hashes = _WordHashes()


def shingle_hashes(tokens: Sequence[str]) -> np.ndarray:
    """32-bit hashes of the text's 5-word shingles (one shingle for a shorter text, none for none).

    Each word is hashed once (CRC-32, cached) and a shingle's hash is a fixed polynomial of its
    words' hashes, computed for all shingles at once; MinHash then mixes it (murmur finalizer).
    """
    if not tokens:
        return np.empty(0, dtype=np.uint32)
    ids = np.fromiter(map(_word_hashes.__getitem__, tokens), dtype=np.uint64, count=len(tokens))
    width = min(SHINGLE_WORDS, len(ids))
    count = len(ids) - width + 1
    combined = np.zeros(count, dtype=np.uint64)
    for j in range(width):
        combined += ids[j:j + count] * _SHINGLE_MULTIPLIERS[j]  # wraps modulo 2**64, as meant
    return (combined >> np.uint64(32)).astype(np.uint32)


@lru_cache(maxsize=1)
def _datasketch():
    """datasketch's MinHash and the permutations every signature shares, on first use: the package
    imports scipy for its LSH classes (a second at start-up), which a command or page that computes
    no signature should not pay."""
    from datasketch import MinHash

    return MinHash, MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def minhash(hashes: np.ndarray) -> np.ndarray:
    """The MinHash values of a set of shingle hashes (datasketch, affine32 scheme)."""
    minhash_class, permutations = _datasketch()
    sketch = minhash_class(num_perm=NUM_PERM, seed=SEED, hashfunc=int, permutations=permutations, scheme=SCHEME)
    sketch.update_batch(hashes)
    return sketch.hashvalues


def signature(texts: Iterable[str]) -> np.ndarray | None:
    """The MinHash values of a conversation from its turns' texts; None when it has no words."""
    tokens = [words(text) for text in texts]
    if not any(tokens):
        return None
    return minhash(np.concatenate([shingle_hashes(turn) for turn in tokens]))


def turn_signature(text: str) -> np.ndarray | None:
    """A single turn's MinHash values; None for turns shorter than MIN_TURN_WORDS."""
    tokens = words(text)
    if len(tokens) < MIN_TURN_WORDS:
        return None
    return minhash(shingle_hashes(tokens))


def band_keys(matrix: np.ndarray) -> np.ndarray:
    """One signed 64-bit key per band of each signature (rows of `matrix`): what LSH buckets by.

    Computed a band at a time, so 120,000 turn signatures need megabytes, not a 64-bit copy of all.
    """
    matrix = np.atleast_2d(matrix)
    keys = np.empty((len(matrix), BANDS), dtype=np.uint64)
    for band in range(BANDS):
        rows = matrix[:, band * ROWS:(band + 1) * ROWS].astype(np.uint64)
        keys[:, band] = (rows * _BAND_MULTIPLIERS[band]).sum(axis=1, dtype=np.uint64)
    return keys.view(np.int64)


def similarities(matrix: np.ndarray, one: np.ndarray) -> np.ndarray:
    """The estimated Jaccard similarity of `one` signature with each row of `matrix`."""
    return (np.atleast_2d(matrix) == one).mean(axis=1)


def check_threshold(threshold: float) -> None:
    if not MIN_THRESHOLD <= threshold <= 1.0:
        raise ValueError(f"threshold {threshold:g} is out of range; use {MIN_THRESHOLD:g} to 1")


def similar_pairs(matrix: np.ndarray, threshold: float,
                  group: np.ndarray | None = None) -> list[tuple[int, int, float]]:
    """Pairs (i, j, similarity), i < j, of rows of `matrix` at least `threshold` similar.

    Rows that share a band key are candidates; each candidate pair is then compared in full.
    Rows with the same `group` value (e.g. turns of one conversation) are never paired.
    """
    check_threshold(threshold)
    if len(matrix) < 2:
        return []
    codes = _candidate_codes(band_keys(matrix), len(matrix))
    first, second = np.divmod(codes, len(matrix))
    if group is not None:
        keep = group[first] != group[second]
        first, second = first[keep], second[keep]
    found: list[tuple[int, int, float]] = []
    for start in range(0, len(first), _VERIFY_CHUNK):
        a, b = first[start:start + _VERIFY_CHUNK], second[start:start + _VERIFY_CHUNK]
        sims = (matrix[a] == matrix[b]).mean(axis=1)
        hit = sims >= threshold
        found += zip(a[hit].tolist(), b[hit].tolist(), sims[hit].tolist())
    return found


def _candidate_codes(keys: np.ndarray, n: int) -> np.ndarray:
    """Every pair of rows that share a band key, as the code i * n + j (i < j), each once."""
    codes: list[np.ndarray] = []
    for band in range(keys.shape[1]):
        order = np.argsort(keys[:, band], kind="stable")
        ordered = keys[order, band]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        sizes = np.diff(np.r_[starts, len(ordered)])
        for start, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist()):
            members = np.sort(order[start:start + size])
            i, j = np.triu_indices(size, k=1)
            codes.append(members[i].astype(np.int64) * n + members[j])
    return np.unique(np.concatenate(codes)) if codes else np.empty(0, dtype=np.int64)


def mean_pairwise_similarity(matrix: np.ndarray) -> float | None:
    """The mean MinHash similarity over all pairs of rows, exactly, without comparing pairs.

    For each signature position, the pairs that agree there are sum(c * (c - 1) / 2) over the
    counts c of each value; the mean of the estimates is their total over positions and pairs.
    """
    n = len(matrix)
    if n < 2:
        return None
    agreeing = 0
    for column in matrix.T:
        _, counts = np.unique(column, return_counts=True)
        agreeing += int((counts * (counts - 1) // 2).sum())
    return agreeing / (matrix.shape[1] * n * (n - 1) / 2)
