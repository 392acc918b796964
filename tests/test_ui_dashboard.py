"""The dashboard through Streamlit's AppTest: filters, badges, dialogs, buttons, preview, banner.

AgGrid is a custom component (an UnknownElement here): rows and clicks are tested in the
browser; here the table's size shows in its caption and the preview is chosen via session state.
"""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from brightrun_gen.config import get_settings
from brightrun_gen.domain.models import Turn
from brightrun_gen.services import browse, dashboard
from brightrun_gen.store import conversations as conv_store, queue
from brightrun_gen.store.db import write
from tests.support.apptest import button, run_app
from tests.support.paths import REPO
from tests.support.waiting import wait_until
TIMEOUT = 60
HOSTILE = "<script>alert('x')</script> and <img src=x onerror=alert(1)> **not bold**"


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def shown_count(at: AppTest) -> int:
    for text in captions(at):
        match = re.fullmatch(r"(?:Showing (\d+) of \d+|(\d+)) conversations", text)
        if match:
            return int(match.group(1) or match.group(2))
    raise AssertionError(f"no row count caption in {captions(at)}")


def test_offline_banner_database_and_row_count(db_engine):
    at = run_app()
    assert any("Set ANTHROPIC_API_KEY to generate with Claude" in w.value for w in at.warning)
    assert any(text.startswith("Database: ") and "ui.db" in text for text in at.sidebar.caption.values)
    assert "Provider: offline generator" in at.sidebar.caption.values
    assert shown_count(at) == len(browse.conversation_table(db_engine)) == 100


def test_filters_are_applied_and_removable(db_engine):
    at = run_app()
    tier3 = len(browse.conversation_table(db_engine, dashboard.build_query({"tier": [3]})))
    at.multiselect(key="filter_tier").set_value([3]).run()
    assert shown_count(at) == tier3 < 100
    assert "Showing" in " ".join(captions(at))

    at.multiselect(key="filter_status").set_value(["seed"]).run()
    both = len(browse.conversation_table(db_engine, dashboard.build_query({"tier": [3], "status": ["seed"]})))
    assert shown_count(at) == both

    button(at, "Tier: 3 – edge case ✕").click().run()
    assert at.multiselect(key="filter_tier").value == []
    assert shown_count(at) == 10  # the seeds

    assert not button(at, "Clear all filters").disabled
    button(at, "Clear all filters").click().run()
    assert shown_count(at) == 100
    assert button(at, "Clear all filters").disabled


def test_filters_persist_across_pages(db_engine):
    at = run_app()
    at.multiselect(key="filter_persona").set_value(["marcus_thompson"]).run()
    at.switch_page("pages/review.py").run()
    at.switch_page("pages/dashboard.py").run()
    assert at.multiselect(key="filter_persona").value == ["marcus_thompson"]
    assert shown_count(at) < 100


def test_buttons_are_disabled_when_they_cannot_act(db_engine):
    at = run_app()
    assert button(at, "Stop").disabled  # no job
    assert button(at, "Generate selected").disabled  # nothing ticked
    assert not button(at, "Generate all").disabled


def test_generate_all_asks_with_count_cost_and_time(db_engine):
    at = run_app()
    button(at, "Generate all").click().run()
    assert not at.exception
    texts = [m.value for m in at.markdown]
    assert "Generate **90** conversations?" in texts  # 100 rows minus 10 seeds
    assert any(t.startswith("- Estimated cost:") for t in texts)
    assert any(t.startswith("- Estimated time:") for t in texts)
    assert button(at, "Generate 90")
    assert browse.status_counts(db_engine).get("queued", 0) == 0  # nothing queued before confirming


def test_preview_shows_model_text_as_text(db_engine):
    row = browse.conversation_table(db_engine).iloc[0]
    turns = [Turn(role="user", content=HOSTILE), Turn(role="assistant", content="Let's look at it **together**.")]
    with write(db_engine) as conn:
        conv_store.save_version(conn, int(row["id"]), turns, model="offline", status="generated", quality=None)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.session_state["dashboard_preview"] = row["key"]
    at.run()
    assert not at.exception
    bubbles = [m for m in at.markdown if "script" in m.value or "together" in m.value]
    assert len(bubbles) == 2
    for m in bubbles:
        assert not m.proto.allow_html
    assert r"\<script\>" in bubbles[0].value and r"\<img src\=x onerror\=alert\(1\)\>" in bubbles[0].value
    assert r"\*\*not bold\*\*" in bubbles[0].value
    assert any("offline generator" in c for c in captions(at))
    assert not button(at, "Regenerate").disabled


def test_seed_preview_cannot_be_generated(db_engine):
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.session_state["dashboard_preview"] = "seed_01"
    at.run()
    assert button(at, "Regenerate").disabled
    assert len(at.chat_message) >= 8


def test_generate_one_runs_in_the_background_and_reports(db_engine):
    key = browse.conversation_table(db_engine).iloc[0]["key"]
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.session_state["dashboard_preview"] = key
    at.run()
    button(at, "Generate").click().run()
    assert not at.exception
    assert any("Queued 1 conversation for generation" in t.value for t in at.toast)
    wait_until(lambda: browse.conversation_detail(db_engine, key).row.status == "generated", timeout=30,
               what=f"{key} to be generated", interval=0.2)
    # The sidebar's progress is one read shared by every session, at most PROGRESS_READ_SECONDS old.
    wait_until(lambda: any(text.startswith("Last job 1 (done): 1 of 1") for text in at.run().sidebar.caption.values),
               timeout=30, what="the sidebar to show the job done")
    assert button(at, "Stop").disabled  # the job is over


def held_by_another_worker(engine, conversation_ids, *, fail_with: str | None = None) -> int:
    """A job whose items another worker holds (long lease), optionally failed; returns the job id."""
    with write(engine) as conn:
        job_id = queue.create_job(conn, kind="selected", selection={"ids": list(conversation_ids)}, provider="offline",
                                  model="offline", concurrency=1, use_batch=False)
        queue.enqueue_items(conn, job_id, list(conversation_ids))
        for item in queue.claim_items(conn, "elsewhere", 600, len(conversation_ids), job_id=job_id):
            if fail_with:
                queue.finish_item(conn, item.id, "elsewhere", "failed", fail_with)
                conv_store.mark_failed(conn, item.conversation_id, fail_with)
        queue.finalize_jobs(conn)
    return job_id


def test_progress_panel_shows_a_job_from_elsewhere_and_stop_works(db_engine):
    ids = [int(i) for i in browse.conversation_table(db_engine)["id"][:2]]
    held_by_another_worker(db_engine, ids)
    at = run_app()
    sidebar_text = [m.value for m in at.sidebar.markdown] + at.sidebar.caption.values
    assert "**Generating · job 1 (offline)**" in sidebar_text
    assert at.sidebar.get("progress")[0].proto.text == "0 of 2"
    assert any(t.startswith("Generating T1\\-001\\: ") for t in sidebar_text)  # rows named by key, as in the table
    assert button(at, "Generate all").disabled and button(at, "Generate selected").disabled
    stop = button(at, "Stop")
    assert not stop.disabled
    stop.click().run()
    assert any(t.value.startswith("Stopping") for t in at.toast)
    assert "**Stopping · job 1 (offline)**" in [m.value for m in at.sidebar.markdown]


def test_failed_items_can_be_retried_from_the_sidebar(db_engine):
    key = browse.conversation_table(db_engine).iloc[0]["key"]
    held_by_another_worker(db_engine, [int(browse.conversation_detail(db_engine, key).row.id)], fail_with="<b>model</b> said no")
    at = run_app()
    assert at.sidebar.expander[0].label == "Errors (1)"
    assert any(r"\<b\>model\</b\> said no" in c for c in at.sidebar.caption.values)
    button(at, "Retry failed").click().run()
    assert any("Retrying 1 failed conversation(s) of job 1." in t.value for t in at.toast)
    wait_until(lambda: browse.conversation_detail(db_engine, key).row.status == "generated", timeout=30,
               what=f"{key} to be generated", interval=0.2)


def test_with_a_key_there_is_no_banner_and_the_estimate_has_a_price(db_engine, monkeypatch):
    monkeypatch.setenv("BRIGHTRUN_PROVIDER", "auto")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-not-real")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # nothing listens: token counting fails
    monkeypatch.setenv("BRIGHTRUN_SDK_MAX_RETRIES", "0")
    get_settings.cache_clear()
    at = run_app()
    assert not any("ANTHROPIC_API_KEY" in w.value for w in at.warning)
    assert any(c.startswith("Provider: Claude") for c in at.sidebar.caption.values)
    button(at, "Generate all").click().run()
    texts = [m.value for m in at.markdown]
    assert "Generate **90** conversations?" in texts
    cost = next(t for t in texts if t.startswith("- Estimated cost:"))
    assert re.search(r"about \$\d+\.\d\d", cost), cost
    assert any("typical size of a conversation" in c for c in captions(at))
    assert any(c.label.startswith("Use Message Batches") for c in at.checkbox)


def test_a_change_made_here_shows_at_once_though_the_table_is_a_shared_read(db_engine):
    """The table is one cached read for every session for a second (pages/common.shared_read); a
    person's own action clears it, so their next run never shows the table from before it."""
    at = run_app()
    at.multiselect(key="filter_status").set_value(["not_generated"]).run()
    assert shown_count(at) == 90
    key = browse.conversation_table(db_engine, dashboard.build_query({"status": ["not_generated"]})).iloc[0]["key"]
    at.session_state["dashboard_preview"] = key
    at.run()
    button(at, "Generate").click().run()
    assert any("Queued 1 conversation for generation" in t.value for t in at.toast)
    assert shown_count(at) == 89  # queued or done by now, and no longer "not generated"
