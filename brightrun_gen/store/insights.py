"""Aggregates for the activity page: coverage, the status funnel, quality scores, the attempt log."""

from __future__ import annotations

from sqlalchemy import Engine, case, func, literal, select

from brightrun_gen.errors import InputError
from brightrun_gen.store import tables as t
from brightrun_gen.store.db import read

_c = t.conversations.c
GROUPABLE = ("persona", "storyline", "story", "arc", "content_category", "topic_cluster", "topic", "emotion_start",
             "emotion_end", "intent", "tone", "outcome_type", "tier", "source")


def _dimension(name: str):
    """A column to group by; 'storyline' is the arc, or 'scenario' / 'edge case' for rows without one."""
    if name not in GROUPABLE:
        raise InputError(f"cannot group by {name!r}; use one of {', '.join(GROUPABLE)}")
    if name == "storyline":
        return func.coalesce(_c.arc, case((_c.scenario.is_not(None), literal("scenario")),
                                          else_=literal("edge case")))
    if name == "story":  # the plan's grid: Tier 1 by arc, every scenario row and every edge case row together
        return case((_c.scenario.is_not(None), literal("scenario")), (_c.edge_case.is_not(None), literal("edge case")),
                    else_=func.coalesce(_c.arc, literal("other")))
    return _c[name]


def counts_by(engine: Engine, rows: str, columns: str) -> list[dict]:
    """Conversations per (row value, column value, status)."""
    row_expr, col_expr = _dimension(rows).label("row"), _dimension(columns).label("column")
    stmt = select(row_expr, col_expr, _c.status, func.count().label("count")).group_by(
        row_expr, col_expr, _c.status)
    with read(engine) as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def funnel_counts(engine: Engine) -> dict[str, int]:
    """All conversations, those with text, those a reviewer decided on, those approved."""
    decided = _c.status.in_(("approved", "needs_edit", "rejected"))
    stmt = select(
        func.count().label("all"),
        func.count().filter(_c.current_version > 0).label("written"),
        func.count().filter(decided).label("reviewed"),
        func.count().filter(_c.status == "approved").label("approved"),
    )
    with read(engine) as conn:
        return dict(conn.execute(stmt).one()._mapping)


def quality_scores(engine: Engine) -> list[dict]:
    """Score, status, source and writer of every conversation that has a score."""
    stmt = select(_c.key, _c.quality_score.label("score"), _c.status, _c.source, _c.model).where(
        _c.quality_score.is_not(None)).order_by(_c.id)
    with read(engine) as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def attempts(engine: Engine, *, outcomes: tuple[str, ...] = (), key_text: str = "", limit: int = 500) -> list[dict]:
    """Generation attempts, newest first, filtered by outcome and by part of the conversation key."""
    g = t.generation_logs.c
    stmt = select(
        g.id, g.created_at, _c.key.label("conversation"), g.kind, g.attempt, g.provider, g.model, g.template_name,
        g.template_hash, g.outcome, g.stop_reason, g.input_tokens, g.output_tokens, g.cache_read_tokens, g.cost_usd,
        g.duration_ms, g.retries, g.error,
    ).join(t.conversations, _c.id == g.conversation_id)
    if outcomes:
        stmt = stmt.where(g.outcome.in_(outcomes))
    if key_text.strip():
        pattern = "%" + key_text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(func.lower(_c.key).like(pattern, escape="\\"))
    stmt = stmt.order_by(g.id.desc()).limit(limit)
    with read(engine) as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def ids_from_source(engine: Engine, source: str) -> list[int]:
    with read(engine) as conn:
        return list(conn.scalars(select(_c.id).where(_c.source == source).order_by(_c.id)))


def metadata_values(engine: Engine, key: str, ids: list[int]) -> dict[int, object]:
    """One metadata key (e.g. 'title') of each conversation in `ids` that has it."""
    m = t.conversation_metadata.c
    found: dict[int, object] = {}
    with read(engine) as conn:
        for start in range(0, len(ids), 500):
            stmt = select(m.conversation_id, m.value).where(m.key == key, m.conversation_id.in_(ids[start:start + 500]))
            found.update(dict(conn.execute(stmt).all()))
    return found
