"""generate_one with the real anthropic SDK against the local Messages API server, and offline.

The subject is one call of the generation service: how it uses the SDK's own retries, regenerates
an unusable answer, stores, scores and logs. It is called directly, not as a job: the runner would
retry a failed item and blur the request counts these tests assert. Everything around the call
(finding rows, reading them back, reviewing) goes through the facade.
"""

from __future__ import annotations

import pytest

from brightrun_gen.brightrun import BrightRun
from brightrun_gen.config import Settings
from brightrun_gen.llm.factory import make_provider
from brightrun_gen.services.generation import generate_one
from tests.support.cli_process import run_cli
from tests.support.environment import clean_env
from tests.support.store_state import dump_tables

FAKE_KEY = "sk-ant-test-0123456789-do-not-store"


@pytest.fixture
def claude(fake, tmp_path) -> Settings:
    return Settings(_env_file=None, anthropic_api_key=FAKE_KEY, anthropic_base_url=fake.base_url,
                    provider="anthropic", request_timeout=5, sdk_max_retries=2, max_tokens=4000, judge=False,
                    database_url=f"sqlite:///{tmp_path / 'unused.db'}")


def _id(app, key="T1-001") -> int:
    return app.conversations.find_id(key)


def _logs(app, cid):
    return sorted(app.jobs.attempts(cid), key=lambda e: e.id)


def test_claude_answer_is_validated_scored_stored_and_logged(app, fake, claude):
    cid = _id(app)
    result = generate_one(app.engine, cid, settings=claude)
    assert result.status == "generated" and result.version == 1
    detail = app.conversations.detail(cid)
    assert detail.row.status == "generated" and detail.row.model == "claude-sonnet-5-5"
    assert len(detail.turns) == 10 and detail.turns[0].role == "user"
    assert detail.quality["score"] == result.quality_score
    [log] = _logs(app, cid)
    assert log.outcome == "ok" and log.input_tokens > 0 and log.output_tokens > 0
    assert log.cost_usd == pytest.approx(result.cost_usd) and log.cost_usd > 0
    assert log.template_name == "tier1_arc" and len(log.template_hash) == 64
    assert log.parameters["persona_name"] and log.raw_response.startswith("{")
    body = fake.requests_to("/v1/messages")[0].body
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert body["output_config"]["format"]["type"] == "json_schema"
    assert "temperature" not in body and "top_p" not in body
    assert FAKE_KEY not in dump_tables(app.engine)


def test_two_429s_are_retried_by_the_sdk_and_the_result_is_stored(app, fake, claude):
    fake.enqueue("429", "429", "ok")
    result = generate_one(app.engine, _id(app), settings=claude)
    assert result.status == "generated"
    assert fake.count() == 3
    [log] = _logs(app, _id(app))
    assert log.retries == 2 and log.outcome == "ok"


@pytest.mark.parametrize("bad", ["prose", "truncated", "refusal", "malformed", "wrong_roles"])
def test_an_unusable_answer_is_regenerated_and_logged(app, fake, claude, bad):
    fake.enqueue(bad, "ok")
    result = generate_one(app.engine, _id(app), settings=claude)
    assert result.status == "generated" and result.attempts == 2
    logs = _logs(app, _id(app))
    assert [e.outcome for e in logs] == ["invalid", "ok"]
    assert logs[0].error


def test_cut_off_answers_every_time_mark_the_row_failed_with_the_reason(app, fake, claude):
    fake.enqueue("truncated", "truncated", "truncated")
    result = generate_one(app.engine, _id(app), settings=claude)
    assert result.status == "failed" and "max_tokens" in result.error
    row = app.conversations.detail(_id(app)).row
    assert row.status == "failed" and "max_tokens" in row.last_error
    logs = _logs(app, _id(app))
    assert [e.outcome for e in logs] == ["invalid"] * 3
    assert all(e.stop_reason == "max_tokens" for e in logs)


def test_server_errors_after_the_sdk_retries_fail_the_row(app, fake, claude):
    fake.enqueue("500", "500", "500")
    result = generate_one(app.engine, _id(app), settings=claude)
    assert result.status == "failed" and "500" in result.error
    assert fake.count() == 3
    [log] = _logs(app, _id(app))
    assert log.outcome == "error"


def test_a_slow_answer_times_out_with_a_clear_reason(app, fake, claude):
    slow = claude.model_copy(update={"request_timeout": 0.3, "sdk_max_retries": 0})
    fake.enqueue(("slow", 2.0))
    result = generate_one(app.engine, _id(app), settings=slow)
    assert result.status == "failed" and "timeout" in result.error


def test_a_conversation_breaking_quality_rules_is_stored_with_the_failures_named(app, fake, claude):
    fake.enqueue("bad_quality")
    result = generate_one(app.engine, _id(app), settings=claude)
    assert result.status == "generated" and result.quality_score < 8
    failed = {c["name"] for c in app.conversations.detail(_id(app)).quality["criteria"] if not c["passed"]}
    assert {"turn_count", "no_meta_text", "assistant_length"} <= failed


def test_an_approved_version_is_never_overwritten(app, fake, claude):
    cid = _id(app)
    generate_one(app.engine, cid, settings=claude)
    app.reviews.decide(cid, "approve", notes="keep this one")
    before = app.conversations.detail(cid)
    fake.enqueue("truncated", "truncated", "truncated")
    generate_one(app.engine, cid, settings=claude)
    generate_one(app.engine, cid, settings=claude)  # a good regeneration: stored as version 2, not current
    after = app.conversations.detail(cid)
    assert after.row.status == "approved" and after.row.current_version == 1
    assert after.turns == before.turns
    assert [v["version"] for v in after.versions] == [1, 2]


def test_offline_provider_is_deterministic_and_labelled(app, settings):
    cid = _id(app, "T2-003")
    first = generate_one(app.engine, cid, settings=settings)
    turns_v1 = app.conversations.detail(cid).turns
    second = generate_one(app.engine, cid, settings=settings)
    assert first.model == "offline" and first.quality_score == 10.0
    assert second.version == 2
    assert app.conversations.detail(cid).turns == turns_v1
    assert app.conversations.detail(cid).row.model == "offline"


def test_count_tokens_goes_through_the_sdk(db_url, fake, claude):
    with BrightRun(claude, database_url=db_url) as app:
        result = app.jobs.estimate([_id(app), _id(app, "T1-002")])
    assert fake.count("/v1/messages/count_tokens") == 1
    assert result.count == 2 and result.cost_usd > 0 and result.input_tokens > 0


def test_anthropic_without_a_key_is_a_clear_error(settings):
    from brightrun_gen.errors import InputError

    with pytest.raises(InputError, match="ANTHROPIC_API_KEY"):
        make_provider(settings, "anthropic")


@pytest.mark.slow
def test_cli_generate_with_the_real_sdk_after_two_429s(fake, tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    env = clean_env(ANTHROPIC_API_KEY=FAKE_KEY, ANTHROPIC_BASE_URL=fake.base_url, BRIGHTRUN_JUDGE="false")
    run = lambda *args: run_cli(*args, db=db, env=env)  # noqa: E731
    assert run("init").returncode == 0
    fake.enqueue("429", "429", "ok")
    result = run("generate", "T1-004")
    assert result.returncode == 0, result.stderr
    assert "T1-004: generated version 1 with claude-sonnet-5-5, quality" in result.stdout
    assert "cost $0.0" in result.stdout and fake.count() == 3
    logs = run("logs", "T1-004")
    assert "attempt 1 ok" in logs.stdout and "cache_read=" in logs.stdout
    assert FAKE_KEY not in result.stdout + result.stderr + logs.stdout
