"""The rate-limit state of each API key fingerprint and model, and the pacing figures of each job."""

from __future__ import annotations

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from brightrun_gen.store import tables as t


def locked_state(conn: Connection, account: str, model: str) -> dict:
    """The stored state ({} the first time), its row locked until the transaction ends.

    On PostgreSQL the row lock makes every worker's admission wait for the one before it; on SQLite
    the write transaction holds the database's write lock already."""
    state = _select(conn, account, model, lock=True)
    if state is None:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(insert(t.rate_limit_states).values(account=account, model=model, state={}).on_conflict_do_nothing())
        state = _select(conn, account, model, lock=True)
    return state or {}


def read_state(conn: Connection, account: str, model: str) -> dict:
    return _select(conn, account, model, lock=False) or {}


def _select(conn: Connection, account: str, model: str, *, lock: bool) -> dict | None:
    c = t.rate_limit_states.c
    stmt = select(c.state).where(c.account == account, c.model == model)
    return conn.scalar(stmt.with_for_update() if lock else stmt)


def save_state(conn: Connection, account: str, model: str, state: dict) -> None:
    c = t.rate_limit_states.c
    conn.execute(update(t.rate_limit_states).where(c.account == account, c.model == model).values(state=state))


def add_to_job(conn: Connection, job_id: int, *, refused: int = 0, wait_seconds: float = 0.0) -> None:
    """Count refused calls and seconds of waiting for the rate limits against a job."""
    j = t.generation_jobs.c
    conn.execute(update(t.generation_jobs).where(j.id == job_id).values(
        calls_refused=j.calls_refused + refused, wait_seconds=j.wait_seconds + wait_seconds))


def job_pacing(conn: Connection, job_id: int) -> tuple[str | None, int, float]:
    """A job's account fingerprint, refused calls and seconds waited."""
    j = t.generation_jobs.c
    row = conn.execute(select(j.account, j.calls_refused, j.wait_seconds).where(j.id == job_id)).one()
    return row.account, row.calls_refused or 0, row.wait_seconds or 0.0
