"""`brightrun repair`, `report templates`, `show` with the judgement and `--max-cost`, as processes
driving the real SDK against the local Messages API."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.cli_process import run_cli
from tests.support.environment import clean_env
from tests.support.fake_messages_api import FakeMessagesAPI


@pytest.fixture
def cli(tmp_path):
    with FakeMessagesAPI() as fake:
        env = clean_env(ANTHROPIC_API_KEY="sk-ant-test-cli-judge", ANTHROPIC_BASE_URL=fake.base_url,
                        BRIGHTRUN_SDK_MAX_RETRIES="0")
        db = f"sqlite:///{tmp_path / 'cli.db'}"

        def run(*args: str) -> subprocess.CompletedProcess:
            return run_cli(*args, db=db, env=env)

        assert run("init").returncode == 0
        yield run
        assert not fake.server_errors


def test_a_capped_job_stops_with_the_reason_and_resume_with_a_higher_cap_goes_on(cli):
    stopped = cli("generate", "--ids", "T1-001", "T1-002", "T1-003", "--concurrency", "1", "--max-cost", "0.05")
    assert stopped.returncode == 0, stopped.stderr
    assert "job 1 stopped (budget: cap $0.05 reached): 3 of 3 done, 0 succeeded" in stopped.stdout
    assert "to go on: brightrun resume 1 --max-cost USD (more than $0.05)" in stopped.stdout
    resumed = cli("resume", "1", "--max-cost", "1")
    assert resumed.returncode == 0, resumed.stderr
    assert "job 1: budget cap $1.00, 3 item(s) taken again" in resumed.stdout
    assert "job 1 done: 3 of 3 done, 3 succeeded" in resumed.stdout and "judged 3, repaired 0, flagged 0" in resumed.stdout


def test_repair_show_and_report_templates(cli):
    assert "judge 4.0/5 (claude-haiku-5-5): passed" in cli("generate", "T1-004").stdout
    repaired = cli("repair", "T1-004", "--notes", "Turn 2 is too long; cut it to three sentences.")
    assert repaired.returncode == 0, repaired.stderr
    assert "T1-004: version 2 written with claude-sonnet-5-5 from version 1 (v2 · regenerated with reviewer notes" \
        in repaired.stdout
    shown = json.loads(cli("show", "T1-004", "--json").stdout)
    assert shown["version"] == 2 and [(v["version"], v["origin"]) for v in shown["versions"]] == [
        (1, None), (2, "reviewer_repair")]
    assert shown["versions"][1]["notes"] == "Turn 2 is too long; cut it to three sentences."
    assert [c["name"] for c in shown["judgement"]["criteria"]][:2] == ["persona_consistency", "arc_adherence"]
    assert "naturalness 4/5" in cli("show", "T1-004").stdout
    [card] = json.loads(cli("report", "templates", "--json").stdout)
    assert (card["template"], card["generated"], card["mean_attempts"]) == ("tier1_arc", 2, 1.0)
    assert card["criteria"]["naturalness"] == 4.0 and card["mean_cost_usd"] > 0
    assert "tier1_arc" in cli("report", "templates").stdout


def test_bad_repair_requests_are_one_line_with_exit_code_2(cli):
    empty = cli("repair", "T1-001", "--notes", " ")
    assert empty.returncode == 2 and empty.stderr.strip().count("\n") == 0 and "notes are empty" in empty.stderr
    missing = cli("repair", "T1-001", "--notes", "fix it")
    assert missing.returncode == 2 and "has no version 0 to repair" in missing.stderr
    capped = cli("generate", "--all", "--batch", "--max-cost", "5")
    assert capped.returncode == 2 and "cannot cap a Message Batches job" in capped.stderr
