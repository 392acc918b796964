"""What the dashboard page shows and does: filtered table, labels, preview, generate/stop, progress text.

The page only lays these out. Every text meant for st.markdown comes back markdown-escaped
(`escape_markdown`), so model output, seed text and imported names always show as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pandas as pd
from sqlalchemy import Engine

from brightrun_gen.domain.markdown import escape_markdown
from brightrun_gen.domain.vocabulary import (
    BUSY, DIMENSIONS, FILTER_LABELS, OFFLINE_MODEL, STATUS_COLORS, STATUS_LABELS, TIER_LABELS, WRITTEN,
)
from brightrun_gen.services import browse, generation_plans, planning, runner
from brightrun_gen.services.estimate import duration_text
from brightrun_gen.services.progress import Progress
from brightrun_gen.services.review import not_reviewable_reason
from brightrun_gen.store import catalog_repo, queue
from brightrun_gen.store.conversations import ConversationQuery

GRID_COLUMNS = ["id", "key", "persona", "emotion", "topic", "tier", "status", "quality_score", "model", "updated_at",
                "action", "status_key", "version", "model_key", "failed_note", "persona_label"]
# The Actions column: Generate for rows without text (a failed row never had any: a failed
# regeneration keeps its row's status), Regenerate for the rest, nothing for seeds and busy rows.
ACTION_LABELS = {"not_generated": "Generate", "failed": "Generate"}


@dataclass(frozen=True)
class FilterChoices:
    options: dict[str, list]
    labels: dict[str, dict]

    def label(self, dimension: str, value) -> str:
        return self.labels.get(dimension, {}).get(value, str(value))

    def badges(self, filters: dict[str, Sequence]) -> list["Badge"]:
        """One removable badge per chosen value: 'Persona: Marcus Thompson ✕'; one 'all' badge when
        every value of a filter is chosen, since that filters nothing (removing it clears the filter)."""
        found = []
        for name, values in active_filters(filters).items():
            title = FILTER_LABELS.get(name, name)
            if set(values) >= set(self.options.get(name, ())):
                found.append(Badge(name, None, f"{title}: all ✕"))
                continue
            found += [Badge(name, v, f"{title}: {self.label(name, v)} ✕") for v in values]
        return found


@dataclass(frozen=True)
class Badge:
    dimension: str
    value: object  # None: the badge stands for every value of the dimension
    text: str


@dataclass(frozen=True)
class DashboardData:
    table: pd.DataFrame  # GRID_COLUMNS, display labels; status_key holds the raw status
    total: int

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
    failed_note: str | None  # markdown-escaped: the failed-attempt marker and its reason
    review_problem: str | None  # why it cannot be reviewed now; None when it can
    reviewer_notes: str  # the notes of the latest decision (plain text for a text area)


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
    """Widget values -> the store query: any-of per dimension, all of the dimensions (every value of a
    dimension chosen selects the same rows as none)."""
    where = {k: list(v) for k, v in filters.items() if v and k in DIMENSIONS}
    return ConversationQuery(where=where, statuses=list(filters.get("status") or ()))


def active_filters(filters: dict[str, Sequence]) -> dict[str, list]:
    return {k: list(v) for k, v in filters.items() if v}


def load_dashboard(engine: Engine, filters: dict[str, Sequence]) -> DashboardData:
    """The grid rows for the filters (SQL does the filtering) and the total."""
    table = browse.conversation_table(engine, build_query(filters))
    total = sum(browse.status_counts(engine).values())
    return DashboardData(_display(engine, table), total)


def _display(engine: Engine, table: pd.DataFrame) -> pd.DataFrame:
    labels = _labels(engine)
    failed = table["failed_at"].notna()
    shown = table.assign(
        status_key=table["status"],
        persona_label=table["persona"],  # 'Priya Nair - The Anxious First-Time Investor', the cell's tooltip
        persona=table["persona_key"].map(labels["persona"]).fillna(table["persona"]),
        topic=table["topic"].map(labels["topic"]).fillna(table["topic"]),
        emotion=table["emotion"].str.replace("_", " ").str.title(),
        quality_score=pd.to_numeric(table["quality_score"]).round(1),
        model_key=table["model"],
        model=table["model"].replace("", "—"),
        updated_at=pd.to_datetime(table["updated_at"]).dt.strftime("%Y-%m-%d %H:%M"),
        failed_note=table["last_error"].where(failed, "").map(_failed_note),
    )
    return _labelled(shown)[GRID_COLUMNS]


def _failed_note(error: str) -> str:
    return f"Last attempt failed: {' '.join(error.split())}" if error else ""


def _labelled(table: pd.DataFrame) -> pd.DataFrame:
    """Status label (with the failed-attempt marker) and the Actions label, from status_key and failed_note.

    Plain loops, not pandas expressions: this runs at every poll of every open dashboard during a job,
    and a few list passes over the rows cost a fraction of a dozen column operations."""
    keys, notes = table["status_key"].tolist(), table["failed_note"].tolist()
    return table.assign(
        status=_column(table, [STATUS_LABELS.get(k, k) + (" ⚠" if note else "") for k, note in zip(keys, notes)]),
        action=_column(table, ["" if k in generation_plans.NEVER else ACTION_LABELS.get(k, "Regenerate") for k in keys]))


def _column(table: pd.DataFrame, values: list) -> pd.Series:
    """A column as plain Python objects: pandas would turn a list of strings into an Arrow string
    array, which costs more than everything else this module does per poll."""
    return pd.Series(values, index=table.index, dtype=object)


def with_progress(table: pd.DataFrame, jobs: Sequence[Progress]) -> pd.DataFrame:
    """The table with each row of a running job as that job's progress read shows it (queued,
    generating, or done with its status then), so the table and the progress panel agree."""
    states = {cid: state for p in reversed(jobs) for cid, state in p.items.items()}
    ids = table["id"].tolist()
    if not states or states.keys().isdisjoint(ids):
        return table
    keys, notes, versions = table["status_key"].tolist(), table["failed_note"].tolist(), table["version"].tolist()
    for n, cid in enumerate(ids):
        state = states.get(cid)
        if state is None:
            continue
        keys[n] = _BUSY_ITEMS.get(state.item, state.status)
        notes[n] = _failed_note(state.error or "")
        if keys[n] in WRITTEN:  # written by the job, though the table may have been read before that
            versions[n] = max(versions[n], 1)
    return _labelled(table.assign(status_key=_column(table, keys), failed_note=_column(table, notes),
                                  version=_column(table, versions)))


_BUSY_ITEMS = {"pending": "queued", "running": "generating"}


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
    failed = _failed_note(row.last_error or "failed") if row.failed_at else None
    return Preview(
        id=row.id, key=row.key, title=escape_markdown(row.key), status=row.status,
        status_label=STATUS_LABELS.get(row.status, row.status), status_color=STATUS_COLORS.get(row.status, "gray"),
        facts=[(label, escape_markdown(value)) for label, value in facts],
        turns=[TurnView(t.role, escape_markdown(t.content)) for t in detail.turns],
        offline=row.model == OFFLINE_MODEL,
        generate_label="Regenerate" if row.current_version else "Generate",
        blocked_reason=_blocked(row.status, job_running),
        failed_note=escape_markdown(failed) if failed else None,
        review_problem=not_reviewable_reason(row.key, row.status, bool(detail.turns)),
        reviewer_notes=row.reviewer_notes or "",
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
    if job_running:
        return "A generation job is running; wait for it to finish or stop it."
    return None


# --- stop and retry ------------------------------------------------------------------------------


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


def ended_sentence(p: Progress) -> str:
    """The toast when a job ends: 'Job 3 finished: 5 conversations generated, 1 failed.'"""
    verb = "stopped" if p.status == "stopped" else "finished"
    failed = f", {p.failed} failed" if p.failed else ""
    cancelled = f", {p.cancelled} cancelled" if p.cancelled else ""
    noun = "conversation" if p.succeeded == 1 else "conversations"
    return f"Job {p.job_id} {verb}: {p.succeeded} {noun} generated{failed}{cancelled}."
