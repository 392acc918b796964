"""What the dashboard page shows and does: filtered table, labels, preview, generate/stop, progress text.

The page only lays these out. Every text meant for st.markdown comes back markdown-escaped
(`escape_markdown`), so model output, seed text and imported names always show as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import pandas as pd
from sqlalchemy import Engine

from brightrun_gen.config import Settings
from brightrun_gen.domain.markdown import escape_markdown
from brightrun_gen.domain.models import (
    BUSY, DIMENSIONS, FILTER_LABELS, GENERATABLE, KEPT, OFFLINE_MODEL, STATUS_COLORS, STATUS_LABELS, TIER_LABELS,
)
from brightrun_gen.errors import InputError
from brightrun_gen.services import browse, planning, runner
from brightrun_gen.services.estimate import duration_text
from brightrun_gen.services.progress import Progress
from brightrun_gen.store import catalog_repo, queue
from brightrun_gen.store.conversations import ConversationQuery

GRID_COLUMNS = ["id", "key", "persona", "emotion", "topic", "tier", "status", "quality_score", "model", "updated_at",
                "status_key"]


@dataclass(frozen=True)
class FilterChoices:
    options: dict[str, list]
    labels: dict[str, dict]

    def label(self, dimension: str, value) -> str:
        return self.labels.get(dimension, {}).get(value, str(value))

    def badges(self, filters: dict[str, Sequence]) -> list["Badge"]:
        """One removable badge per chosen value: 'Persona: Marcus Thompson ✕'."""
        return [Badge(k, v, f"{FILTER_LABELS.get(k, k)}: {self.label(k, v)} ✕")
                for k, values in active_filters(filters).items() for v in values]


@dataclass(frozen=True)
class Badge:
    dimension: str
    value: object
    text: str


@dataclass(frozen=True)
class DashboardData:
    table: pd.DataFrame  # GRID_COLUMNS, display labels; status_key holds the raw status
    total: int
    generatable_ids: tuple[int, ...]

    @property
    def shown(self) -> int:
        return len(self.table)


@dataclass(frozen=True)
class TurnView:
    """A turn as the preview panel shows it: not a StoredTurn, because its text is markdown-escaped."""

    role: str  # user | assistant
    text: str  # markdown-escaped


@dataclass(frozen=True)
class Preview:
    id: int
    key: str
    title: str  # markdown-escaped key
    status: str
    status_label: str
    status_color: str
    facts: list[tuple[str, str]]  # (label, markdown-escaped value)
    turns: list[TurnView]
    offline: bool
    generate_label: str
    blocked_reason: str | None  # why this row cannot be generated now
    last_error: str | None  # markdown-escaped


@dataclass(frozen=True)
class GenerationPlan:
    kind: str  # single | selected | filter | all
    count: int
    ids: tuple[int, ...] = ()
    where: dict = field(default_factory=dict)
    skipped: int = 0


# --- filters and table ---------------------------------------------------------------------------


def filter_choices(engine: Engine) -> FilterChoices:
    """The values present in the store per filter (every status always), with display labels."""
    options = browse.filter_options(engine)
    options["status"] = list(STATUS_LABELS)
    return FilterChoices(options, _labels(engine))


def _labels(engine: Engine) -> dict[str, dict]:
    names = {s: {e["key"]: e["name"] for e in catalog_repo.list_section(engine, s)}
             for s in ("emotions", "intents", "tones", "outcome_types", "topics")}
    personas = {p["key"]: p["name"] for p in catalog_repo.list_section(engine, "personas")}
    return {"persona": personas, "emotion_start": names["emotions"], "emotion_end": names["emotions"],
            "intent": names["intents"], "tone": names["tones"], "outcome_type": names["outcome_types"],
            "topic": names["topics"], "tier": TIER_LABELS, "status": STATUS_LABELS}


def build_query(filters: dict[str, Sequence]) -> ConversationQuery:
    """Widget values -> the store query: any-of per dimension, all of the dimensions."""
    where = {k: list(v) for k, v in filters.items() if v and k in DIMENSIONS}
    return ConversationQuery(where=where, statuses=list(filters.get("status") or ()))


def active_filters(filters: dict[str, Sequence]) -> dict[str, list]:
    return {k: list(v) for k, v in filters.items() if v}


def load_dashboard(engine: Engine, filters: dict[str, Sequence]) -> DashboardData:
    """The grid rows for the filters (SQL does the filtering), the total, and what 'Generate all' takes."""
    table = browse.conversation_table(engine, build_query(filters))
    total = sum(browse.status_counts(engine).values())
    takes = table["status"].isin(_generatable_statuses(filters))
    generatable = tuple(int(i) for i in table.loc[takes, "id"])
    return DashboardData(_display(engine, table), total, generatable)


def _generatable_statuses(filters: dict[str, Sequence]) -> list[str]:
    chosen = filters.get("status")
    return [s for s in chosen if s not in KEPT + BUSY] if chosen else list(GENERATABLE)


def _display(engine: Engine, table: pd.DataFrame) -> pd.DataFrame:
    names = {e["key"]: e["name"] for e in catalog_repo.list_section(engine, "topics")}
    shown = table.assign(
        status_key=table["status"],
        status=table["status"].map(STATUS_LABELS).fillna(table["status"]),
        topic=table["topic"].map(names).fillna(table["topic"]),
        emotion=table["emotion"].str.replace("_", " ").str.title(),
        quality_score=pd.to_numeric(table["quality_score"]).round(1),
        model=table["model"].replace("", "—"),
        updated_at=pd.to_datetime(table["updated_at"]).dt.strftime("%Y-%m-%d %H:%M"),
    )
    return shown[GRID_COLUMNS]


# --- preview -------------------------------------------------------------------------------------

def preview(engine: Engine, key: str, *, job_running: bool = False) -> Preview:
    """One conversation as the preview panel shows it (raises NotFound for an unknown key)."""
    detail = browse.conversation_detail(engine, key)
    row, dims = detail.row, detail.row.dimensions
    labels = _labels(engine)
    persona = browse.persona_labels(engine).get(dims.persona, dims.persona)
    emotion = f"{labels['emotion_start'].get(dims.emotion_start, dims.emotion_start)} → " \
              f"{labels['emotion_end'].get(dims.emotion_end, dims.emotion_end)}"
    facts = [("Persona", persona), ("Emotion", emotion), ("Topic", labels["topic"].get(dims.topic, dims.topic)),
             ("Tier", f"Tier {TIER_LABELS.get(dims.tier, dims.tier)}"), ("Model", model_label(row.model)),
             ("Quality", "—" if row.quality_score is None else f"{row.quality_score:.1f} / 10"),
             *planning.variation_facts(engine, detail.metadata)]
    return Preview(
        id=row.id, key=row.key, title=escape_markdown(row.key), status=row.status, status_label=STATUS_LABELS.get(row.status, row.status),
        status_color=STATUS_COLORS.get(row.status, "gray"),
        facts=[(label, escape_markdown(value)) for label, value in facts],
        turns=[TurnView(t.role, escape_markdown(t.content)) for t in detail.turns],
        offline=row.model == OFFLINE_MODEL,
        generate_label="Regenerate" if row.current_version else "Generate",
        blocked_reason=_blocked(row.status, job_running),
        last_error=escape_markdown(row.last_error) if row.status == "failed" else None,
    )


def model_label(model: str | None) -> str:
    if not model:
        return "—"
    return "offline (placeholder text, not Claude)" if model == OFFLINE_MODEL else model


def _blocked(status: str, job_running: bool) -> str | None:
    if status in BUSY:
        return "This conversation is already waiting or being generated."
    if status == "seed":
        return "Seed conversations are our own examples; they are not generated."
    if status == "approved":
        return "Approved conversations are final; they are not regenerated."
    if job_running:
        return "A generation job is running; wait for it to finish or stop it."
    return None


# --- generate and stop ---------------------------------------------------------------------------


def plan_selected(table: pd.DataFrame, selected_ids: Sequence[int]) -> GenerationPlan:
    """The selected rows that can be generated: seeds, approved and busy rows are left out."""
    chosen = table[table["id"].isin([int(i) for i in selected_ids])]
    usable = chosen[~chosen["status_key"].isin(KEPT + BUSY)]
    ids = tuple(int(i) for i in usable["id"])
    return GenerationPlan("single" if len(ids) == 1 else "selected", len(ids), ids=ids, skipped=len(chosen) - len(ids))


def plan_one(conversation_id: int) -> GenerationPlan:
    return GenerationPlan("single", 1, ids=(int(conversation_id),))


def plan_all(data: DashboardData, filters: dict[str, Sequence]) -> GenerationPlan:
    """Every row of the current filter that is not generated yet (or of the chosen statuses)."""
    where = active_filters(filters)
    if "status" in where:
        where["status"] = _generatable_statuses(filters)
    return GenerationPlan("filter" if where else "all", len(data.generatable_ids), ids=data.generatable_ids,
                          where=where)


def start(engine: Engine, plan: GenerationPlan, use_batch: bool = False, *, settings: Settings | None = None,
          max_cost: float | None = None) -> str:
    """Queue the plan; returns the sentence the page shows (BrightRunError on failure)."""
    if not plan.count:
        raise InputError("nothing to generate: no row of this selection can be generated")
    if plan.kind in ("single", "selected"):
        result = runner.enqueue(engine, kind=plan.kind, conversation_ids=plan.ids, use_batch=use_batch,
                                settings=settings, max_cost_usd=max_cost)
    else:
        result = runner.enqueue(engine, kind=plan.kind, where=plan.where, use_batch=use_batch, settings=settings,
                                max_cost_usd=max_cost)
    already = f"; {result.skipped} were already queued" if result.skipped else ""
    return f"Queued {result.enqueued} conversation(s) for generation (job {result.job_id}){already}."


def active_job_ids(engine: Engine) -> tuple[int, ...]:
    return tuple(job.id for job in queue.list_jobs(engine, active_only=True))


def stop_job(engine: Engine, job_id: int) -> str:
    cancelled = runner.stop(engine, job_id)
    return f"Stopping job {job_id}: {cancelled} waiting conversation(s) cancelled; everything done is kept."


def stop_all(engine: Engine) -> str:
    """Stop every running job; what is generated stays, the rest goes back to rest."""
    jobs = active_job_ids(engine)
    cancelled = sum(runner.stop(engine, job_id) for job_id in jobs)
    if not jobs:
        return "Nothing is running."
    return f"Stopping: {cancelled} waiting conversation(s) cancelled; those in progress finish, everything done is kept."


def retry(engine: Engine, job_id: int) -> str:
    reopened = runner.retry_failed(engine, job_id)
    if not reopened:
        return "No failed conversations to retry in this job."
    return f"Retrying {reopened} failed conversation(s) of job {job_id}."


# --- progress text -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressView:
    job_id: int
    title: str
    fraction: float
    bar_text: str
    current: list[str]  # markdown-escaped
    eta: str
    counts: str
    errors: list[str]  # markdown-escaped "key: error" lines
    active: bool


def progress_view(p: Progress) -> ProgressView:
    """The progress panel's sentences for one job."""
    verb = {"running": "Generating", "stopping": "Stopping", "stopped": "Stopped", "done": "Finished"}
    title = f"{verb.get(p.status, p.status.title())} · job {p.job_id}" + (" (offline)" if p.provider == "offline" else "")
    if p.stopped_by_budget:
        title = f"{title} · budget cap ${p.max_cost_usd:,.2f} reached"
    if p.status == "stopping":
        eta = "Finishing the conversations in progress…"
    elif not p.active:
        eta = ""
    elif p.eta_seconds is None:
        eta = "Estimating time left…"
    else:
        paced = f" (paced to your rate limit of {p.paced_by})" if p.paced_by else ""
        eta = f"Time left: {duration_text(p.eta_seconds)}{paced}"
    cancelled = f" · {p.cancelled} cancelled" if p.cancelled else ""
    cost = f"${p.cost_usd:,.2f}" + (" so far" if p.active else "")
    judged = f" · {p.judged} judged · {p.repaired} repaired · {p.flagged} flagged" if p.judged else ""
    refused = f" · {p.calls_refused} call(s) refused by the rate limits" if p.calls_refused else ""
    counts = f"✓ {p.succeeded} succeeded · ✗ {p.failed} failed{cancelled}{judged}{refused} · {cost}"
    return ProgressView(
        job_id=p.job_id, title=title, fraction=min(1.0, p.fraction), bar_text=f"{p.done} of {p.total}",
        current=[escape_markdown(c) for c in p.current[:3]], eta=eta, counts=counts,
        errors=[escape_markdown(f"{e['key']}: {e['error']}") for e in p.errors], active=p.active,
    )
