"""Pacing against the local Messages API's output-token limit: admission, the window, the ETA, workers.

The fake enforces its limit as the API does (tests/support/fake_messages_api/ratelimits.py), so a
call sent into an empty bucket shows in its request log as a 429: "no 429" is the proof of pacing.
"""

from __future__ import annotations

import math

import pytest

from brightrun_gen.brightrun import BrightRun
from tests.support.cli_process import finish, run_cli, start_claude_cli
from tests.support.environment import clean_env
from tests.support.fake_claude import claude_env, claude_settings
from tests.support.fake_messages_api import FakeMessagesAPI
from tests.support.store_state import item_statuses, lease_owners, plan_ids, rate_limit_state

# 1,000 output tokens a second; the bucket holds 2 s of it. An answer of the fake is about 1,360 tokens.
PER_MINUTE, BUCKET_SECONDS = 60_000, 2.0


def run_job(app, ids, concurrency: int = 4):
    job = app.jobs.enqueue(kind="selected", ids=ids, concurrency=concurrency)
    runner = app.jobs.runner(concurrency=concurrency)
    runner.run_until_idle(job.job_id)
    return job.job_id, runner


def in_flight_at(calls, call) -> int:
    """Calls the server held when `call` arrived, itself included."""
    return sum(1 for c in calls if c.time <= call.time < (c.answered if c.answered is not None else math.inf))


def test_admission_waits_for_the_bucket_instead_of_sending_into_it(db_url):
    # 2,000 tokens a second, a 1 s bucket: max_tokens 2,000 is taken as each call starts, one call fits at a time.
    with FakeMessagesAPI(output_tokens_per_minute=120_000, bucket_seconds=1.0) as fake, \
            BrightRun(claude_settings(fake, max_tokens=2000), database_url=db_url) as app:
        job_id, _ = run_job(app, plan_ids(app.engine, 6), concurrency=6)
        calls = fake.requests_to("/v1/messages")
        assert item_statuses(app.engine, job_id) == {"succeeded": 6}
        assert [c.status for c in calls] == [200] * 6  # no call was sent into an empty bucket
        snap = app.jobs.progress(job_id)
        assert snap.calls_refused == 0 and snap.wait_seconds > 0  # the runner held calls back instead
        assert "0 call(s) refused by the rate limits (429/529)" in snap.summary()
        learned = rate_limit_state(app.engine)
        assert learned["buckets"]["output_tokens"][:2] == [120_000, pytest.approx(2000, rel=0.05)] and learned["reported"]

    # The same job as main sent it: all at once, into the bucket, refused and retried.
    with FakeMessagesAPI(output_tokens_per_minute=120_000, bucket_seconds=1.0) as fake, \
            BrightRun(claude_settings(fake, max_tokens=2000, pace_rate_limits=False), database_url=db_url) as app:
        job_id, _ = run_job(app, plan_ids(app.engine, 3, offset=6), concurrency=3)
        refused = [c for c in fake.requests_to("/v1/messages") if c.status == 429]
        assert refused and all(c.behaviour == "output_limit" for c in refused)
        snap = app.jobs.progress(job_id)
        assert snap.calls_refused == len(refused)  # every refusal counted, the SDK's own retries included
        assert f"{len(refused)} call(s) refused by the rate limits" in app.jobs.progress_view(snap).counts


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_refusal_halves_the_calls_in_flight_and_answers_grow_them_back(db_url, caplog):
    with FakeMessagesAPI(latency=0.3) as fake, BrightRun(claude_settings(fake), database_url=db_url) as app:
        fake.enqueue(*["ok"] * 9, "429")  # after the first wave, one call is refused once; the SDK retries it
        with caplog.at_level("INFO", logger="brightrun_gen.services.pacing"):
            job_id, runner = run_job(app, plan_ids(app.engine, 48), concurrency=8)
        assert item_statuses(app.engine, job_id) == {"succeeded": 48}
        assert "the API refused a call: at most 4 item(s) in flight from now on" in caplog.text
        calls = fake.requests_to("/v1/messages")
        refused = next(i for i, c in enumerate(calls) if c.status == 429)
        retry = next(c for c in calls[refused + 1:] if c.body == calls[refused].body)
        # The retry's answer tells the runner of the refusal: it keeps 4 in flight, then 5 after 4 answers, ...
        # (calls claimed just before may still arrive within the next latency: hence the margin and the slack).
        after = [c for c in calls if c.time > retry.answered + 0.3][:4]
        assert len(after) == 4 and max(in_flight_at(calls, c) for c in after) <= 6
        assert max(in_flight_at(calls, c) for c in calls[-16:]) > 5  # grown back by the answers
        assert runner.pacing.window.slots() == 8 and runner.pacing.window.epoch == 1  # halved once, back to 8
        assert app.jobs.progress(job_id).calls_refused == 1


def test_the_estimate_and_the_progress_eta_follow_the_limit_the_api_reported(db_url):
    with FakeMessagesAPI(output_tokens_per_minute=PER_MINUTE, bucket_seconds=BUCKET_SECONDS) as fake, \
            BrightRun(claude_settings(fake, batch_suggest_minutes=0.5), database_url=db_url) as app:
        run_job(app, plan_ids(app.engine, 1))  # learns the limit and an answer's size
        answer = fake.requests_to("/v1/messages")[0].output_tokens
        ids = plan_ids(app.engine, 40, offset=1)
        found = app.jobs.estimate(ids)
        # 40 answers at 1,000 tokens a second, less what the bucket holds now (at most 2,000 tokens).
        assert 40 * answer / 1000 - 2.5 <= found.seconds <= 40 * answer / 1000
        assert found.paced_by == "60,000 output tokens a minute"
        cost, time_line, advice = found.lines()
        assert time_line.endswith("(paced to your rate limit of 60,000 output tokens a minute)")
        assert advice.startswith("Consider Message Batches") and "half price" in advice and "0.5 min" in advice
        assert "Consider Message Batches" in found.line()
        assert not app.jobs.estimate(ids, use_batch=True).advice

        job = app.jobs.enqueue(kind="selected", ids=ids)
        snap = app.jobs.progress(job.job_id)  # nothing finished yet: the limit alone says how long
        assert snap.eta_seconds == pytest.approx(found.seconds, abs=1.0)
        assert snap.paced_by == "60,000 output tokens a minute"
        assert "paced to your rate limit of 60,000 output tokens a minute" in app.jobs.progress_view(snap).eta


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_cli_suggests_batches_when_the_limit_makes_a_job_long(db_url):
    with FakeMessagesAPI(output_tokens_per_minute=PER_MINUTE, bucket_seconds=BUCKET_SECONDS) as fake, \
            BrightRun(claude_settings(fake), database_url=db_url) as app:
        run_job(app, plan_ids(app.engine, 1))
        env = clean_env(**claude_env(fake), BRIGHTRUN_DATABASE_URL=db_url, BRIGHTRUN_BATCH_SUGGEST_MINUTES="0.05")
        ids = [str(i) for i in plan_ids(app.engine, 4, offset=1)]
        estimated = run_cli("estimate", "--ids", *ids, env=env)
        assert estimated.returncode == 0, estimated.stderr
        assert "paced to your rate limit of 60,000 output tokens a minute" in estimated.stdout
        assert "Consider Message Batches" in estimated.stdout
        generated = run_cli("generate", "--ids", *ids, env=env)
        assert generated.returncode == 0, generated.stderr
        assert "Consider Message Batches" in generated.stderr
        assert "0 call(s) refused by the rate limits (429/529)" in generated.stdout
        assert [c.status for c in fake.requests_to("/v1/messages")] == [200] * 5


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_workers_on_postgresql_share_the_limit_and_stay_under_it_together(db_url):
    # 2,000 output tokens a second, a 2 s bucket: about 1.5 answers a second for both workers together,
    # so the job lasts ~18 s and a worker that starts seconds after the other (a loaded machine) still
    # finds items to take.
    with FakeMessagesAPI(output_tokens_per_minute=120_000, bucket_seconds=BUCKET_SECONDS) as fake, \
            BrightRun(claude_settings(fake), database_url=db_url) as app:
        job = app.jobs.enqueue(kind="selected", ids=plan_ids(app.engine, 30))
        workers = [start_claude_cli(db_url, fake, "worker", "--once", "--concurrency", "4") for _ in range(2)]
        for worker in workers:
            _, err = finish(worker)
            assert worker.returncode == 0, err
        assert item_statuses(app.engine, job.job_id) == {"succeeded": 30}
        calls = fake.requests_to("/v1/messages")
        assert [c.status for c in calls].count(429) == 0 and fake.output_limit.refused == 0
        assert len(lease_owners(app.engine, job.job_id)) == 2  # both took items, pacing each other through the shared state
