"""What the store reads back: a version's turns and the review events of the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple


class StoredTurn(NamedTuple):
    """A turn as the store gives it back: its role, its text, its place (from 0) in its version
    and its annotations (None when not read or not known).

    Not a `Turn`: the text was validated on the way in, and an export reads 120,000 turns at a
    time, where a tuple costs a tenth of as many pydantic models. An export's checks still name
    a bad turn.
    """

    role: str
    content: str
    position: int
    annotation: dict | None = None

    @property
    def word_count(self) -> int:
        """As the store counts it when it saves the turn."""
        return len(self.content.split())


@dataclass(frozen=True)
class ReviewEvent:
    """One reviewer decision about one version of a conversation: a row of the audit trail."""

    id: int
    version: int
    action: str  # one of DECISIONS
    reviewer: str
    notes: str | None
    at: datetime | None

    def as_dict(self) -> dict:
        """The history row the review page and the CLI show."""
        return {"id": self.id, "version": self.version, "action": self.action, "reviewer": self.reviewer,
                "notes": self.notes, "at": self.at}
