"""Reviewers' decisions and repairs, and the content judge's judgements and versions."""

from __future__ import annotations

from typing import Callable, Sequence

from brightrun_gen.brightrun.noun import Noun
from brightrun_gen.services import browse, foreground, judging, progress, repair, review, versions


class Reviews(Noun):
    """Decisions on written conversations, their audit trail and the review queue."""

    def decide(self, key_or_id: str | int, action: str, *, reviewer: str | None = None, notes: str | None = None):
        return review.review(self.engine, key_or_id, action, reviewer, notes, settings=self.app.settings)

    def history(self, key_or_id: str | int) -> list[dict]:
        return review.history(self.engine, key_or_id)

    def load(self, key_or_id: str | int) -> review.ReviewView:
        return review.load(self.engine, key_or_id)

    def next_unreviewed(self, after_id: int | None = None) -> int | None:
        return review.next_unreviewed(self.engine, after_id)

    def unreviewed_count(self) -> int:
        return review.unreviewed_count(self.engine)

    def options(self, statuses: Sequence[str] = (), persona_text: str = "") -> dict[int, str]:
        return review.review_options(self.engine, statuses, persona_text)

    neighbours = staticmethod(review.neighbours)

    def repair(self, key_or_id: str | int, notes: str | None, *, provider: str | None = None,
               model: str | None = None, version: int | None = None) -> str:
        """Queue "Regenerate with my notes" for the background runner; returns the sentence to show."""
        job_id = repair.request(self.engine, key_or_id, notes, settings=self.app.settings, provider=provider,
                                model=model, version=version)
        return f"Writing a new version with your notes (job {job_id}); it appears here when it is done."

    def repair_now(self, key_or_id: str | int, notes: str | None, *, provider: str | None = None,
                   model: str | None = None, version: int | None = None,
                   on_progress: Callable[[progress.Progress], None] | None = None) -> foreground.SingleResult:
        """The same repair job, run here to its end (the CLI)."""
        job_id = repair.request(self.engine, key_or_id, notes, settings=self.app.settings, provider=provider,
                                model=model, version=version)
        [done] = self.app.jobs.run([job_id], on_progress=on_progress)
        return foreground.single_result(self.engine, browse.find_id(self.engine, key_or_id), done)

    def approve_version(self, key_or_id: str | int, version: int, *, reviewer: str | None = None,
                        notes: str | None = None):
        """Approve a version other than the current one; it becomes the current, exported one."""
        return versions.approve_version(self.engine, key_or_id, version, reviewer, notes, settings=self.app.settings)


class Judgements(Noun):
    """The content judge: judgements per version, the version picker and diff, the rubric."""

    def panel(self, key_or_id: str | int, version: int | None = None, against: int | None = None):
        """Judgement, versions and turn-by-turn diff of one version (default: the current one)."""
        return versions.panel(self.engine, key_or_id, version, against)

    def rubric(self):
        return judging.active_rubric(self.engine, self.app.settings)

    def judge(self, key_or_id: str | int, *, provider: str | None = None) -> dict:
        """Judge the current version as it is (seeds, imports, a new rubric): no gate, no repair."""
        return judging.judge_stored(self.engine, self.app.settings, key_or_id, provider)
