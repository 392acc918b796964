"""A job's progress, computed from the queue tables only: the UI and CLI show the same numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timezone

from sqlalchemy import Engine

from brightrun_gen.services import pacing
from brightrun_gen.store import budget as budget_store, judgements as judge_store, queue, ratelimits
from brightrun_gen.store.db import read
from brightrun_gen.store.tables import utcnow


@dataclass(frozen=True)
class ItemState:
    """Where one conversation of a job stands, read with the job's counts: the table shows rows from it."""

    item: str  # pending | running | succeeded | failed | cancelled
    status: str  # the conversation's status in the same read
    error: str | None  # the reason of the conversation's failed-attempt marker; None without one


@dataclass(frozen=True)
class Progress:
    job_id: int
    status: str  # running | stopping | stopped | done
    kind: str
    provider: str
    model: str
    use_batch: bool
    total: int
    done: int
    succeeded: int
    failed: int
    cancelled: int
    running: int
    pending: int
    current: list[str] = field(default_factory=list)
    eta_seconds: float | None = None
    rate_per_minute: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    errors: list[dict] = field(default_factory=list)
    judged: int = 0  # conversations the judge scored
    repaired: int = 0  # conversations the gate repaired automatically
    flagged: int = 0  # conversations that failed the gate and wait for a reviewer
    max_cost_usd: float | None = None  # the job's budget cap
    stop_reason: str | None = None  # "budget" when the cap stopped it
    calls_refused: int = 0  # calls the API refused (429/529), the SDK's retries included
    wait_seconds: float = 0.0  # time the runner held calls back for the rate limits
    paced_by: str | None = None  # the rate limit the ETA is bound by ('180,000 output tokens a minute')
    items: dict[int, ItemState] = field(default_factory=dict)  # conversation id -> its state in this job

    @property
    def stopped_by_budget(self) -> bool:
        return self.stop_reason == "budget"

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def active(self) -> bool:
        return self.status in ("running", "stopping")

    def summary(self) -> str:
        status = f"{self.status} (budget: cap ${self.max_cost_usd:.2f} reached)" if self.stopped_by_budget else self.status
        judged = f"; judged {self.judged}, repaired {self.repaired}, flagged {self.flagged}" if self.judged else ""
        limits = "" if self.provider == "offline" else (
            f"; {self.calls_refused} call(s) refused by the rate limits (429/529), "
            f"{self.wait_seconds:.0f} s waiting for them")
        return (f"job {self.job_id} {status}: {self.done} of {self.total} done, {self.succeeded} succeeded, "
                f"{self.failed} failed, {self.cancelled} cancelled, ${self.cost_usd:.4f}{judged}{limits}")


def job_progress(engine: Engine, job_id: int) -> Progress:
    with read(engine) as conn:
        job = queue.get_job(conn, job_id)
        rows = queue.item_states(conn, job_id)
        counts = queue.counts_of([row.item_status for row in rows])
        labels = queue.running_item_labels(conn, job_id)
        first_start, _, finished = queue.finished_times(conn, job_id)
        tokens_in, tokens_out, cost = queue.job_usage(conn, job_id)
        errors = queue.job_errors(conn, job_id)
        judged, repaired, flagged = judge_store.job_counts(conn, job_id)
        cap, stop_reason = budget_store.job_budget(conn, job_id)
        account, refused, waited = ratelimits.job_pacing(conn, job_id)
    done = counts.succeeded + counts.failed + counts.cancelled
    left = counts.pending + counts.running
    rate, eta = _rate_and_eta(first_start, finished, left)
    # The observed rate is optimistic while the first calls spend a full bucket: the limit bounds the ETA.
    paced = pacing.time_at_limits(engine, account, job.model, left) if job.status == "running" and not job.use_batch else None
    if paced and (eta is None or paced.seconds > eta):
        eta = paced.seconds
    return Progress(
        job_id=job.id, status=job.status, kind=job.kind, provider=job.provider, model=job.model,
        use_batch=job.use_batch, total=counts.total, done=done, succeeded=counts.succeeded, failed=counts.failed,
        cancelled=counts.cancelled, running=counts.running, pending=counts.pending,
        current=[current_label(label) for label in labels], eta_seconds=eta, rate_per_minute=rate,
        input_tokens=tokens_in, output_tokens=tokens_out, cost_usd=cost, errors=errors,
        judged=judged, repaired=repaired, flagged=flagged, max_cost_usd=cap, stop_reason=stop_reason,
        items={row.conversation_id: ItemState(row.item_status, row.status, row.error) for row in rows},
        calls_refused=refused, wait_seconds=waited, paced_by=paced.limit if paced and paced.seconds == eta else None,
    )


def current_label(label: dict) -> str:
    """'Generating T2-001: Anxious First-Time Investor – Retirement Planning': the row's key, as the table shows it."""
    persona = label.get("archetype") or label.get("name") or "?"
    persona = persona.removeprefix("The ")
    return f"Generating {label['key']}: {persona} – {label.get('topic') or '?'}"


def _rate_and_eta(first_start, finished: int, remaining: int) -> tuple[float | None, float | None]:
    """Observed items per minute since the first start, and the time the rest will take at that rate."""
    if not first_start or not finished:
        return None, None
    elapsed = max((utcnow() - _aware(first_start)).total_seconds(), 1e-3)
    per_second = finished / elapsed
    return per_second * 60, (remaining / per_second if per_second else None)


def _aware(value):
    """SQLite returns naive datetimes for timezone-aware columns; they are stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def active_progress(engine: Engine) -> list[Progress]:
    """Progress of every running or stopping job, newest first (jobs from any tab or process)."""
    return [job_progress(engine, job.id) for job in queue.list_jobs(engine, active_only=True)]


def latest_progress(engine: Engine) -> Progress | None:
    jobs = queue.list_jobs(engine, limit=1)
    return job_progress(engine, jobs[0].id) if jobs else None
