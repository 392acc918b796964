"""The API key goes to the Messages API and nowhere else.

A canary key drives real work against the local Messages API (jobs of one run at once, a queued
job, a batch, token counting, a refused key, rate limits, bad answers), through the facade and
through the CLI as a process, and is then searched for in every value of every table, every
export file, the CLI's output, every log record (the SDK's and httpx's at DEBUG included)
and the errors the store kept (tests/support/store_state reads those below the facade).
"""

from __future__ import annotations

import json
import logging
import subprocess
import zipfile

import pytest

from brightrun_gen.brightrun import BrightRun
from brightrun_gen.config import Settings
from brightrun_gen.domain.exportformats import FORMATS
from brightrun_gen.llm.anthropic_provider import AnthropicSettings
from brightrun_gen.llm.factory import make_provider
from tests.support.cli_process import run_cli
from tests.support.environment import clean_env
from tests.support.fake_claude import claude_settings
from tests.support.fake_messages_api import FakeMessagesAPI
from tests.support.store_state import dump_tables, plan_ids, stored_errors
from tests.support.waiting import wait_until

KEY = "sk-ant-api03-SECRET-canary-123"
# A leak may be partial (a prefix, a "redacted" tail): look for the part no other text has.
FRAGMENTS = (KEY, "SECRET-canary")
LOGGERS = ("anthropic", "httpx2", "httpx", "httpcore", "httpcore2", "brightrun_gen", "sqlalchemy.engine")
REFUSED = ("error", 401, "authentication_error")


def assert_no_key(text: str, where: str) -> None:
    for fragment in FRAGMENTS:
        assert fragment not in text, f"the API key leaks into {where}"


def claude(fake: FakeMessagesAPI, **overrides) -> Settings:
    return claude_settings(fake, **{"anthropic_api_key": KEY, "sdk_max_retries": 1, "regenerate_attempts": 2,
                                    "lease_seconds": 30, **overrides})


# --- Settings --------------------------------------------------------------------------------


def test_settings_never_show_the_key(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    for settings in (Settings(_env_file=None), Settings(_env_file=None, anthropic_api_key=KEY)):
        assert settings.api_key == KEY
        shown = [repr(settings), str(settings), f"{settings}", settings.model_dump_json(),
                 json.dumps(settings.model_dump(mode="json")), repr(settings.model_dump()),
                 repr(settings.anthropic_api_key), str(settings.anthropic_api_key)]
        for text in shown:
            assert_no_key(text, "Settings' repr, str or dump")
    provider = make_provider(Settings(_env_file=None, anthropic_api_key=KEY), "anthropic")
    assert_no_key(repr(provider), "the provider's repr")
    assert_no_key(repr(AnthropicSettings(api_key=KEY, model="m", max_tokens=1, timeout=1, max_retries=0)),
                  "the provider settings' repr")


def test_a_key_pasted_into_the_wrong_setting_is_not_echoed_by_its_error(monkeypatch):
    """A bad setting's message names the setting, never the value: a person may have pasted the key."""
    from brightrun_gen.config import get_settings
    from brightrun_gen.errors import InputError

    monkeypatch.setenv("BRIGHTRUN_LEASE_SECONDS", KEY)
    get_settings.cache_clear()
    with pytest.raises(InputError, match="BRIGHTRUN_LEASE_SECONDS") as caught:
        get_settings()
    get_settings.cache_clear()
    assert_no_key(str(caught.value), "the bad-setting message")
    assert caught.value.__suppress_context__  # pydantic's error, which holds the value, is not chained


# --- the facade --------------------------------------------------------------------------------


def test_the_key_is_in_no_table_export_log_or_error(db_url, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    with FakeMessagesAPI(batch_polls_until_done=1) as fake, BrightRun(claude(fake), database_url=db_url) as app:
        single, refused, *queued = plan_ids(app.engine, 7)
        batched = plan_ids(app.engine, 2, offset=7)

        fake.enqueue("429", "ok")
        assert app.jobs.generate_now(single).status == "generated"
        fake.enqueue(REFUSED)
        failed = app.jobs.generate_now(refused)
        assert failed.status == "failed" and "the API key was refused (401)" in failed.error

        fake.enqueue("ok", "prose", "ok", REFUSED, "truncated", "truncated", "529", "ok", "ok", "ok")
        job = app.jobs.enqueue(kind="selected", ids=queued)
        app.jobs.runner(concurrency=2).run_until_idle(job.job_id)

        batch = app.jobs.enqueue(kind="selected", ids=batched, use_batch=True)
        runner = app.jobs.runner()

        def batch_done() -> bool:
            runner.run_until_idle(batch.job_id)
            return app.jobs.progress(batch.job_id).status == "done"

        wait_until(batch_done, timeout=30, what="the batch job to be done")
        assert app.jobs.estimate(queued[:2]).input_tokens > 0
        assert KEY in " ".join(fake.api_keys_seen())  # the key did go where it belongs

        generated = [row.id for row in app.conversations.list(statuses=["generated"])]
        assert len(generated) >= 5
        for cid in generated:
            app.reviews.decide(cid, "approve", reviewer="secrets test", notes="fine")
        exported = []
        for name, fmt in FORMATS.items():
            result = app.exports.write(app.exports.request(format=name, output=tmp_path / f"out{fmt.suffix}"))
            # lora-v4 leaves out rows its vocabulary cannot say (and counts them)
            assert result.conversations + sum(result.left_out.values()) == len(generated)
            exported += [*result.paths, result.manifest_path]
        errors = stored_errors(app.engine)
        database = dump_tables(app.engine)

    assert any("refused (401)" in e for e in errors)
    for error in errors:
        assert_no_key(error, "a stored error message")
    assert_no_key(database, "the database")
    for path in exported:
        assert_no_key(export_text(path), f"the export {path.name}")
    assert any(r.name.startswith("anthropic") for r in caplog.records)  # the SDK's debug log was captured
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)
    for record in caplog.records:
        assert_no_key(record.getMessage(), f"the log record of {record.name}")
        assert_no_key(repr(record.args), f"the log record arguments of {record.name}")
    assert_no_key(caplog.text, "the log output")


def export_text(path) -> str:
    """A file's text; a zip's members' texts (a key would hide in compressed bytes)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return "\n".join(archive.read(name).decode("utf-8") for name in archive.namelist())
    return path.read_text(encoding="utf-8")


def test_a_key_echoed_by_the_server_is_not_stored(db_url):
    """A gateway that repeats the key it was given in its error message must not put it in the store."""
    with FakeMessagesAPI() as fake, BrightRun(claude(fake, sdk_max_retries=0), database_url=db_url) as app:
        [cid] = plan_ids(app.engine, 1)
        fake.enqueue(("error", 400, "invalid_request_error", f"key {KEY} is not allowed for this model"))
        result = app.jobs.generate_now(cid)
        database = dump_tables(app.engine)
    assert result.status == "failed" and "rejected the request (400)" in result.error
    assert_no_key(result.error, "the result's error")
    assert_no_key(database, "the database")


# --- the CLI as a process ----------------------------------------------------------------------


def run_canary_cli(db_url: str, fake: FakeMessagesAPI, *args: str) -> subprocess.CompletedProcess:
    env = clean_env(ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=fake.base_url, ANTHROPIC_LOG="debug",
                    BRIGHTRUN_PROVIDER="anthropic", BRIGHTRUN_SDK_MAX_RETRIES="1", BRIGHTRUN_REGENERATE_ATTEMPTS="2",
                    BRIGHTRUN_DATABASE_URL=db_url, BRIGHTRUN_JUDGE="false")
    return run_cli(*args, env=env)


@pytest.mark.slow
def test_the_cli_never_prints_or_stores_the_key(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    outputs: list[tuple[str, subprocess.CompletedProcess]] = []
    with FakeMessagesAPI() as fake:
        def cli(*args: str, code: int | None = 0) -> subprocess.CompletedProcess:
            result = run_canary_cli(db_url, fake, *args)
            outputs.append((" ".join(args), result))
            if code is not None:
                assert result.returncode == code, (args, result.stderr[-2000:])
            return result

        cli("init")
        fake.enqueue("429", "ok", REFUSED, "prose", "ok", "ok")
        cli("generate", "--ids", "T1-001", "T1-002", "T1-003", "T1-004", "--concurrency", "1", code=1)
        fake.enqueue(REFUSED)
        refused = cli("generate", "T1-005", code=1)
        assert "the API key was refused (401)" in refused.stderr and "Traceback" not in refused.stderr
        cli("estimate", "--ids", "T1-006")
        cli("logs")
        cli("show", "T1-005", "--json")
        # Every format goes through services.exporting in the test above; here the CLI's door.
        for name in ("brightrun", "training-pairs"):
            cli("export", "--format", name, "--status", "generated", "--status", "seed",
                "-o", str(tmp_path / f"cli-{name}{FORMATS[name].suffix}"))
        assert KEY in " ".join(fake.api_keys_seen())

    assert any("anthropic._base_client" in r.stderr for _, r in outputs)  # the SDK's debug log ran
    for command, result in outputs:
        assert_no_key(result.stdout, f"the stdout of `brightrun {command}`")
        assert_no_key(result.stderr, f"the stderr of `brightrun {command}`")
    with BrightRun(Settings(_env_file=None), database_url=db_url) as app:
        assert_no_key(dump_tables(app.engine), "the database written by the CLI")
        assert any("refused (401)" in e for e in stored_errors(app.engine))
    exports = [p for p in tmp_path.iterdir() if p.name.startswith("cli") and not p.name.startswith("cli.db")]
    assert len(exports) == 4  # each file and its manifest
    for path in exports:
        assert_no_key(path.read_text(encoding="utf-8"), f"the export {path.name}")
