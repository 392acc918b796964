"""Generation jobs: plan, estimate, queue, run, follow and stop them."""

from __future__ import annotations

from typing import Callable, Sequence

from brightrun_gen.brightrun.noun import Noun
from brightrun_gen.services import (
    browse, budget, dashboard, estimate as estimating, foreground, generation_plans, progress, runner as runner_service,
)


class Jobs(Noun):
    """Generation: plan a job, estimate it, queue it, run it, follow it, stop it."""

    def enqueue(self, *, kind: str, ids: Sequence[int] = (), where: dict | None = None, provider: str | None = None,
                model: str | None = None, concurrency: int | None = None,
                use_batch: bool = False, max_cost: float | None = None) -> runner_service.EnqueueResult:
        return runner_service.enqueue(self.engine, kind=kind, conversation_ids=ids, where=where,
                                      settings=self.app.settings, provider=provider, model=model,
                                      concurrency=concurrency, use_batch=use_batch, max_cost_usd=max_cost)

    def ids_for_filter(self, where: dict) -> list[int]:
        return runner_service.ids_for_filter(self.engine, where)

    def start(self, plan: generation_plans.GenerationPlan, use_batch: bool = False, max_cost: float | None = None) -> str:
        """Queue a plan made by plan_one / plan_selected / plan_all; returns the sentence to show."""
        return generation_plans.start(self.engine, plan, use_batch, settings=self.app.settings, max_cost=max_cost)

    def plan_one(self, key_or_id: str | int) -> generation_plans.GenerationPlan:
        return generation_plans.plan_one(self.engine, key_or_id)

    plan_selected = staticmethod(generation_plans.plan_selected)
    plan_all = staticmethod(generation_plans.plan_all)
    count_all = staticmethod(generation_plans.count_all)
    with_progress = staticmethod(dashboard.with_progress)
    ended_sentence = staticmethod(dashboard.ended_sentence)

    def estimate(self, ids: Sequence[int], *, provider: str | None = None, model: str | None = None,
                 use_batch: bool = False) -> estimating.Estimate:
        return estimating.estimate(self.engine, ids, settings=self.app.settings, provider=provider, model=model,
                                   batch=use_batch)

    def run(self, job_ids: Sequence[int], *, concurrency: int | None = None,
            on_progress: Callable[[progress.Progress], None] | None = None) -> list[progress.Progress]:
        """Run queued jobs to their end in this thread (the CLI's foreground)."""
        return foreground.run_to_end(self.engine, self.app.settings, job_ids, concurrency=concurrency,
                                     on_progress=on_progress, provider_factory=self.app.provider_factory)

    def generate_now(self, key_or_id: str | int, *, provider: str | None = None, model: str | None = None,
                     on_progress: Callable[[progress.Progress], None] | None = None,
                     max_cost: float | None = None) -> foreground.SingleResult:
        """One conversation now, as a job of one run in the foreground: the UI's path, not a shortcut."""
        cid = browse.find_id(self.engine, key_or_id)
        job = self.enqueue(kind="single", ids=[cid], provider=provider, model=model, max_cost=max_cost)
        [done] = self.run([job.job_id], on_progress=on_progress)
        return foreground.single_result(self.engine, cid, done)

    def runner(self, *, concurrency: int | None = None, owner: str | None = None) -> runner_service.Runner:
        return runner_service.Runner(self.engine, self.app.settings, concurrency=concurrency, owner=owner,
                                     provider_factory=self.app.provider_factory)

    def start_background_runner(self) -> runner_service.Runner:
        """The runner of a server process or `brightrun worker`: a thread that picks up every job."""
        return self.runner().start_background()

    def release_dead_owners(self) -> int:
        return runner_service.release_dead_owners(self.engine)

    def stop(self, job_id: int) -> str:
        return dashboard.stop_job(self.engine, job_id)

    def stop_all(self) -> str:
        return dashboard.stop_all(self.engine)

    def retry_failed(self, job_id: int) -> str:
        return dashboard.retry(self.engine, job_id)

    def list(self, *, active_only: bool = False, limit: int = 20):
        return browse.jobs(self.engine, active_only=active_only, limit=limit)

    def active_ids(self) -> tuple[int, ...]:
        return dashboard.active_job_ids(self.engine)

    def progress(self, job_id: int) -> progress.Progress:
        return progress.job_progress(self.engine, job_id)

    def active_progress(self) -> list[progress.Progress]:
        return progress.active_progress(self.engine)

    def latest_progress(self) -> progress.Progress | None:
        return progress.latest_progress(self.engine)

    progress_view = staticmethod(dashboard.progress_view)

    def attempts(self, key_or_id: str | int | None = None, *, limit: int = 500):
        """The generation log: every attempt, newest first (of one conversation, or of all)."""
        return browse.attempts(self.engine, key_or_id, limit=limit)

    def raise_cap(self, job_id: int, max_cost: float) -> int:
        """A new budget cap; a job stopped at its cap goes on (run it with `run`). Items taken again."""
        return budget.raise_cap(self.engine, job_id, max_cost)

    def batch_advice(self, count: int, *, provider: str | None = None, model: str | None = None) -> str | None:
        """Why Message Batches would pay for `count` conversations, when the known rate limit makes them slow."""
        return estimating.batch_advice(self.engine, self.app.settings, count, provider=provider, model=model)
