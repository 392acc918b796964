"""The generation log: every attempt with its tokens, cost, raw answer and outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from brightrun_gen.store import tables as t
from brightrun_gen.store.db import read


@dataclass(frozen=True)
class LogEntry:
    id: int
    conversation_id: int
    conversation_key: str
    attempt: int
    provider: str
    model: str
    template_name: str | None
    template_hash: str | None
    outcome: str
    stop_reason: str | None
    error: str | None
    validation_errors: Any
    input_tokens: int
    output_tokens: int
    cache_creation_tokens: int
    cache_read_tokens: int
    cost_usd: float
    duration_ms: int
    retries: int
    parameters: dict
    raw_response: str | None
    created_at: datetime
    kind: str = "generate"  # generate | repair | judge


def insert_log(conn: Connection, **values) -> int:
    return conn.execute(t.generation_logs.insert().values(**values).returning(t.generation_logs.c.id)).scalar_one()


def list_logs(engine: Engine, conversation_id: int | None = None, *, outcome: str | None = None,
              limit: int = 500) -> list[LogEntry]:
    g, c = t.generation_logs.c, t.conversations.c
    stmt = select(*[col for col in t.generation_logs.c if col.name not in ("updated_at",)], c.key.label("conversation_key")).join(
        t.conversations, c.id == g.conversation_id)
    if conversation_id is not None:
        stmt = stmt.where(g.conversation_id == conversation_id)
    if outcome:
        stmt = stmt.where(g.outcome == outcome)
    stmt = stmt.order_by(g.id.desc()).limit(limit)
    fields = LogEntry.__dataclass_fields__
    with read(engine) as conn:
        return [LogEntry(**{k: v for k, v in r._mapping.items() if k in fields}) for r in conn.execute(stmt)]


def average_usage(engine: Engine, model: str) -> tuple[float, float, float] | None:
    """Mean input, output tokens and cost of successful attempts with `model`, if any."""
    g = t.generation_logs.c
    with read(engine) as conn:
        row = conn.execute(select(func.avg(g.input_tokens + g.cache_read_tokens + g.cache_creation_tokens),
                                  func.avg(g.output_tokens), func.avg(g.cost_usd), func.count())
                           .where(g.model == model, g.outcome == "ok", g.kind == "generate")).one()
    return None if not row[3] else (float(row[0]), float(row[1]), float(row[2]))


def cost_per_day(engine: Engine) -> list[dict]:
    g = t.generation_logs.c
    day = func.date(g.created_at)
    with read(engine) as conn:
        rows = conn.execute(select(day.label("day"), func.sum(g.input_tokens).label("input_tokens"),
                                   func.sum(g.output_tokens).label("output_tokens"), func.sum(g.cost_usd).label("cost_usd"),
                                   func.count().label("attempts")).group_by(day).order_by(day)).all()
    return [dict(r._mapping) for r in rows]


def average_duration(engine: Engine, model: str) -> float | None:
    """Mean seconds of successful direct calls with `model`, if any."""
    g = t.generation_logs.c
    with read(engine) as conn:
        value = conn.scalar(select(func.avg(g.duration_ms)).where(g.model == model, g.outcome == "ok",
                                                                  g.kind == "generate"))
    return float(value) / 1000 if value else None


def job_attempts(engine: Engine, job_id: int, conversation_id: int) -> tuple[int, str | None]:
    """How many attempts (generation and repair calls) a job made for one conversation, and the model of the latest."""
    g, q = t.generation_logs.c, t.generation_queue.c
    stmt = (select(g.model).join(t.generation_queue, q.id == g.queue_item_id)
            .where(q.job_id == job_id, g.conversation_id == conversation_id, g.kind != "judge").order_by(g.id.desc()))
    with read(engine) as conn:
        models = list(conn.scalars(stmt))
    return len(models), (models[0] if models else None)
