"""Reviewing conversations: a decision and its audit trail, the review queue, the review view."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Sequence

from sqlalchemy import Connection, Engine

from brightrun_gen.config import Settings, get_settings
from brightrun_gen.domain.vocabulary import STATUS_LABELS, WRITTEN
from brightrun_gen.errors import InputError
from brightrun_gen.services import templates
from brightrun_gen.services.browse import persona_labels
from brightrun_gen.store import (
    catalog_repo, conversations as conv_store, logs as log_store, reviews as review_store,
)
from brightrun_gen.store.conversations import ConversationDetail, ConversationQuery, ConversationRow
from brightrun_gen.store.db import read, write
from brightrun_gen.store.tables import utcnow

# Words a person or a script may use for each decision.
_ACTION_WORDS = {
    "approved": "approved", "approve": "approved",
    "needs_edit": "needs_edit", "needs edit": "needs_edit", "needs-edit": "needs_edit", "edit": "needs_edit",
    "rejected": "rejected", "reject": "rejected",
}
# The review queue walks conversations that were generated and nobody has decided on yet.
QUEUE_STATUS = "generated"
REVIEWER_MAX = 200
# One click can reach review() twice a fraction of a second apart (a button callback racing a
# fragment rerun of the same session). The same decision again within this window is that click
# arriving twice, not a second decision, so it is recorded once; a person deciding again takes longer.
REPEAT_WINDOW_SECONDS = 5.0


def decision_for(action: str) -> str:
    """The status an action word leads to: 'approve' -> 'approved'."""
    found = _ACTION_WORDS.get(str(action).strip().lower())
    if found is None:
        raise InputError(f"review action {action!r} is unknown; use approve, needs_edit or reject")
    return found


def review(engine: Engine, conversation_id: int | str, action: str, reviewer: str | None = None,
           notes: str | None = None, *, settings: Settings | None = None) -> ConversationRow:
    """Record a decision: status, reviewer notes and the audit event change together or not at all."""
    status = decision_for(action)
    reviewer = reviewer_name(reviewer, settings or get_settings())
    notes = (notes or "").strip() or None
    with write(engine) as conn:
        cid, target = lock_reviewable(conn, conversation_id)
        # Checked after lock_target, so of two concurrent identical calls the second sees the first's event.
        if not _is_repeat(conn, cid, target.version, status, reviewer, notes):
            review_store.insert_event(conn, cid, target.version, status, reviewer, notes)
            conv_store.set_review(conn, cid, status, notes)
        return conv_store.get_row(conn, cid)


def _is_repeat(conn: Connection, cid: int, version: int, status: str, reviewer: str, notes: str | None) -> bool:
    """Whether the conversation's latest event is this very decision, recorded moments ago."""
    since = utcnow() - timedelta(seconds=REPEAT_WINDOW_SECONDS)
    last = review_store.latest_event_since(conn, cid, since)
    return last is not None and (last.version, last.action, last.reviewer, last.notes) == (
        version, status, reviewer, notes)


def reviewer_name(name: str | None, settings: Settings) -> str:
    name = (name or "").strip() or settings.reviewer
    if len(name) > REVIEWER_MAX:
        raise InputError(f"reviewer name is {len(name)} characters long; use at most {REVIEWER_MAX}")
    return name


def lock_reviewable(conn: Connection, key_or_id: int | str) -> tuple[int, review_store.ReviewTarget]:
    """Lock the conversation a decision is about, for the rest of the transaction: its id and what the
    lock read; an InputError when it cannot be reviewed."""
    cid = conv_store.find_id(conn, key_or_id)
    target = review_store.lock_target(conn, cid)
    problem = not_reviewable_reason(target.key, target.status, target.has_turns)
    if problem:
        raise InputError(problem)
    return cid, target


def not_reviewable_reason(key: str, status: str, has_turns: bool) -> str | None:
    """Why a conversation cannot be reviewed, as a sentence for the reviewer; None if it can."""
    if status in ("queued", "generating"):
        return f"conversation {key} is being generated right now; review it when it is done"
    if status == "failed" and not has_turns:
        return f"conversation {key} failed to generate; generate it again from the dashboard, then review it"
    if status not in WRITTEN or not has_turns:
        return (f"conversation {key} has no text to review yet (status: {status.replace('_', ' ')}); "
                "generate it from the dashboard first")
    return None


def history(engine: Engine, conversation_id: int | str) -> list[dict]:
    """Every decision about the conversation, oldest first: version, action, reviewer, notes, at."""
    with read(engine) as conn:
        cid = conv_store.find_id(conn, conversation_id)
    return [event.as_dict() for event in review_store.list_events(engine, cid)]


def next_unreviewed(engine: Engine, after_id: int | None = None) -> int | None:
    """The next generated conversation nobody has decided on, after `after_id` (wrapping round)."""
    return review_store.next_with_status(engine, QUEUE_STATUS, after_id)


def unreviewed_count(engine: Engine) -> int:
    return conv_store.count_by_status(engine).get(QUEUE_STATUS, 0)


def review_options(engine: Engine, statuses: Sequence[str] = WRITTEN, persona_text: str = "") -> dict[int, str]:
    """Conversations to pick from, id -> 'key · persona · topic · status · score', in id order."""
    rows = conv_store.list_conversations(engine, ConversationQuery(statuses=tuple(statuses) or WRITTEN,
                                                                   persona_text=persona_text))
    names = picker_names(engine)
    return {r.id: option_label(r, names) for r in rows}


def picker_names(engine: Engine) -> dict[str, dict[str, str]]:
    """Persona and topic display names, as the picker shows them."""
    return {section: {e["key"]: e["name"] for e in catalog_repo.list_section(engine, f"{section}s")}
            for section in ("persona", "topic")}


def option_label(row: ConversationRow, names: dict[str, dict[str, str]]) -> str:
    d = row.dimensions
    score = f" · score {row.quality_score:g}" if row.quality_score is not None else ""
    persona = names["persona"].get(d.persona, d.persona)
    topic = names["topic"].get(d.topic, d.topic)
    return f"{row.key} · {persona} · {topic} · {STATUS_LABELS.get(row.status, row.status)}{score}"



def neighbours(ids: Sequence[int], current: int) -> tuple[int | None, int | None]:
    """The ids before and after `current` in a list (None at either end or when it is absent)."""
    if current not in ids:
        return None, (ids[0] if ids else None)
    i = list(ids).index(current)
    return (ids[i - 1] if i > 0 else None), (ids[i + 1] if i + 1 < len(ids) else None)


@dataclass(frozen=True)
class ReviewView:
    """Everything the review page shows about one conversation."""

    detail: ConversationDetail
    persona: str
    problem: str | None
    dimensions: dict[str, str]
    generation: dict
    attempts: list[dict]
    parameters: dict
    annotations: dict
    history: list[dict]

    @property
    def row(self) -> ConversationRow:
        return self.detail.row

    @property
    def reviewable(self) -> bool:
        return self.problem is None

    @property
    def failed_criteria(self) -> list[dict]:
        return [c for c in (self.detail.quality or {}).get("criteria", []) if not c.get("passed")]


def load(engine: Engine, key_or_id: int | str) -> ReviewView:
    """The conversation with its dimensions, how it was generated, its quality and its history."""
    detail = conv_store.get_detail(engine, key_or_id)
    row = detail.row
    persona = persona_labels(engine).get(row.dimensions.persona, row.dimensions.persona)
    logs = log_store.list_logs(engine, row.id)
    current = next((v for v in detail.versions if v["version"] == row.current_version), None)
    used_log = next((log for log in logs if current and log.id == current["log_id"]), None)
    return ReviewView(
        detail=detail,
        persona=persona,
        problem=not_reviewable_reason(row.key, row.status, bool(detail.turns)),
        dimensions=_dimensions(row, persona),
        generation=_generation(row, current, logs, templates.version_labels(engine)),
        attempts=[_attempt(log) for log in logs],
        parameters=_readable(used_log.parameters) if used_log else {},
        annotations=conv_store.unflatten(detail.metadata),
        history=[event.as_dict() for event in review_store.list_events(engine, row.id)],
    )


def _dimensions(row: ConversationRow, persona: str) -> dict[str, str]:
    d = row.dimensions
    shown = {"Key": row.key, "Status": row.status.replace("_", " "), "Source": row.source, "Tier": str(d.tier),
             "Persona": persona, "Emotion": f"{d.emotion_start} → {d.emotion_end}", "Topic": d.topic,
             "Content category": d.content_category, "Topic cluster": d.topic_cluster, "Intent": d.intent,
             "Tone": d.tone, "Outcome": d.outcome_type, "Arc": d.arc, "Scenario": d.scenario,
             "Edge case": d.edge_case}
    return {name: value for name, value in shown.items() if value}


def _generation(row: ConversationRow, current: dict | None, logs: list, labels: dict) -> dict:
    """How the current version was written, and what every attempt for this conversation cost."""
    current = current or {}
    return {
        "Version": row.current_version,
        "Written by": current.get("model") or row.model or "—",
        "Template": templates.label_of(labels, current.get("template_name"), current.get("template_hash")),
        "Written at": current.get("created_at"),
        "Attempts": sum(log.kind != "judge" for log in logs),
        "Input tokens": sum(log.input_tokens + log.cache_read_tokens + log.cache_creation_tokens for log in logs),
        "Output tokens": sum(log.output_tokens for log in logs),
        "Cost (USD)": round(sum(log.cost_usd for log in logs), 6),
    }


def _readable(parameters: dict) -> dict:
    """Prompt parameters with their JSON-encoded values (profiles, definitions) opened up."""
    opened = {}
    for name, value in (parameters or {}).items():
        if isinstance(value, str) and value[:1] in "{[":
            try:
                value = json.loads(value)
            except ValueError:
                pass
        opened[name] = value
    return opened


def _attempt(log) -> dict:
    return {"at": log.created_at, "call": log.kind, "attempt": log.attempt, "model": log.model, "outcome": log.outcome,
            "input tokens": log.input_tokens, "output tokens": log.output_tokens, "cost (USD)": log.cost_usd,
            "seconds": round(log.duration_ms / 1000, 2), "stop reason": log.stop_reason, "error": log.error}

