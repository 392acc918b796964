"""The queue runner on SQLite and PostgreSQL: concurrency, stop, crash and resume, workers, batches."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from queue import SimpleQueue

import pytest
from sqlalchemy import func, select

from brightrun_gen.config import Settings
from brightrun_gen.services import progress, runner as runner_service
from brightrun_gen.store import tables as t
from brightrun_gen.store.db import read, write
from tests.support.cli_process import finish, start_claude_cli
from tests.support.environment import clean_env
from tests.support.fake_claude import FAKE_KEY, claude_settings
from tests.support.fake_messages_api import FakeMessagesAPI
from tests.support.paths import REPO
from tests.support.store_state import item_statuses, plan_ids, versions_per_conversation
from tests.support.waiting import wait_until


def test_enqueueing_a_queued_row_twice_does_not_duplicate_it(store, settings):
    ids = plan_ids(store, 5)
    first = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=settings)
    second = runner_service.enqueue(store, kind="selected", conversation_ids=ids[:3] + plan_ids(store, 6)[5:], settings=settings)
    assert (first.enqueued, second.enqueued, second.skipped) == (5, 1, 3)
    with read(store) as conn:
        statuses = set(conn.scalars(select(t.conversations.c.status).where(t.conversations.c.id.in_(ids))))
    assert statuses == {"queued"}


def test_a_job_runs_concurrently_and_reports_progress(store):
    with FakeMessagesAPI(latency=0.2) as fake:
        settings = claude_settings(fake)
        ids = plan_ids(store, 12)
        job = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=settings, concurrency=6)
        runner_service.Runner(store, settings, concurrency=6).run_until_idle(job.job_id)
        snap = progress.job_progress(store, job.job_id)
        assert (snap.status, snap.total, snap.succeeded, snap.failed) == ("done", 12, 12, 0)
        assert snap.cost_usd > 0 and snap.input_tokens > 0
        assert fake.count() == 12
        assert fake.max_in_flight() == 6  # six calls in the server at once, never more
        assert set(versions_per_conversation(store, ids).values()) == {1}


def test_current_item_label_names_persona_and_topic(store, settings):
    ids = plan_ids(store, 1)
    job = runner_service.enqueue(store, kind="single", conversation_ids=ids, settings=settings)
    with write(store) as conn:
        from brightrun_gen.store import queue

        queue.claim_items(conn, "me", 30, 1, job_id=job.job_id)
    label = progress.job_progress(store, job.job_id).current[0]
    assert label.startswith("Generating T1-001: ") and " – " in label  # the key, as the table shows it


@pytest.mark.slow
def test_rate_limits_slow_the_whole_runner_and_nothing_is_lost(store):
    with FakeMessagesAPI(rate_limit_fraction=0.3, seed=7, retry_after=0.05) as fake:
        settings = claude_settings(fake, sdk_max_retries=0)
        ids = plan_ids(store, 15)
        job = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=settings, concurrency=4)
        runner = runner_service.Runner(store, settings, concurrency=4)
        runner.run_until_idle(job.job_id)
        assert item_statuses(store, job.job_id) == {"succeeded": 15}
        assert runner.backoff.pauses > 0
        assert fake.count() > 15
        assert set(versions_per_conversation(store, ids).values()) == {1}


def test_stop_mid_job_keeps_finished_work_and_stores_nothing_partial(store):
    with FakeMessagesAPI(latency=0.3) as fake:
        settings = claude_settings(fake)
        ids = plan_ids(store, 10)
        job = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=settings, concurrency=2)
        worker = threading.Thread(target=runner_service.Runner(store, settings, concurrency=2).run_until_idle, args=(job.job_id,))
        worker.start()
        wait_until(lambda: item_statuses(store, job.job_id).get("succeeded", 0) >= 2, what="two items done")
        runner_service.stop(store, job.job_id)
        worker.join(timeout=30)
        assert not worker.is_alive()
        statuses = item_statuses(store, job.job_id)
        assert statuses.get("pending", 0) == 0 and statuses.get("running", 0) == 0
        assert statuses["cancelled"] >= 1 and statuses["succeeded"] >= 2
        versions = versions_per_conversation(store, ids)
        with read(store) as conn:
            rows = {r.id: r for r in conn.execute(select(t.conversations).where(t.conversations.c.id.in_(ids)))}
            turns = dict(conn.execute(select(t.conversation_turns.c.conversation_id, func.count())
                                      .where(t.conversation_turns.c.conversation_id.in_(ids))
                                      .group_by(t.conversation_turns.c.conversation_id)).all())
        for cid in ids:
            if versions[cid]:
                assert rows[cid].status == "generated" and turns[cid] == 10
            else:
                assert rows[cid].status == "not_generated" and cid not in turns
        assert progress.job_progress(store, job.job_id).status == "stopped"


@pytest.mark.slow
def test_kill_9_mid_job_then_resume_stores_every_conversation_exactly_once(store, db_url):
    with FakeMessagesAPI(latency=0.25) as fake:
        ids = plan_ids(store, 16)
        job = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=claude_settings(fake))
        worker = start_claude_cli(db_url, fake, "resume", str(job.job_id), "--concurrency", "4")
        wait_until(lambda: item_statuses(store, job.job_id).get("succeeded", 0) >= 4, what="first items done")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        assert item_statuses(store, job.job_id).get("succeeded", 0) < 16
        resumed = start_claude_cli(db_url, fake, "resume")
        out, err = finish(resumed)
        assert resumed.returncode == 0, err
        assert item_statuses(store, job.job_id) == {"succeeded": 16}
        assert set(versions_per_conversation(store, ids).values()) == {1}
        assert "succeeded" in out


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_workers_on_postgresql_never_run_the_same_item(store, db_url):
    with FakeMessagesAPI(latency=0.3) as fake:
        ids = plan_ids(store, 40)
        job = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=claude_settings(fake))
        workers = [start_claude_cli(db_url, fake, "worker", "--once", "--concurrency", "4") for _ in range(2)]
        for w in workers:
            finish(w)
            assert w.returncode == 0
        assert item_statuses(store, job.job_id) == {"succeeded": 40}
        assert fake.count() == 40  # every call the server received belongs to a distinct item
        assert set(versions_per_conversation(store, ids).values()) == {1}
        with read(store) as conn:
            owners = set(conn.scalars(select(t.generation_queue.c.lease_owner).where(t.generation_queue.c.job_id == job.job_id)))
        assert len(owners) == 2  # both workers took items, none the same


def test_batch_job_survives_a_crash_between_submit_and_import(store):
    with FakeMessagesAPI(batch_polls_until_done=2) as fake:
        settings = claude_settings(fake)
        ids = plan_ids(store, 5)
        job = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=settings, use_batch=True)
        first = runner_service.Runner(store, settings)
        first.run_until_idle(job.job_id)  # submits the batch, then "crashes" (is dropped)
        assert fake.count("/v1/messages/batches", method="POST") == 1
        assert item_statuses(store, job.job_id) == {"running": 5}
        second = runner_service.Runner(store, settings)
        wait_until(lambda: (second.run_until_idle(job.job_id), item_statuses(store, job.job_id) == {"succeeded": 5})[1],
                   what="batch imported")
        assert fake.count("/v1/messages/batches", method="POST") == 1  # never submitted twice
        assert fake.count() == 0  # no direct calls
        assert set(versions_per_conversation(store, ids).values()) == {1}
        snap = progress.job_progress(store, job.job_id)
        assert snap.status == "done" and snap.cost_usd > 0


def test_resume_reclaims_items_of_a_dead_local_worker_without_waiting(store, settings):
    from brightrun_gen.store import queue

    ids = plan_ids(store, 2)
    job = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=settings)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket

    with write(store) as conn:
        queue.claim_items(conn, f"{socket.gethostname()}:{dead.pid}:dead", 3600, 2, job_id=job.job_id)
    assert runner_service.release_dead_owners(store) == 2
    runner_service.Runner(store, settings).run_until_idle(job.job_id)
    assert item_statuses(store, job.job_id) == {"succeeded": 2}


def test_a_stopped_job_whose_worker_died_ends_stopped(store, settings):
    from brightrun_gen.store import queue

    ids = plan_ids(store, 3)
    job = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=settings)
    with write(store) as conn:
        queue.claim_items(conn, "otherhost:1:gone", -1, 1, job_id=job.job_id)  # lease already expired
    runner_service.stop(store, job.job_id)
    queue.close_finished_jobs(store)
    assert item_statuses(store, job.job_id) == {"cancelled": 3}
    assert progress.job_progress(store, job.job_id).status == "stopped"
    with read(store) as conn:
        assert set(conn.scalars(select(t.conversations.c.status).where(t.conversations.c.id.in_(ids)))) == {"not_generated"}


WARM_UP_SCRIPT = """
import sys
from brightrun_gen import cli
from brightrun_gen.config import Settings
from brightrun_gen.llm.factory import ANTHROPIC_MODULE, preload_provider
from brightrun_gen.services.runner import start_background_runner
from brightrun_gen.store.db import make_engine
from tests.support.waiting import wait_until

url = sys.argv[1]
assert cli.main(["--db", url, "init"]) == 0
assert "anthropic" not in sys.modules, "the CLI imported the SDK for a command that does not need it"
preload_provider(Settings(_env_file=None, anthropic_api_key=None, provider="offline", database_url=url))
assert "anthropic" not in sys.modules, "the SDK was preloaded for the offline provider"
settings = Settings(_env_file=None, anthropic_api_key="sk-ant-test-warm-up", provider="anthropic", database_url=url)
runner = start_background_runner(make_engine(url), settings)
wait_until(lambda: hasattr(sys.modules.get(ANTHROPIC_MODULE), "AnthropicProvider"), timeout=60,
           what="the runner to import the SDK", interval=0.02)
assert "anthropic" in sys.modules
runner.shutdown()
print("warmed up")
"""


@pytest.mark.slow  # a fresh interpreter that imports the SDK: seconds of start-up
def test_the_background_runner_imports_the_sdk_at_start_and_the_cli_does_not(tmp_path):
    """The first job after a server start must not stall page runs while `anthropic` loads: the
    runner imports it on its own thread before any job. A fresh process, so no other test has
    imported the SDK already."""
    env = clean_env(ANTHROPIC_API_KEY="sk-ant-test-warm-up")
    done = subprocess.run([sys.executable, "-c", WARM_UP_SCRIPT, f"sqlite:///{tmp_path / 'warm.db'}"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "warmed up" in done.stdout, done.stderr[-3000:]


def test_the_background_runner_warms_up_its_provider_on_its_own_thread(store, monkeypatch):
    calls = SimpleQueue()
    monkeypatch.setattr(runner_service, "preload_provider",
                        lambda settings: calls.put((settings, threading.current_thread().name)))
    settings = Settings(_env_file=None, anthropic_api_key=FAKE_KEY, provider="anthropic")
    runner = runner_service.start_background_runner(store, settings)
    try:
        assert calls.get(timeout=30) == (settings, "brightrun-runner")
    finally:
        runner.shutdown()
