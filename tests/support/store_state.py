"""Below the facade, on purpose: what tests read back from a store to check a promise no page
shows (every table's rows, every stored error, the queue's items), and the few states a test needs
that no app path writes (a decision without its audit event, turns the app would refuse, a row as
an older plan wrote it, a judge's per-turn scores of the test's choosing).

Test modules reach the app through `BrightRun`; when one needs the store itself, it comes here
(tests/test_suite_rules.py lists the few test modules that import brightrun_gen.store).
"""

from __future__ import annotations

import json
from typing import Callable

from sqlalchemy import func, inspect, select, update

from brightrun_gen.domain.models import Turn
from brightrun_gen.services import exporting
from brightrun_gen.store import conversations as conv_store, tables as t
from brightrun_gen.store.db import read, write
from brightrun_gen.store.exports import export_snapshot

# Every table the schema defines.
SCHEMA_TABLES = frozenset(t.metadata.tables)


def plan_ids(engine, n: int, offset: int = 0) -> list[int]:
    """The ids of `n` planned conversations (after the first `offset`), in id order."""
    c = t.conversations.c
    with read(engine) as conn:
        return list(conn.scalars(select(c.id).where(c.source == "plan").order_by(c.id).offset(offset).limit(n)))


def item_statuses(engine, job_id: int) -> dict[str, int]:
    """How many of the job's queue items are in each status."""
    q = t.generation_queue.c
    with read(engine) as conn:
        return dict(conn.execute(select(q.status, func.count()).where(q.job_id == job_id).group_by(q.status)).all())


def lease_owners(engine, job_id: int) -> set[str]:
    """The workers that took the job's items."""
    q = t.generation_queue.c
    with read(engine) as conn:
        return set(conn.scalars(select(q.lease_owner).where(q.job_id == job_id)))


def rate_limit_state(engine) -> dict:
    """The rate-limit state the runners share (one account and model): buckets, whether the API reported them."""
    with read(engine) as conn:
        return conn.scalar(select(t.rate_limit_states.c.state))


def versions_per_conversation(engine, ids) -> dict[int, int]:
    """How many stored versions each conversation has (0 for none)."""
    v = t.conversation_versions.c
    with read(engine) as conn:
        rows = conn.execute(select(v.conversation_id, func.count()).where(v.conversation_id.in_(ids))
                            .group_by(v.conversation_id)).all()
    return {cid: 0 for cid in ids} | dict(rows)


def table_counts(engine) -> dict[str, int]:
    """How many rows each table of the schema holds: what "nothing else was stored" compares."""
    with read(engine) as conn:
        return {table.name: conn.scalar(select(func.count()).select_from(table)) for table in t.metadata.sorted_tables}


def table_names(engine) -> set[str]:
    """The tables the database has now (a statement that dropped or made one would show here)."""
    return set(inspect(engine).get_table_names())


def stored_errors(engine) -> list[str]:
    """Every error message the store kept: queue items, conversations' last errors, attempts."""
    q, c, g = t.generation_queue.c, t.conversations.c, t.generation_logs.c
    with read(engine) as conn:
        errors = list(conn.scalars(select(q.error).where(q.error.is_not(None))))
        errors += list(conn.scalars(select(c.last_error).where(c.last_error.is_not(None))))
        errors += list(conn.scalars(select(g.error).where(g.error.is_not(None))))
    return errors


def dump_tables(engine) -> str:
    """Every value of every table as text."""
    parts = []
    with read(engine) as conn:
        for table in t.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                parts.append(json.dumps([str(v) for v in row], ensure_ascii=False))
    return "\n".join(parts)


def approve(engine, conversation_id: int, notes: str | None = None) -> None:
    """Mark a conversation approved directly in the store (the review service is tested on its own)."""
    with write(engine) as conn:
        conv_store.set_review(conn, conversation_id, "approved", notes)


def save_unchecked_approved_version(engine, conversation_id: int, turns: list[tuple[str, str]]) -> None:
    """Store `turns` as a new approved current version without the checks every app path makes:
    the broken conversation an export must refuse (a hand edit of the database, an old bug)."""
    with write(engine) as conn:
        conv_store.save_version(conn, conversation_id, [Turn(role=r, content=c) for r, c in turns],
                                model="human", status="generated", quality=None)
        conv_store.set_review(conn, conversation_id, "approved", None)


def annotate_turn(engine, conversation_id: int, version: int, position: int,
                  change: Callable[[dict | None], dict]) -> None:
    """Replace one stored turn's annotation with `change(annotation)`: judge scores or a beat target
    of the test's choosing, which the app only ever writes from a model's answer."""
    with write(engine) as conn:
        turn = conv_store.load_turns(conn, conversation_id, version)[position]
        conv_store.set_turn_annotation(conn, conversation_id, version, position, change(turn.annotation))


def set_dimensions(engine, key: str, **dimensions) -> None:
    """Change a conversation's dimensions in place, as a plan built under older catalog rules left
    them (the app never edits a planned row's dimensions)."""
    with write(engine) as conn:
        conn.execute(update(t.conversations).where(t.conversations.c.key == key).values(**dimensions))


def export_input(engine, conversation_id: int, request: exporting.ExportRequest, fmt):
    """(conversation, context): what an export format's writer is given for one conversation, read
    as the export reads it, so a writer's own test can compare its bytes with json.dumps'."""
    with export_snapshot(engine) as snapshot:
        context = exporting._context(snapshot, request, fmt)
        conversation = next(snapshot.conversations([conversation_id]))
    return conversation, context
