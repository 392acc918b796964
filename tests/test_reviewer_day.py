"""A reviewer's decisions survive generation: failed regenerations, stops, approved rows, the
confirmation counts, the table following the progress read, and the review CLI (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from brightrun_gen.brightrun import BrightRun
from brightrun_gen.domain.template_choice import pick_version
from brightrun_gen.errors import InputError
from brightrun_gen.services import dashboard, generation, generation_plans, progress, review, runner as runner_service
from brightrun_gen.services.browse import conversation_detail
from brightrun_gen.services.exporting import ExportRequest, preview as export_preview
from brightrun_gen.services.generation import generate_one
from brightrun_gen.store import templates as template_store
from brightrun_gen.store.db import write
from tests.support.fake_messages_api import FakeMessagesAPI
from tests.support.cli_process import run_cli as run
from tests.support.fake_claude import claude_settings


def written(store, settings, key: str) -> int:
    cid = conversation_detail(store, key).row.id
    assert generate_one(store, cid, settings=settings).status == "generated"
    return cid


def run_job(store, settings, ids) -> int:
    job = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=settings)
    runner_service.Runner(store, settings).run_until_idle(job.job_id)
    return job.job_id


def table(store) -> dashboard.DashboardData:
    return dashboard.load_dashboard(store, {})


def test_a_failed_regeneration_keeps_the_text_the_status_and_the_decision(store, settings):
    cid = written(store, settings, "T1-002")
    review.review(store, cid, "needs_edit", "Ana", "The close is too abrupt.")
    before = conversation_detail(store, cid)
    with FakeMessagesAPI() as fake:
        fake.enqueue("truncated", "truncated", "truncated")
        job_id = run_job(store, claude_settings(fake, regenerate_attempts=3), [cid])
    after = conversation_detail(store, cid)
    assert (after.row.status, after.row.reviewer_notes) == ("needs_edit", "The close is too abrupt.")
    assert after.row.current_version == before.row.current_version == 1
    assert after.turns == before.turns
    assert after.row.failed_at is not None and "max_tokens" in after.row.last_error
    assert progress.job_progress(store, job_id).failed == 1
    row = table(store).table.set_index("key").loc["T1-002"]
    assert row["status"] == "Needs Edit ⚠" and row["status_key"] == "needs_edit"
    assert row["failed_note"].startswith("Last attempt failed: ") and "max_tokens" in row["failed_note"]
    shown = dashboard.preview(store, "T1-002")
    assert shown.status == "needs_edit" and "max\\_tokens" in shown.failed_note


def test_a_row_that_never_had_text_becomes_failed_and_a_success_clears_the_marker(store, settings):
    cid = conversation_detail(store, "T1-003").row.id
    with FakeMessagesAPI() as fake:
        fake.enqueue("prose", "prose", "prose")
        run_job(store, claude_settings(fake, regenerate_attempts=3), [cid])
    failed = conversation_detail(store, cid).row
    assert failed.status == "failed" and failed.failed_at is not None
    run_job(store, settings, [cid])
    fixed = conversation_detail(store, cid).row
    assert (fixed.status, fixed.failed_at, fixed.last_error) == ("generated", None, None)


def test_stopping_a_job_gives_each_row_back_the_status_it_rested_in(store, settings):
    rejected = written(store, settings, "T1-004")
    review.review(store, rejected, "reject", "Ana", "Off topic.")
    fresh = conversation_detail(store, "T1-005").row.id
    job = runner_service.enqueue(store, kind="selected", conversation_ids=[rejected, fresh], settings=settings)
    assert conversation_detail(store, rejected).row.status == "queued"
    runner_service.stop(store, job.job_id)
    assert conversation_detail(store, rejected).row.status == "rejected"
    assert conversation_detail(store, fresh).row.status == "not_generated"


def test_the_plan_says_what_a_selection_overwrites_and_leaves_approved_rows_unless_asked(store, settings):
    approved = written(store, settings, "T1-006")
    review.review(store, approved, "approve", "Ana")
    edited = written(store, settings, "T1-007")
    review.review(store, edited, "needs_edit", "Ana", "shorter")
    plain = written(store, settings, "T1-008")
    empty = conversation_detail(store, "T1-009").row.id
    seed = conversation_detail(store, "seed_01").row.id
    plan = generation_plans.plan_selected(table(store).table, [approved, edited, plain, empty, seed])
    assert set(plan.ids) == {edited, plain, empty} and plan.approved_ids == (approved,)
    assert (plan.left_out, plan.with_text, plan.claude_text, plan.decided) == (1, 2, 0, {"needs_edit": 1})
    assert plan.overwrites()
    said = " ".join(plan.lines())
    assert "2 rows already have text" in said and "1 row has a reviewer's decision (1 needs edit)" in said
    assert "1 approved row is left as it is unless you include it" in said
    everything = plan.including_approved()
    assert set(everything.ids) == {approved, edited, plain, empty} and everything.decided["approved"] == 1
    nothing_written = generation_plans.plan_selected(table(store).table, [empty])
    assert nothing_written.kind == "single" and not nothing_written.overwrites()


def test_regenerating_an_approved_row_writes_a_new_version_and_leaves_the_approved_one(store, settings):
    cid = written(store, settings, "T2-001")
    review.review(store, cid, "approve", "Ana", "Ship it.")
    request = ExportRequest(format="openai", output="unused", include_offline=True)
    exported = export_preview(store, request, n=100)
    approved_turns = conversation_detail(store, cid).turns
    plan = generation_plans.plan_one(store, cid).including_approved()
    generation_plans.start(store, plan, settings=settings)
    runner_service.Runner(store, settings).run_until_idle()
    after = conversation_detail(store, cid)
    assert (after.row.status, after.row.current_version, after.row.reviewer_notes) == ("approved", 1, "Ship it.")
    assert after.turns == approved_turns
    assert [v["version"] for v in after.versions] == [1, 2]
    assert export_preview(store, request, n=100) == exported


def test_the_table_follows_the_progress_read(store, settings):
    ids = [conversation_detail(store, key).row.id for key in ("T3-001", "T3-002", "T3-003")]
    job = runner_service.enqueue(store, kind="selected", conversation_ids=ids, settings=settings)
    before = table(store).table  # read while all three are queued
    runner_service.Runner(store, settings, concurrency=1).run_until_idle(job.job_id)
    done = progress.job_progress(store, job.job_id)
    shown = dashboard.with_progress(before, [done]).set_index("id").loc[ids]
    assert list(shown["status"]) == ["Generated"] * 3 and list(shown["action"]) == ["Regenerate"] * 3
    queued = progress.Progress(**{**done.__dict__, "items": {
        cid: progress.ItemState(item, "queued", None) for cid, item in zip(ids, ("pending", "running", "pending"))}})
    assert list(dashboard.with_progress(before, [queued]).set_index("id").loc[ids, "status"]) == [
        "Queued", "Generating", "Queued"]
    assert "Generating T3-" not in " ".join(done.current)  # nothing runs once the job is done


def test_the_progress_panel_names_rows_by_key():
    label = progress.current_label({"id": 47, "key": "T2-003", "archetype": "The Anxious Saver", "topic": "Budgets"})
    assert label == "Generating T2-003: Anxious Saver – Budgets"


def test_filter_badges_say_all_once_when_every_value_is_chosen(store):
    choices = dashboard.filter_choices(store)
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


def second_version(store) -> tuple[int, int]:
    """Store a changed tier-1 template (it becomes the only active one); ids of the old and the new version."""
    with write(store) as conn:
        [(old, _)] = template_store.active_templates(conn, 1)
        changed = replace(old, request=old.request + "\nKeep every advisor turn under 120 words.",
                          content_hash="0" * 63 + "1")
        template_store.save_template(conn, changed)
    versions = {(v.name, v.version): v for v in template_store.list_versions(store)}
    return versions[("tier1_arc", 1)].id, versions[("tier1_arc", 2)].id


def test_template_versions_can_share_new_rows_and_the_log_tells_them_apart(store, settings):
    old_id, new_id = second_version(store)
    app = BrightRun(settings, database_url=store.url.render_as_string(hide_password=False))
    assert "only active version of tier 1" in app.catalog.activate_template(old_id)
    assert "share of 30" in app.catalog.activate_template(new_id, share=30, only=False)
    rows = app.catalog.templates().set_index("id")
    assert (rows.loc[old_id, "share"], rows.loc[new_id, "share"]) == (100, 30)
    assert list(rows.loc[[old_id, new_id], "version"]) == [1, 2]
    tier1 = [r.id for r in app.conversations.list(where={"tier": ["1"]}) if r.source == "plan"]
    chosen = [generation.prepare(store, cid).prompt.template_hash for cid in tier1]
    assert 0.1 < chosen.count("0" * 63 + "1") / len(chosen) < 0.5  # about 30 of 130 shares
    assert chosen == [generation.prepare(store, cid).prompt.template_hash for cid in tier1]  # stable per row
    app.catalog.deactivate_template(old_id)
    with pytest.raises(InputError, match="needs one active version"):
        app.catalog.deactivate_template(new_id)
    generate_one(store, tier1[0], settings=settings)
    logged = app.activity.attempt_log(key_text=conversation_detail(store, tier1[0]).row.key)
    logged = logged[logged["call"] == "generate"]  # the judge's call is logged beside it, with its rubric
    assert logged["template"].iloc[0].startswith("tier1_arc v")
    assert app.reviews.load(tier1[0]).generation["Template"] == logged["template"].iloc[0]
    app.close()


def test_pick_version_follows_the_shares():
    picks = [pick_version([("a", 80), ("b", 20)], cid) for cid in range(2000)]
    assert 0.75 < picks.count("a") / len(picks) < 0.85
    assert pick_version([("only", 5)], 7) == "only"
