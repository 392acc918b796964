"""Faults during a job: nothing half-written, nothing stuck, every item succeeded once or failed with a reason.

Each test adds a row to the table printed at the end of the run (fault, items, lost, duplicated, stuck).
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading

import pytest
from sqlalchemy import event, func, select

from brightrun_gen.services import runner as runner_service
from brightrun_gen.store import tables as t
from brightrun_gen.store.db import make_engine, read
from brightrun_gen.store.tables import utcnow
from tests.support import fault_table
from tests.support.cli_process import finish, start_claude_cli
from tests.support.fake_claude import claude_settings
from tests.support.fake_messages_api import FakeMessagesAPI
from tests.support.store_state import item_statuses, plan_ids
from tests.support.streamlit_client import SIDEBAR, StreamlitClient
from tests.support.streamlit_server import start_claude_app, stop_app
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def audit(store, job_id: int, ids: list[int], fault: str, backend: str) -> dict:
    """Check the promises after a fault and record the row for the summary table."""
    q, v, c, turns = t.generation_queue.c, t.conversation_versions.c, t.conversations.c, t.conversation_turns.c
    with read(store) as conn:
        items = conn.execute(select(q.status, q.error, q.lease_expires_at).where(q.job_id == job_id)).all()
        versions = dict(conn.execute(select(v.conversation_id, func.count()).where(v.conversation_id.in_(ids))
                                     .group_by(v.conversation_id)).all())
        orphan_turns = conn.scalar(select(func.count()).select_from(t.conversation_turns).where(
            ~select(v.id).where(v.conversation_id == turns.conversation_id, v.version == turns.version).exists()))
        empty_versions = conn.scalar(select(func.count()).select_from(t.conversation_versions).where(
            v.conversation_id.in_(ids),
            ~select(turns.id).where(turns.conversation_id == v.conversation_id, turns.version == v.version).exists()))
        statuses = dict(conn.execute(select(c.id, c.status).where(c.id.in_(ids))).all())
    now = utcnow().replace(tzinfo=None)
    stuck = sum(1 for s, _, lease in items if s in ("pending", "running")
                and (lease is None or lease.replace(tzinfo=None) < now))
    succeeded = sum(1 for s, _, _ in items if s == "succeeded")
    failed_without_reason = sum(1 for s, e, _ in items if s == "failed" and not e)
    lost = len(ids) - succeeded - sum(1 for s, e, _ in items if s == "failed" and e)
    duplicated = sum(1 for n in versions.values() if n > 1)
    fault_table.add_row(f"{fault} [{backend}]", len(ids), lost, duplicated, stuck)
    assert orphan_turns == 0 and empty_versions == 0, "a conversation was half-written"
    assert failed_without_reason == 0
    assert (lost, duplicated, stuck) == (0, 0, 0)
    assert all(statuses[cid] == "generated" for cid in ids if versions.get(cid))
    return {"succeeded": succeeded}


def test_kill_9_of_a_worker_during_a_job_of_50(store, db_url, backend):
    with FakeMessagesAPI(latency=0.15) as fake:
        ids = plan_ids(store, 50)
        job = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=claude_settings(fake))
        worker = start_claude_cli(db_url, fake, "worker", "--concurrency", "6")
        wait_until(lambda: item_statuses(store, job.job_id).get("succeeded", 0) >= 10, what="ten items done")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        out, err = finish(start_claude_cli(db_url, fake, "resume", str(job.job_id)))
        assert audit(store, job.job_id, ids, "kill -9 worker", backend)["succeeded"] == 50


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgresql_restart_in_the_middle_of_a_job(store, pg_server, backend):
    with FakeMessagesAPI(latency=0.15) as fake:
        settings = claude_settings(fake)
        ids = plan_ids(store, 30)
        job = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=settings)
        runner = runner_service.Runner(store, settings, concurrency=4).start_background(poll_seconds=0.2)
        try:
            wait_until(lambda: item_statuses(store, job.job_id).get("succeeded", 0) >= 8, what="eight items done")
            pg_server.restart()
            wait_until(lambda: _quiet(lambda: item_statuses(store, job.job_id)) == {"succeeded": 30},
                       timeout=120, what="job finished after the restart")
        finally:
            runner.shutdown()
        audit(store, job.job_id, ids, "PostgreSQL restart", backend)


def _quiet(fn):
    try:
        return fn()
    except Exception:  # noqa: BLE001 - the server is restarting
        return None


def test_api_answering_only_529_for_30_seconds(store, backend):
    with FakeMessagesAPI(default="529", retry_after=0.2) as fake:
        settings = claude_settings(fake, sdk_max_retries=1)
        ids = plan_ids(store, 8)
        job = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=settings)
        recover = threading.Timer(30.0, lambda: fake.set_default("ok"))
        recover.start()
        try:
            runner = runner_service.Runner(store, settings, concurrency=4)
            runner.run_until_idle(job.job_id)
        finally:
            recover.cancel()
        assert runner.backoff.pauses > 0
        assert audit(store, job.job_id, ids, "API 529 for 30 s", backend)["succeeded"] == 8


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("fault, pragma", [
    ("disk full (SQLite)", "PRAGMA max_page_count = {pages}"),
    ("read-only database (SQLite)", "PRAGMA query_only = ON"),
])
def test_sqlite_write_failures_while_saving(db_url, backend, fault, pragma):
    """SQLITE_FULL / SQLITE_READONLY from the database itself while the runner saves."""
    state = {"broken": False, "errors": 0}
    engine = make_engine(db_url)
    with read(engine) as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    healthy = "PRAGMA max_page_count = 1073741823" if "max_page_count" in pragma else "PRAGMA query_only = OFF"

    @event.listens_for(engine, "begin")
    def _fault(conn):
        conn.exec_driver_sql(pragma.format(pages=pages) if state["broken"] else healthy)

    @event.listens_for(engine, "handle_error")
    def _count(context):
        state["errors"] += 1

    with FakeMessagesAPI(latency=0.1) as fake:
        settings = claude_settings(fake, lease_seconds=1.0)
        ids = plan_ids(engine, 16)
        job = runner_service.enqueue(engine, kind="selected", conversation_ids=ids, settings=settings)
        runner = runner_service.Runner(engine, settings, concurrency=3).start_background(poll_seconds=0.2)
        try:
            wait_until(lambda: item_statuses(engine, job.job_id).get("succeeded", 0) >= 3, what="first items saved")
            state["broken"] = True
            wait_until(lambda: state["errors"] >= 3, what="writes failing")
            state["broken"] = False
            wait_until(lambda: item_statuses(engine, job.job_id) == {"succeeded": 16}, timeout=60, what="recovered")
        finally:
            runner.shutdown()
    audit(engine, job.job_id, ids, fault, backend)
    engine.dispose()


def _open_one_session(base: str) -> None:
    """Open the dashboard once: the server's runner starts with its first session (st.cache_resource)."""
    async def open_page() -> None:
        async with StreamlitClient(base, "dashboard") as tab:
            await tab.run()
            # The sidebar's database line is drawn after sidebar() has started the runner.
            assert any(text.startswith("Database:") for text in tab.texts(SIDEBAR)), tab.texts(SIDEBAR)

    asyncio.run(open_page())


@pytest.mark.browser
def test_kill_9_of_the_streamlit_server_during_a_job_of_50(store, db_url, backend, tmp_path):
    q = t.generation_queue.c
    with FakeMessagesAPI(latency=0.2) as fake:
        ids = plan_ids(store, 50)
        server, base = start_claude_app(db_url, fake, tmp_path / "streamlit.log")
        try:
            _open_one_session(base)
            job = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=claude_settings(fake))
            # The runner polls the queue (a wake from this process cannot reach the server).
            wait_until(lambda: item_statuses(store, job.job_id).get("succeeded", 0) >= 10,
                       what="ten items done by the server")
            os.kill(server.pid, signal.SIGKILL)
            server.wait()
        finally:
            stop_app(server)
        with read(store) as conn:
            by_server = conn.scalar(select(func.count()).where(
                q.job_id == job.job_id, q.status == "succeeded", q.lease_owner.contains(f":{server.pid}:")))
        assert 10 <= by_server < 50, "the server's own runner did the first part of the job"
        resumed = start_claude_cli(db_url, fake, "resume")
        out, err = finish(resumed)
        assert resumed.returncode == 0, err
        assert audit(store, job.job_id, ids, "kill -9 Streamlit server", backend)["succeeded"] == 50
