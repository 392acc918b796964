"""The judge's tables: rubric versions, one judgement per conversation version, version origins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, select, update

from brightrun_gen.errors import NotFound
from brightrun_gen.store import tables as t
from brightrun_gen.store.db import read

_J = t.judgements.c
_V = t.conversation_versions.c
_JUDGEMENT_FIELDS = ("rubric_hash", "provider", "model", "score", "passed", "flagged", "flag_reason", "reasons",
                     "criteria", "findings", "summary", "error")


# --- rubrics -------------------------------------------------------------------------------------


def save_rubric(conn: Connection, name: str, content_hash: str, body: str) -> bool:
    """Store a rubric version and make it the active one; False when that text is stored already."""
    r = t.judge_rubrics.c
    known = conn.scalar(select(r.id).where(r.content_hash == content_hash))
    if known is None:
        conn.execute(t.judge_rubrics.insert().values(name=name, content_hash=content_hash, body=body, active=False))
    active = conn.scalar(select(r.content_hash).where(r.active.is_(True)))
    if active != content_hash:
        conn.execute(update(t.judge_rubrics).values(active=r.content_hash == content_hash))
    return known is None


def active_rubric(conn: Connection) -> str | None:
    """The active rubric's text, or None before any was stored."""
    r = t.judge_rubrics.c
    return conn.scalar(select(r.body).where(r.active.is_(True)).order_by(r.id.desc()).limit(1))


# --- judgements ----------------------------------------------------------------------------------


def save_judgement(conn: Connection, conversation_id: int, version: int, judgement: dict, *,
                   log_id: int | None, queue_item_id: int | None) -> None:
    """The judgement of one version; judging a version again replaces its judgement."""
    conn.execute(delete(t.judgements).where(_J.conversation_id == conversation_id, _J.version == version))
    conn.execute(t.judgements.insert().values(
        conversation_id=conversation_id, version=version, turn_scores=judgement["turns"], log_id=log_id,
        queue_item_id=queue_item_id, **{k: judgement[k] for k in _JUDGEMENT_FIELDS},
    ))


def _as_judgement(row) -> dict:
    m = row._mapping
    return {**{k: m[k] for k in _JUDGEMENT_FIELDS}, "turns": m["turn_scores"], "version": m["version"],
            "judged_at": m["created_at"]}


def judgement_of(conn: Connection, conversation_id: int, version: int) -> dict | None:
    row = conn.execute(select(t.judgements).where(_J.conversation_id == conversation_id, _J.version == version)).first()
    return _as_judgement(row) if row else None


def current_judgement(engine: Engine, conversation_id: int) -> dict | None:
    """The judgement of the conversation's current version, if it has one."""
    c = t.conversations.c
    current = select(c.current_version).where(c.id == conversation_id).scalar_subquery()
    with read(engine) as conn:
        row = conn.execute(select(t.judgements).where(_J.conversation_id == conversation_id,
                                                      _J.version == current)).first()
        return _as_judgement(row) if row else None


def judgements_of(engine: Engine, conversation_id: int) -> dict[int, dict]:
    """Every judgement of a conversation, by version."""
    with read(engine) as conn:
        rows = conn.execute(select(t.judgements).where(_J.conversation_id == conversation_id).order_by(_J.version))
        return {r.version: _as_judgement(r) for r in rows}


def describe_version(conn: Connection, conversation_id: int, version: int, *, origin: str | None,
                     parent_version: int | None, notes: str | None) -> None:
    """Record how a version came to be: which version a repair started from and what it was asked."""
    conn.execute(update(t.conversation_versions).where(
        _V.conversation_id == conversation_id, _V.version == version,
    ).values(origin=origin, parent_version=parent_version, notes=notes))


def versions_of(engine: Engine, conversation_id: int) -> list[dict]:
    """Every version with its origin, structural score, judge score and the last decision on it."""
    e = t.review_events.c
    last_event = (select(e.action).where(e.conversation_id == _V.conversation_id, e.version == _V.version)
                  .order_by(e.id.desc()).limit(1).scalar_subquery())
    stmt = (select(_V.version, _V.model, _V.template_name, _V.quality_score, _V.origin, _V.parent_version, _V.notes,
                   _V.created_at, _J.score.label("judge_score"), _J.passed, _J.flagged, last_event.label("decision"))
            .outerjoin(t.judgements, and_(_J.conversation_id == _V.conversation_id, _J.version == _V.version))
            .where(_V.conversation_id == conversation_id).order_by(_V.version))
    with read(engine) as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def version_exists(conn: Connection, conversation_id: int, version: int) -> bool:
    return conn.scalar(select(_V.id).where(_V.conversation_id == conversation_id, _V.version == version)) is not None


def make_current(conn: Connection, conversation_id: int, version: int, *, status: str, notes: str | None) -> None:
    """Point the conversation at `version` (its text, model and structural score) with a new status."""
    row = conn.execute(select(_V.model, _V.quality, _V.quality_score).where(
        _V.conversation_id == conversation_id, _V.version == version)).first()
    if row is None:
        raise NotFound(f"conversation {conversation_id} has no version {version}")
    c = t.conversations.c
    conn.execute(update(t.conversations).where(c.id == conversation_id).values(
        current_version=version, status=status, model=row.model, quality=row.quality, quality_score=row.quality_score,
        reviewer_notes=notes, last_error=None))


def job_counts(conn: Connection, job_id: int) -> tuple[int, int, int]:
    """(judged, repaired, flagged) conversations of a job: what its progress panel counts."""
    q = t.generation_queue.c
    items = select(q.id).where(q.job_id == job_id)
    judged = select(func.count(func.distinct(_J.queue_item_id))).where(_J.queue_item_id.in_(items))
    repaired = (select(func.count(func.distinct(_J.queue_item_id)))
                .select_from(t.judgements.join(t.conversation_versions, and_(
                    _V.conversation_id == _J.conversation_id, _V.version == _J.version)))
                .where(_J.queue_item_id.in_(items), _V.origin == "auto_repair"))
    flagged = select(func.count()).where(_J.queue_item_id.in_(items), _J.flagged.is_(True))
    row = conn.execute(select(judged.scalar_subquery(), repaired.scalar_subquery(), flagged.scalar_subquery())).one()
    return int(row[0]), int(row[1]), int(row[2])


def edge_case_entry(conn: Connection, key: str) -> dict[str, Any] | None:
    """The stored catalog entry of one edge case (its must-haves with it)."""
    return conn.scalar(select(t.edge_cases.c.data).where(t.edge_cases.c.key == key))


def scorecard_rows(engine: Engine) -> tuple[list[dict], list[dict]]:
    """Every generated version with its template, judgement and latest decision; and per template hash
    and kind of call (generate, repair, judge), how many calls were made for it and what they cost."""
    e = t.review_events.c
    decision = (select(e.action).where(e.conversation_id == _V.conversation_id, e.version == _V.version)
                .order_by(e.id.desc()).limit(1).scalar_subquery())
    versions = (select(_V.conversation_id, _V.version, _V.template_name, _V.template_hash, _V.origin,
                       _J.rubric_hash, _J.passed, _J.criteria, decision.label("decision"))
                .outerjoin(t.judgements, and_(_J.conversation_id == _V.conversation_id, _J.version == _V.version))
                .where(_V.template_hash.is_not(None)))
    g = t.generation_logs.c
    writing = (select(g.template_hash, g.kind, func.count().label("calls"), func.sum(g.cost_usd).label("cost_usd"))
               .where(g.template_hash.is_not(None), g.kind != "judge").group_by(g.template_hash, g.kind))
    # A judge call is logged under the rubric; it is charged to the template of the version it judged.
    judging = (select(_V.template_hash, g.kind, func.count().label("calls"), func.sum(g.cost_usd).label("cost_usd"))
               .select_from(t.judgements.join(t.generation_logs, g.id == _J.log_id).join(
                   t.conversation_versions, and_(_V.conversation_id == _J.conversation_id, _V.version == _J.version)))
               .where(_V.template_hash.is_not(None)).group_by(_V.template_hash, g.kind))
    with read(engine) as conn:
        calls = [dict(r._mapping) for stmt in (writing, judging) for r in conn.execute(stmt)]
        return [dict(r._mapping) for r in conn.execute(versions)], calls
