"""Message Batches mode: submit a job's items as one batch, poll it, import the results.

Results go through the same validation, scoring, saving and logging path as direct calls.
The batch id is stored on the job and its items as soon as the batch exists, so a crash
between submit and import loses nothing: the next runner polls the same batch.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from brightrun_gen.errors import BrightRunError, InvalidAnswer, LeaseLost
from brightrun_gen.llm.base import Answer
from brightrun_gen.services import generation, judging
from brightrun_gen.store import conversations as conv_store, queue
from brightrun_gen.store.db import read, write

logger = logging.getLogger(__name__)

# Batches finish within 24 h; the lease covers that, so no direct worker takes the items.
BATCH_LEASE_SECONDS = timedelta(hours=25).total_seconds()
MAX_BATCH_ITEMS = 100_000


def advance_batch_jobs(runner, job_id: int | None = None) -> bool:
    """Submit unsubmitted batch jobs, import ended ones; True if a batch job is open."""
    jobs = [j for j in queue.list_jobs(runner.engine, active_only=True, limit=100) if j.use_batch]
    if job_id is not None:
        jobs = [j for j in jobs if j.id == job_id]
    for job in jobs:
        if job.batch_id is None:
            _submit(runner, job)
        else:
            _poll(runner, job)
    return bool(jobs)


def _submit(runner, job: queue.Job) -> None:
    with write(runner.engine) as conn:
        items = queue.claim_items(conn, runner.owner, runner.settings.lease_seconds, MAX_BATCH_ITEMS,
                                  job_id=job.id, batch=True)
    if not items:
        return
    provider = runner._provider(job)
    prompts, prepared = {}, {}
    for item in items:
        try:
            prepared[item.id] = generation.prepare(runner.engine, item.conversation_id, settings=runner.settings)
            prompts[str(item.id)] = prepared[item.id].prompt
        except BrightRunError as exc:
            logger.warning("batch job %s: queue item %s left out: %s", job.id, item.id, exc)
            _close(runner.engine, item.id, item.conversation_id, runner.owner, str(exc))
    if not prompts:
        queue.close_finished_jobs(runner.engine)
        return
    batch_id = provider.submit_batch(prompts)
    logger.info("batch job %s: submitted %s request(s) as batch %s", job.id, len(prompts), batch_id)
    owner = f"batch:{batch_id}"
    with write(runner.engine) as conn:
        queue.set_batch(conn, job.id, batch_id, [int(k) for k in prompts])
        # The items now belong to the batch, under a lease long enough that only its import closes them.
        queue.transfer_leases(conn, [int(k) for k in prompts], runner.owner, owner, BATCH_LEASE_SECONDS)


def _poll(runner, job: queue.Job) -> None:
    provider = runner._provider(job)
    status = provider.batch_status(job.batch_id)
    if status != "ended":
        logger.debug("batch job %s: batch %s is %s", job.id, job.batch_id, status)
        return
    results = provider.batch_results(job.batch_id)
    logger.info("batch job %s: batch %s ended with %s result(s)", job.id, job.batch_id, len(results))
    with read(runner.engine) as conn:
        items = queue.batch_items(conn, job.id)
    prices = generation.price_table(runner.settings.price_file)
    for item_id, conversation_id, owner in items:
        result = results.get(str(item_id))
        if isinstance(result, Answer):
            _import_answer(runner, item_id, conversation_id, owner, result, prices, job)
        else:
            reason = str(result) if result else "the batch returned no result for this item"
            _close(runner.engine, item_id, conversation_id, owner, reason)
    queue.close_finished_jobs(runner.engine)


def _import_answer(runner, item_id: int, conversation_id: int, owner: str, answer: Answer, prices, job) -> None:
    prepared = generation.prepare(runner.engine, conversation_id, settings=runner.settings)
    log = {"conversation_id": conversation_id, "queue_item_id": item_id, "attempt": 1, "provider": job.provider,
           "model": job.model, "template_name": prepared.prompt.template, "template_hash": prepared.prompt.template_hash,
           "parameters": {**generation.logged_parameters(prepared), "model": job.model, "batch_id": job.batch_id}}

    def finish(conn, status, error):
        if not queue.finish_item(conn, item_id, owner, status, error):
            raise LeaseLost(f"queue item {item_id} was already imported")

    try:
        gate = judging.gate_for(runner.engine, runner.settings, runner._provider(job), prepared, prices, item_id)
        generation.store_answer(runner.engine, prepared, answer, prices, log, time.perf_counter(), batch=True,
                                gate=gate, finish=finish)
    except InvalidAnswer as exc:
        logger.warning("batch job %s: queue item %s rejected: %s", job.id, item_id, exc)
        _close(runner.engine, item_id, conversation_id, owner, f"batch answer rejected: {exc}")
    except LeaseLost:
        logger.info("batch job %s: queue item %s was already imported", job.id, item_id)


def _close(engine, item_id: int, conversation_id: int, owner: str, reason: str) -> None:
    with write(engine) as conn:
        if queue.finish_item(conn, item_id, owner, "failed", reason):
            conv_store.mark_failed(conn, conversation_id, reason)
