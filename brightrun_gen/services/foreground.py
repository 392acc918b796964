"""Jobs run to their end in the calling thread (the CLI), through the same queue the UI uses."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from sqlalchemy import Engine

from brightrun_gen.config import Settings
from brightrun_gen.llm.base import Provider
from brightrun_gen.services import runner as runner_service
from brightrun_gen.services.progress import Progress, job_progress
from brightrun_gen.store import conversations as conv_store, logs as log_store
from brightrun_gen.store.db import read

logger = logging.getLogger(__name__)

# Items still leased by another worker, or a batch in flight: look again after this long.
LEASED_POLL_SECONDS = 1.0
BATCH_POLL_SECONDS = 10.0


def run_to_end(engine: Engine, settings: Settings, job_ids: Sequence[int], *, concurrency: int | None = None,
               on_progress: Callable[[Progress], None] | None = None,
               provider_factory: Callable[[str, str], Provider] | None = None) -> list[Progress]:
    """Run each job until nothing of it is left; returns each job's final progress."""
    runner = runner_service.Runner(engine, settings, concurrency=concurrency, provider_factory=provider_factory)
    runner_service.release_dead_owners(engine)
    finished = []
    for job_id in job_ids:
        def report(job_id: int = job_id) -> Progress:
            snap = job_progress(engine, job_id)
            if on_progress:
                on_progress(snap)
            return snap

        while True:
            runner.run_until_idle(job_id, on_progress=report)
            snap = report()
            if not snap.active:
                break
            logger.debug("job %s: %s item(s) still leased elsewhere or in a batch; waiting", job_id, snap.running)
            time.sleep(BATCH_POLL_SECONDS if snap.use_batch else LEASED_POLL_SECONDS)
        finished.append(snap)
    return finished


@dataclass(frozen=True)
class SingleResult:
    """What `brightrun generate ID` reports about the one conversation its job wrote."""

    key: str
    status: str  # generated | failed
    version: int | None
    quality_score: float | None
    model: str
    cost_usd: float
    attempts: int
    error: str | None


def single_result(engine: Engine, conversation_id: int, progress: Progress) -> SingleResult:
    """The stored outcome of a job of one: the row as it is now and the attempts the job made."""
    with read(engine) as conn:
        row = conv_store.get_row(conn, conversation_id)
    attempts, model = log_store.job_attempts(engine, progress.job_id, conversation_id)
    failed = progress.failed > 0 or progress.succeeded == 0
    error = progress.errors[0]["error"] if progress.errors else None
    return SingleResult(row.key, "failed" if failed else "generated", None if failed else row.current_version,
                        None if failed else row.quality_score, model or progress.model,
                        progress.cost_usd, attempts, error)
