"""The set as a whole: near-duplicates, stock phrases, diversity."""

from __future__ import annotations

from typing import Sequence

from brightrun_gen.brightrun.noun import Noun
from brightrun_gen.services import dataset, dedupe


class Dataset(Noun):
    """The set as a whole: near-duplicate pairs, one conversation's twins, stock phrases, diversity."""

    SCOPES = dedupe.SCOPES
    ROLES = dataset.ROLES
    POSITIONS = dataset.POSITIONS

    @property
    def threshold(self) -> float:
        """Similarity from which two conversations count as near-duplicates (setting)."""
        return self.app.settings.near_duplicate_threshold

    def refresh_index(self) -> int:
        return dedupe.refresh_index(self.engine)

    def near_duplicates(self, threshold: float | None = None, scope: str = "conversations") -> list[dedupe.Pair]:
        return dedupe.pairs(self.engine, self.threshold if threshold is None else threshold, scope)

    def twins(self, key_or_id: str | int) -> dedupe.Twins:
        """Conversations like this one now, and the twin recorded when its current version was written."""
        return dedupe.twins(self.engine, key_or_id)

    def near_duplicate(self, turns, *, conversation_id: int | None = None,
                       threshold: float | None = None) -> dedupe.NearDuplicate | None:
        """The finding repair acts on: these turns read like a stored conversation (or None)."""
        return dedupe.near_duplicate(self.engine, turns, conversation_id=conversation_id,
                                     threshold=self.threshold if threshold is None else threshold)

    def phrases(self, *, role: str | None = None, position: str | None = None, top: int = dataset.TOP,
                include_offline: bool = True):
        return dataset.phrases(self.engine, role=role, position=position, top=top, include_offline=include_offline)

    def avoid_phrases(self, *, share: float | None = None, limit: int = dataset.AVOID_LIMIT) -> list[str]:
        """Phrases over the share setting, for the prompt's avoid list (data, not instructions)."""
        share = self.app.settings.avoid_phrase_share if share is None else share
        return dataset.avoid_phrases(self.engine, share=share, limit=limit)

    def diversity(self, *, ids: Sequence[int] | None = None, include_offline: bool = True):
        """Diversity figures of the dataset, or of the conversations `ids` (an export's selection)."""
        return dataset.diversity(self.engine, threshold=self.threshold, ids=ids, include_offline=include_offline)
