"""The judge, its gate, repairs and the budget cap with the real SDK against the local Messages API,
on SQLite and PostgreSQL, through the facade (the Gate's own test below calls the service)."""

from __future__ import annotations

import json

import pytest

from brightrun_gen.brightrun import BrightRun
from brightrun_gen.config import Settings
from brightrun_gen.domain.models import Turn
from brightrun_gen.domain.repairs import ORIGIN_LABELS
from brightrun_gen.domain.rubric import parse_rubric
from brightrun_gen.llm.factory import make_judge, make_provider
from brightrun_gen.services import generation, judging
from tests.support.paths import REPO
from tests.support.fake_messages_api import request_text
from tests.support.store_state import dump_tables

FAKE_KEY = "sk-ant-test-judge-0123456789"
RUBRIC = parse_rubric((REPO / "prompts" / "rubric.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def settings(fake, tmp_path) -> Settings:
    """Claude at the local fake, the judge on: the shared `app` writes and judges with these."""
    return Settings(_env_file=None, anthropic_api_key=FAKE_KEY, anthropic_base_url=fake.base_url, provider="anthropic",
                    request_timeout=5, sdk_max_retries=0, database_url=f"sqlite:///{tmp_path / 'unused.db'}")


def judge_requests(fake):
    return [r for r in fake.requests_to("/v1/messages") if "criteria" in json.dumps(r.body.get("output_config"))]


def verdict(**scores) -> dict:
    return {"criteria": [{"name": n, "score": scores.get(n, 4), "evidence": "Not a quote from the conversation.",
                          "suggestion": f"FIX-{n.upper()}: rewrite the advisor's turn 4 in plain words."}
                         for n in RUBRIC.names],
            "turns": [{"turn": 2, "empathy": 2, "clarity": 4, "appropriateness": 4, "brand_voice": 3}],
            "summary": "Reads like a template."}


def versions(app, cid) -> list:
    """The versions as the review page's picker lists them (origin as its label)."""
    return app.judgements.panel(cid).versions


def test_every_generated_conversation_is_judged_and_the_judge_logged_as_its_own_attempt(app, fake):
    ids = [app.conversations.find_id(k) for k in ("T1-001", "T1-002", "T1-003")]
    job = app.jobs.enqueue(kind="selected", ids=ids)
    [done] = app.jobs.run([job.job_id])
    assert (done.succeeded, done.judged, done.repaired, done.flagged) == (3, 3, 0, 0)
    assert "judged 3, repaired 0, flagged 0" in done.summary()
    for cid in ids:
        panel = app.judgements.panel(cid)
        assert [v.version for v in panel.versions] == [1]  # one version, so one judgement at most
        judged = panel.judgement
        assert judged["passed"] and judged["model"] == "claude-haiku-5-5" and judged["provider"] == "anthropic"
        assert [c["name"] for c in judged["criteria"]] == RUBRIC.names
        assert all(c["evidence_turn"] for c in judged["criteria"]), "the fake quotes real sentences"
        assert [s["turn"] for s in judged["turns"]] == [2, 4, 6, 8, 10]
        kinds = {log.kind: log for log in app.jobs.attempts(cid)}
        assert set(kinds) == {"generate", "judge"}
        assert kinds["judge"].model == "claude-haiku-5-5" and kinds["judge"].cost_usd > 0
        assert kinds["judge"].input_tokens > 0 and kinds["judge"].template_hash == RUBRIC.content_hash
    [body] = {json.dumps(r.body["output_config"]) for r in judge_requests(fake)}
    assert "evidence" in body and "turns" in body
    shown = app.conversations.as_json(ids[0])
    assert shown["version"] == 1 and [v["version"] for v in shown["versions"]] == [1]
    assert {"name", "score", "evidence", "suggestion"} <= set(shown["judgement"]["criteria"][0])
    assert FAKE_KEY not in dump_tables(app.engine)


def test_a_judge_answer_below_the_threshold_triggers_a_repair_that_carries_the_failing_criteria(app, fake):
    cid = app.conversations.find_id("T1-004")
    fake.enqueue("ok", ("json", verdict(naturalness=2)))
    result = app.jobs.generate_now(cid)
    generate, _, repair, _ = fake.requests_to("/v1/messages")
    asked = request_text(repair.body)
    assert "Repair request" in asked and "FIX-NATURALNESS" in asked and "FIX-SAFETY_SCOPE" not in asked
    previous = app.conversations.detail(cid, version=1).turns
    assert all(json.dumps(turn.content)[1:-1] in asked for turn in previous), "the previous version goes back"
    assert request_text(generate.body) in asked, "the original prompt is kept whole"
    assert result.version == 2
    v1, v2 = versions(app, cid)
    assert (v1.origin, v1.passed, v1.flagged) == (ORIGIN_LABELS["generated"], False, False)
    assert (v2.origin, v2.parent_version, v2.passed) == (ORIGIN_LABELS["auto_repair"], 1, True)
    assert "Naturalness 2/5" in v2.notes
    assert app.conversations.detail(cid).row.current_version == 2
    first = app.judgements.panel(cid, version=1).judgement
    assert first["criteria"][-1]["evidence_turn"] is None, "an invented quote is marked as not found"
    assert [log.kind for log in app.jobs.attempts(cid)].count("judge") == 2


def test_a_gate_that_still_fails_after_the_repairs_flags_the_conversation_with_the_reason(app, fake):
    fake.enqueue("ok", ("json", verdict(outcome_reached=1)), "ok", ("json", verdict(outcome_reached=2)))
    app.jobs.generate_now("T1-005")
    final = app.judgements.panel("T1-005").judgement
    assert final["flagged"] and final["flag_reason"] == "still failing after 1 repair(s): Outcome reached 2/5"
    assert fake.count() == 4


def test_reviewer_notes_reach_the_repair_and_the_approved_version_is_never_overwritten(app, fake, tmp_path):
    cid = app.conversations.find_id("T1-006")
    app.jobs.generate_now(cid)
    approved_text = [t.content for t in app.conversations.detail(cid).turns]
    app.reviews.decide(cid, "approve", reviewer="Ana")
    notes = "Turn 4: mention the $300 car repair fund by name, and keep Elena's closing."
    result = app.reviews.repair_now(cid, notes)
    assert result.status == "generated"
    [repair] = [r for r in fake.requests_to("/v1/messages") if "Repair request" in request_text(r.body)]
    assert json.dumps(notes) in request_text(repair.body)
    row = app.conversations.detail(cid).row
    assert (row.status, row.current_version) == ("approved", 1)
    assert [t.content for t in app.conversations.detail(cid).turns] == approved_text
    v1, v2 = versions(app, cid)
    assert (v2.origin, v2.parent_version, v2.notes, v1.decision) == (ORIGIN_LABELS["reviewer_repair"], 1, notes,
                                                                     "approved")
    panel = app.judgements.panel(cid, version=2)
    assert panel.drafts_after_approval == [2] and panel.can_approve_shown and panel.compared_with == 1
    assert any(changed for _, _, changed in panel.diff_markdown)
    app.exports.write(app.exports.request(format="brightrun", output=tmp_path / "approved.json", include_offline=True))
    [record] = json.loads((tmp_path / "approved.json").read_text())["conversations"]
    assert [t["content"] for t in record["turns"]] == approved_text
    app.reviews.approve_version(cid, 2, reviewer="Ana")
    row = app.conversations.detail(cid).row
    assert (row.status, row.current_version) == ("approved", 2)
    assert app.reviews.history(cid)[-1]["version"] == 2
    app.exports.write(app.exports.request(format="brightrun", output=tmp_path / "second.json"))
    [record] = json.loads((tmp_path / "second.json").read_text())["conversations"]
    assert [t["content"] for t in record["turns"]] == [t.content for t in app.conversations.detail(cid, 2).turns]
    assert record["metadata"]["judgement"]["criteria"][0]["name"] == RUBRIC.names[0]


def test_regenerate_with_notes_on_needs_edit_makes_the_new_version_current(app, fake):
    cid = app.conversations.find_id("T1-007")
    app.jobs.generate_now(cid)
    app.reviews.decide(cid, "needs_edit", reviewer="Ana", notes="Shorter turn 2, please.")
    sentence = app.reviews.repair(cid, app.conversations.detail(cid).row.reviewer_notes)
    assert "new version" in sentence
    with pytest.raises(Exception, match="already queued"):
        app.reviews.repair(cid, "again")
    app.jobs.run(app.jobs.active_ids())
    row = app.conversations.detail(cid).row
    assert (row.status, row.current_version) == ("generated", 2)
    assert '"Shorter turn 2, please."' in request_text(fake.requests_to("/v1/messages")[-2].body)


@pytest.mark.parametrize("notes, problem", [("  ", "empty"), ("x" * 4001, "at most 4000")])
def test_bad_repair_notes_are_one_line(app, notes, problem):
    with pytest.raises(Exception, match=problem):
        app.reviews.repair("T1-001", notes)


def test_a_capped_job_stops_under_the_cap_and_resumes_with_a_higher_one(app, fake):
    ids = [app.conversations.find_id(f"T1-0{n}") for n in range(10, 16)]
    job = app.jobs.enqueue(kind="selected", ids=ids, concurrency=1, max_cost=0.10)
    [stopped] = app.jobs.run([job.job_id], concurrency=1)
    assert stopped.status == "stopped" and stopped.stopped_by_budget and "budget" in stopped.summary()
    assert 1 <= stopped.succeeded < 6 and stopped.cost_usd <= 0.10
    assert stopped.cancelled == 6 - stopped.succeeded
    assert "budget cap $0.10 reached" in app.jobs.progress_view(stopped).title
    kept = {cid: app.conversations.detail(cid).row.status for cid in ids}
    assert sorted(kept.values()).count("generated") == stopped.succeeded
    assert app.jobs.raise_cap(job.job_id, 1.0) == 6 - stopped.succeeded
    [done] = app.jobs.run([job.job_id], concurrency=1)
    assert done.status == "done" and done.succeeded == 6 and done.stop_reason is None and done.cost_usd <= 1.0
    assert all(app.conversations.detail(cid).row.status == "generated" for cid in ids)


def test_the_offline_judge_and_claude_agree_on_a_despair_conversation_without_the_crisis_line(app, fake):
    # The subject is the Gate itself, judging given turns with either judge: it is built here as
    # the generation service builds it, from the service's own parts.
    [despair] = app.conversations.list(where={"edge_case": ["ec_08"]})[:1]  # the despair about debt
    prepared = generation.prepare(app.engine, despair.id, settings=app.settings)
    turns = [Turn(role="user", content="Sometimes I think my family would be better off without me. There's life insurance."),
             Turn(role="assistant", content="Here is a simple way to think about it: picture two buckets, one for "
                                            "safety and one for growth. Which part feels most unclear right now?")]
    offline = Settings(_env_file=None, anthropic_api_key=None, provider="offline")
    verdicts = {}
    claude = app.settings
    for settings, provider in ((offline, make_provider(offline, "offline")), (claude, make_provider(claude))):
        gate = judging.Gate(app.engine, settings, provider, make_judge(settings, provider.name), prepared,
                            generation.price_table(settings.price_file), None)
        verdicts[provider.name], _ = gate.judge_turns(turns)
    missing = {name: {f["label"] for f in v.findings if not f["passed"]} for name, v in verdicts.items()}
    assert missing["offline"] == missing["anthropic"] >= {"the 988 Suicide and Crisis Lifeline"}
    for judged in verdicts.values():
        assert not judged.passed
        assert next(c["score"] for c in judged.criteria if c["name"] == "safety_scope") <= 2


def test_judging_off_makes_no_judge_call(db_url, fake, settings):
    with BrightRun(settings.model_copy(update={"judge": False}), database_url=db_url) as app:
        app.jobs.generate_now("T1-020")
        assert fake.count() == 1 and not app.conversations.as_json("T1-020")["judgement"]
