"""The deterministic train/validation split of an export."""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from typing import Iterable

from brightrun_gen.errors import InputError


def assign_splits(keys_and_tiers: Iterable[tuple[str, int]], ratio: float, seed: int) -> dict[str, str]:
    """'train' or 'val' for each key: per tier, keys ordered by sha256(seed:key), the first
    round(ratio × n) train. The same keys, ratio and seed always give the same assignment."""
    if not 0 < ratio < 1 or math.isnan(ratio):
        raise InputError(f"split ratio {ratio}: expected a number between 0 and 1 (the share for train), e.g. 0.9")
    by_tier: dict[int, list[str]] = defaultdict(list)
    for key, tier in sorted(keys_and_tiers):
        by_tier[tier].append(key)
    assignment: dict[str, str] = {}
    for keys in by_tier.values():
        ordered = sorted(keys, key=lambda key: hashlib.sha256(f"{seed}:{key}".encode()).hexdigest())
        train = math.floor(len(ordered) * ratio + 0.5)
        assignment.update({key: "train" if i < train else "val" for i, key in enumerate(ordered)})
    return assignment
