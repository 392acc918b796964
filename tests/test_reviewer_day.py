"""A reviewer's decisions survive generation: failed regenerations, stops, approved rows, the
confirmation counts, the table following the progress read, and the review CLI (SQLite and PostgreSQL).
Everything goes through the facade, as the pages and the CLI do."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from brightrun_gen.brightrun import BrightRun
from brightrun_gen.domain.template_choice import pick_version
from brightrun_gen.errors import InputError
from brightrun_gen.services import progress  # the progress value types and label, built by hand below
from tests.support.fake_messages_api import FakeMessagesAPI
from tests.support.cli_process import run_cli as run
from tests.support.fake_claude import claude_settings


def written(app, key: str) -> int:
    assert app.jobs.generate_now(key).status == "generated"
    return app.conversations.find_id(key)


def claude_app(fake, db_url) -> BrightRun:
    """The same store, written by "Claude" at `fake` (three tries per conversation)."""
    return BrightRun(claude_settings(fake, regenerate_attempts=3), database_url=db_url)


def run_job(app, ids) -> int:
    job = app.jobs.enqueue(kind="selected", ids=ids)
    app.jobs.runner().run_until_idle(job.job_id)
    return job.job_id


def table(app):
    return app.conversations.dashboard({})


def test_a_failed_regeneration_keeps_the_text_the_status_and_the_decision(app, db_url):
    cid = written(app, "T1-002")
    app.reviews.decide(cid, "needs_edit", reviewer="Ana", notes="The close is too abrupt.")
    before = app.conversations.detail(cid)
    with FakeMessagesAPI() as fake, claude_app(fake, db_url) as claude:
        fake.enqueue("truncated", "truncated", "truncated")
        job_id = run_job(claude, [cid])
    after = app.conversations.detail(cid)
    assert (after.row.status, after.row.reviewer_notes) == ("needs_edit", "The close is too abrupt.")
    assert after.row.current_version == before.row.current_version == 1
    assert after.turns == before.turns
    assert after.row.failed_at is not None and "max_tokens" in after.row.last_error
    assert app.jobs.progress(job_id).failed == 1
    row = table(app).table.set_index("key").loc["T1-002"]
    assert row["status"] == "Needs Edit ⚠" and row["status_key"] == "needs_edit"
    assert row["failed_note"].startswith("Last attempt failed: ") and "max_tokens" in row["failed_note"]
    shown = app.conversations.preview("T1-002")
    assert shown.status == "needs_edit" and "max\\_tokens" in shown.failed_note


def test_a_row_that_never_had_text_becomes_failed_and_a_success_clears_the_marker(app, db_url):
    cid = app.conversations.find_id("T1-003")
    with FakeMessagesAPI() as fake, claude_app(fake, db_url) as claude:
        fake.enqueue("prose", "prose", "prose")
        run_job(claude, [cid])
    failed = app.conversations.detail(cid).row
    assert failed.status == "failed" and failed.failed_at is not None
    run_job(app, [cid])
    fixed = app.conversations.detail(cid).row
    assert (fixed.status, fixed.failed_at, fixed.last_error) == ("generated", None, None)


def test_stopping_a_job_gives_each_row_back_the_status_it_rested_in(app):
    rejected = written(app, "T1-004")
    app.reviews.decide(rejected, "reject", reviewer="Ana", notes="Off topic.")
    fresh = app.conversations.find_id("T1-005")
    job = app.jobs.enqueue(kind="selected", ids=[rejected, fresh])
    assert app.conversations.detail(rejected).row.status == "queued"
    app.jobs.stop(job.job_id)
    assert app.conversations.detail(rejected).row.status == "rejected"
    assert app.conversations.detail(fresh).row.status == "not_generated"


def test_the_plan_says_what_a_selection_overwrites_and_leaves_approved_rows_unless_asked(app):
    approved = written(app, "T1-006")
    app.reviews.decide(approved, "approve", reviewer="Ana")
    edited = written(app, "T1-007")
    app.reviews.decide(edited, "needs_edit", reviewer="Ana", notes="shorter")
    plain = written(app, "T1-008")
    empty = app.conversations.find_id("T1-009")
    seed = app.conversations.find_id("seed_01")
    plan = app.jobs.plan_selected(table(app).table, [approved, edited, plain, empty, seed])
    assert set(plan.ids) == {edited, plain, empty} and plan.approved_ids == (approved,)
    assert (plan.left_out, plan.with_text, plan.claude_text, plan.decided) == (1, 2, 0, {"needs_edit": 1})
    assert plan.overwrites()
    said = " ".join(plan.lines())
    assert "2 rows already have text" in said and "1 row has a reviewer's decision (1 needs edit)" in said
    assert "1 approved row is left as it is unless you include it" in said
    everything = plan.including_approved()
    assert set(everything.ids) == {approved, edited, plain, empty} and everything.decided["approved"] == 1
    nothing_written = app.jobs.plan_selected(table(app).table, [empty])
    assert nothing_written.kind == "single" and not nothing_written.overwrites()


def test_regenerating_an_approved_row_writes_a_new_version_and_leaves_the_approved_one(app):
    cid = written(app, "T2-001")
    app.reviews.decide(cid, "approve", reviewer="Ana", notes="Ship it.")
    request = app.exports.request(format="openai", output="unused", include_offline=True)
    exported = app.exports.preview(request, 100)
    approved_turns = app.conversations.detail(cid).turns
    plan = app.jobs.plan_one(cid).including_approved()
    app.jobs.start(plan)
    app.jobs.runner().run_until_idle()
    after = app.conversations.detail(cid)
    assert (after.row.status, after.row.current_version, after.row.reviewer_notes) == ("approved", 1, "Ship it.")
    assert after.turns == approved_turns
    assert [v["version"] for v in after.versions] == [1, 2]
    assert app.exports.preview(request, 100) == exported


def test_the_table_follows_the_progress_read(app):
    ids = [app.conversations.find_id(key) for key in ("T3-001", "T3-002", "T3-003")]
    job = app.jobs.enqueue(kind="selected", ids=ids)
    before = table(app).table  # read while all three are queued
    app.jobs.runner(concurrency=1).run_until_idle(job.job_id)
    done = app.jobs.progress(job.job_id)
    shown = app.jobs.with_progress(before, [done]).set_index("id").loc[ids]
    assert list(shown["status"]) == ["Generated"] * 3 and list(shown["action"]) == ["Regenerate"] * 3
    queued = progress.Progress(**{**done.__dict__, "items": {
        cid: progress.ItemState(item, "queued", None) for cid, item in zip(ids, ("pending", "running", "pending"))}})
    assert list(app.jobs.with_progress(before, [queued]).set_index("id").loc[ids, "status"]) == [
        "Queued", "Generating", "Queued"]
    assert "Generating T3-" not in " ".join(done.current)  # nothing runs once the job is done


def test_the_progress_panel_names_rows_by_key():
    label = progress.current_label({"id": 47, "key": "T2-003", "archetype": "The Anxious Saver", "topic": "Budgets"})
    assert label == "Generating T2-003: Anxious Saver – Budgets"


def test_filter_badges_say_all_once_when_every_value_is_chosen(app):
    choices = app.conversations.filter_choices()
    badges = choices.badges({"status": list(choices.options["status"]), "tier": [1]})
    assert [b.text for b in badges] == ["Status: all ✕", "Tier: 1 – emotional arc ✕"]
    assert badges[0].value is None


def test_the_review_cli_records_a_decision_like_the_page_and_show_carries_it(template_db, tmp_path, settings):
    """The CLI as its own process on a SQLite copy of the page tests' store (T1-001 is generated there);
    the service it calls is tested on both backends above."""
    shutil.copy(template_db, tmp_path / "cli.db")
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    decided = run("review", "T1-001", "needs-edit", "--notes", "Turn 3 repeats turn 1.", "--reviewer", "Bo", db=db_url)
    assert decided.returncode == 0, decided.stderr
    assert decided.stdout.strip() == "T1-001: needs edit (version 1) by Bo: Turn 3 repeats turn 1."
    shown = json.loads(run("show", "T1-001", "--json", db=db_url).stdout)
    assert shown["status"] == "needs_edit" and shown["reviewer_notes"] == "Turn 3 repeats turn 1."
    assert (shown["decision"]["action"], shown["decision"]["reviewer"], shown["decision"]["notes"]) == (
        "needs_edit", "Bo", "Turn 3 repeats turn 1.")
    with BrightRun(settings, database_url=db_url) as app:
        [event] = app.reviews.history("T1-001")
    assert (event["action"], event["reviewer"], event["notes"]) == ("needs_edit", "Bo", "Turn 3 repeats turn 1.")
    bad = run("review", "T1-001", "maybe", db=db_url)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    missing = run("review", "T9-999", "approve", db=db_url)
    assert missing.returncode == 2 and "T9-999" in missing.stderr and "Traceback" not in missing.stderr


TEMPLATE_CHANGE = "\nKeep every advisor turn under 120 words."


def second_version(app, db_url, tmp_path) -> tuple[int, int, str]:
    """A changed tier-1 template file, stored by `brightrun init` as the only active version of its
    tier; the ids of the old and the new version, and the start of the new one's hash."""
    prompts = tmp_path / "prompts"
    shutil.copytree(app.settings.prompts_dir, prompts)
    path = prompts / "tier1_arc.yaml"
    template = yaml.safe_load(path.read_text(encoding="utf-8"))
    template["request"] += TEMPLATE_CHANGE
    path.write_text(yaml.safe_dump(template, sort_keys=False, allow_unicode=True), encoding="utf-8")
    with BrightRun(app.settings.model_copy(update={"prompts_dir": prompts}), database_url=db_url) as changed:
        assert changed.initialize().templates_added == 1
    old, new = (app.catalog.templates().set_index(["name", "version"]).loc[("tier1_arc", n)] for n in (1, 2))
    return int(old["id"]), int(new["id"]), new["hash"]


def test_template_versions_can_share_new_rows_and_the_log_tells_them_apart(app, db_url, tmp_path):
    old_id, new_id, new_hash = second_version(app, db_url, tmp_path)
    assert "only active version of tier 1" in app.catalog.activate_template(old_id)
    assert "share of 30" in app.catalog.activate_template(new_id, share=30, only=False)
    rows = app.catalog.templates().set_index("id")
    assert (rows.loc[old_id, "share"], rows.loc[new_id, "share"]) == (100, 30)
    assert list(rows.loc[[old_id, new_id], "version"]) == [1, 2]
    tier1 = [r.id for r in app.conversations.list(where={"tier": ["1"]}) if r.source == "plan"]
    chosen = [app.conversations.prompt(cid).template_hash for cid in tier1]
    assert 0.1 < sum(h.startswith(new_hash) for h in chosen) / len(chosen) < 0.5  # about 30 of 130 shares
    assert chosen == [app.conversations.prompt(cid).template_hash for cid in tier1]  # stable per row
    assert TEMPLATE_CHANGE.strip() in next(app.conversations.prompt(cid).request for cid, h in zip(tier1, chosen)
                                           if h.startswith(new_hash))
    app.catalog.deactivate_template(old_id)
    with pytest.raises(InputError, match="needs one active version"):
        app.catalog.deactivate_template(new_id)
    app.jobs.generate_now(tier1[0])
    logged = app.activity.attempt_log(key_text=app.conversations.detail(tier1[0]).row.key)
    logged = logged[logged["call"] == "generate"]  # the judge's call is logged beside it, with its rubric
    assert logged["template"].iloc[0].startswith("tier1_arc v")
    assert app.reviews.load(tier1[0]).generation["Template"] == logged["template"].iloc[0]


def test_pick_version_follows_the_shares():
    picks = [pick_version([("a", 80), ("b", 20)], cid) for cid in range(2000)]
    assert 0.75 < picks.count("a") / len(picks) < 0.85
    assert pick_version([("only", 5)], 7) == "only"
