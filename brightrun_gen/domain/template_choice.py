"""Which active template version writes a row: shares of new rows, the same answer for a row every time."""

from __future__ import annotations

import zlib
from typing import Sequence, TypeVar

T = TypeVar("T")


def pick_version(versions: Sequence[tuple[T, int]], conversation_id: int) -> T:
    """One of the (version, share) pairs, chosen with probability share / total shares.

    The choice hashes the conversation id (crc32, the same in every process), so a retry or a
    second worker writes a row with the same version, and a version with a 20 share writes about
    20 of every 100 new rows.
    """
    if not versions:
        raise ValueError("no template version to choose from")
    total = sum(max(share, 0) for _, share in versions)
    if len(versions) == 1 or total <= 0:
        return versions[-1][0]
    point = zlib.crc32(str(conversation_id).encode()) % total
    for version, share in versions:
        point -= max(share, 0)
        if point < 0:
            return version
    return versions[-1][0]
