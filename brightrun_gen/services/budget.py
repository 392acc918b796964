"""The budget cap of a generation job: the runner claims an item only while the money spent plus
what the items in flight will cost stays under the cap; then the job stops with the reason "budget".

Judge and repair calls are logged under the job's queue items, so they count like generation.
Nothing already written is lost by the stop (it is a normal stop); `resume --max-cost` with a
higher cap takes the cancelled items again.
"""

from __future__ import annotations

import logging
import math

from sqlalchemy import Connection, Engine

from brightrun_gen.config import Settings
from brightrun_gen.errors import InputError
from brightrun_gen.llm.base import Provider
from brightrun_gen.services import judging
from brightrun_gen.services.estimate import TYPICAL_INPUT_TOKENS, TYPICAL_OUTPUT_TOKENS
from brightrun_gen.services.generation import price_table
from brightrun_gen.store import budget as store
from brightrun_gen.store.db import write

logger = logging.getLogger(__name__)

def cap_values(engine: Engine, settings: Settings, provider: Provider, max_cost_usd: float | None, *,
               use_batch: bool = False) -> dict:
    """The job columns of a cap (the setting's default when none is given): the cap and the cost of
    one item expected before any item of the job has finished. A batch is submitted whole, so a cap
    cannot stop it part way: the default leaves batches uncapped, an explicit cap is refused."""
    if use_batch and max_cost_usd is not None:
        raise InputError("--max-cost cannot cap a Message Batches job (it is submitted whole); leave out --batch")
    cap = max_cost_usd if max_cost_usd is not None else settings.max_cost_usd
    if cap is None or use_batch:
        return {}
    if not cap > 0:
        raise InputError(f"--max-cost {cap}: a budget cap must be more than $0")
    return {"max_cost_usd": float(cap), "item_cost_estimate": item_estimate(engine, settings, provider)}


def item_estimate(engine: Engine, settings: Settings, provider: Provider) -> float:
    """One conversation's expected cost: its generation plus its judgement (from the log, else typical)."""
    prices = price_table(settings.price_file)
    generate = store.average_cost(engine, provider.model, "generate")
    if generate is None:
        generate = prices.cost(provider.model, input_tokens=TYPICAL_INPUT_TOKENS, output_tokens=TYPICAL_OUTPUT_TOKENS)
    return generate + judging.expected_judge_cost(engine, settings, provider)


def admit(conn: Connection, limit: int, job_id: int | None = None) -> int:
    """How many items may be claimed now (at most `limit`). A capped job that cannot take one more
    item without passing its cap stops claiming here, with the reason "budget"."""
    for job in store.capped_running_jobs(conn, job_id):
        spend = store.job_spend(conn, job.id)
        per_item = spend.finished_cost / spend.finished if spend.finished else (job.item_cost_estimate or 0.0)
        if per_item <= 0:
            continue  # free (offline): a cap never binds
        allowance = math.floor((job.max_cost_usd - spend.spent) / per_item + 1e-9) - spend.running
        if allowance <= 0:
            cancelled = store.stop_at_cap(conn, job.id)
            logger.info("job %s stops at its budget cap $%.4f: $%.4f spent, %s in flight at ~$%.4f each, "
                        "%s waiting item(s) cancelled", job.id, job.max_cost_usd, spend.spent, spend.running, per_item,
                        cancelled)
            continue
        limit = min(limit, allowance)
    return limit


def raise_cap(engine: Engine, job_id: int, max_cost_usd: float) -> int:
    """Set a job's cap; a job stopped at its cap goes on. Returns how many items were taken again."""
    if not max_cost_usd > 0:
        raise InputError(f"--max-cost {max_cost_usd}: a budget cap must be more than $0")
    with write(engine) as conn:
        return store.raise_cap(conn, job_id, max_cost_usd)
