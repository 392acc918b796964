"""The plan's rows as the planner and linter see them, their variation, and the example pool."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import Connection, and_, delete, exists, select

from brightrun_gen.domain.models import DIMENSION_NAMES, Dimensions, PlannedRow, Variation
from brightrun_gen.store import tables as t
from brightrun_gen.store.conversations import insert_conversation, load_turns, save_metadata

_c = t.conversations.c
_m = t.conversation_metadata.c
VARIATION_PREFIX = "variation."


@dataclass(frozen=True)
class StoredPlanRow:
    id: int
    status: str
    current_version: int
    row: PlannedRow


@dataclass(frozen=True)
class PoolRow:
    """A conversation that may serve as an example: its facts, title, kind and current turns."""

    id: int
    key: str
    status: str
    dimensions: Dimensions
    title: str
    console: bool  # imported from the firm's console-era files (its real conversations)
    turns: list[tuple[str, str]]


def _dimensions(r) -> Dimensions:
    return Dimensions(**{name: r._mapping[name] for name in DIMENSION_NAMES})


def add_planned_row(conn: Connection, row: PlannedRow) -> int:
    """A new not-generated conversation with its variation as `variation.*` metadata."""
    cid = insert_conversation(conn, row.key, row.dimensions, source="plan", status="not_generated")
    if row.variation is not None:
        save_metadata(conn, cid, {"variation": row.variation.model_dump()})
    return cid


def plan_rows(conn: Connection) -> list[StoredPlanRow]:
    """Every row from the plan (source 'plan'), with its variation when it has one."""
    rows = conn.execute(select(_c.id, _c.key, _c.status, _c.current_version, *[_c[n] for n in DIMENSION_NAMES])
                        .where(_c.source == "plan").order_by(_c.id)).all()
    variations = _variations(conn, [r.id for r in rows])
    return [StoredPlanRow(r.id, r.status, r.current_version,
                          PlannedRow(key=r.key, dimensions=_dimensions(r), variation=variations.get(r.id)))
            for r in rows]


def variation_of(conn: Connection, conversation_id: int) -> Variation | None:
    return _variations(conn, [conversation_id]).get(conversation_id)


def _variations(conn: Connection, ids: Sequence[int]) -> dict[int, Variation]:
    found: dict[int, dict] = {}
    for start in range(0, len(ids), 500):
        stmt = select(_m.conversation_id, _m.key, _m.value).where(
            _m.conversation_id.in_(list(ids[start:start + 500])), _m.key.like(f"{VARIATION_PREFIX}%"))
        for cid, key, value in conn.execute(stmt):
            found.setdefault(cid, {})[key.removeprefix(VARIATION_PREFIX)] = value
    out = {}
    for cid, values in found.items():
        try:
            out[cid] = Variation.model_validate(values)
        except ValueError:  # partial or hand-edited metadata: the row is written with the defaults
            continue
    return out


def story_dimensions(conn: Connection) -> list[tuple[str, Dimensions]]:
    """(key, dimensions) of every seed conversation, ours and imported: what they are about."""
    rows = conn.execute(select(_c.key, *[_c[n] for n in DIMENSION_NAMES]).where(_c.status == "seed")
                        .order_by(_c.id)).all()
    return [(r.key, _dimensions(r)) for r in rows]


def example_pool(conn: Connection, include_approved: bool) -> list[PoolRow]:
    """Seed conversations (ours and the firm's imports) and, when asked, approved ones."""
    statuses = ["seed", "approved"] if include_approved else ["seed"]
    rows = conn.execute(select(_c.id, _c.key, _c.status, _c.current_version, *[_c[n] for n in DIMENSION_NAMES])
                        .where(_c.status.in_(statuses), _c.current_version > 0).order_by(_c.key)).all()
    ids = [r.id for r in rows]
    labels = _labels(conn, ids)
    return [PoolRow(r.id, r.key, r.status, _dimensions(r), labels.get((r.id, "title")) or
                    labels.get((r.id, "dataset_metadata.notes")) or r.key, labels.get((r.id, "format")) == "console",
                    [(s.role, s.content) for s in load_turns(conn, r.id, r.current_version)])
            for r in rows]


def _labels(conn: Connection, ids: list[int]) -> dict[tuple[int, str], object]:
    stmt = select(_m.conversation_id, _m.key, _m.value).where(
        and_(_m.conversation_id.in_(ids), _m.key.in_(("title", "dataset_metadata.notes", "format"))))
    return {(cid, key): value for cid, key, value in conn.execute(stmt)}


def remove_unwritten(conn: Connection, ids: Sequence[int]) -> list[int]:
    """Delete those planned rows that were never written, tried or queued; returns the ids removed."""
    g, q = t.generation_logs.c, t.generation_queue.c
    untouched = and_(_c.id.in_(list(ids)), _c.source == "plan", _c.status == "not_generated",
                     _c.current_version == 0, ~exists().where(g.conversation_id == _c.id),
                     ~exists().where(q.conversation_id == _c.id))
    removed = list(conn.scalars(select(_c.id).where(untouched)))
    if removed:
        conn.execute(delete(t.conversations).where(_c.id.in_(removed)))
    return removed
