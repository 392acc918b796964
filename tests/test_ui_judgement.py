"""The judge on the pages (AppTest, real SQLite): the review panel, repairs and versions, the
Activity page's scorecards, and the budget cap in the Generate dialog."""

from __future__ import annotations

from brightrun_gen.brightrun import BrightRun
from brightrun_gen.config import get_settings
from tests.support.fake_messages_api import FakeMessagesAPI
from tests.support.apptest import button, open_page, run_app, unescaped


def table_with(at, column: str):
    """The first dataframe with `column` (AppTest does not keep a dataframe's key)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with a {column!r} column"
    return found[0]


def test_the_review_page_shows_the_judgement_beside_the_breakdown(page_app):
    at = open_page("review", id="1")
    [metric] = [m for m in at.metric if m.label == "Judge score"]
    judged = page_app.conversations.as_json(1)["judgement"]
    assert metric.value == f"{judged['score']:.1f} / 5" and judged["provider"] == "offline"
    assert any("offline judge (heuristics, no model)" in unescaped(c.value) for c in at.caption)
    assert any(unescaped(w.value) == judged["flag_reason"] for w in at.warning), "a flagged conversation says why"
    criteria = table_with(at, "criterion")
    assert list(criteria["criterion"]) == [c["label"] for c in judged["criteria"]]
    assert criteria.loc[criteria["criterion"] == "Naturalness", "score"].item() <= 2
    assert at.selectbox(key="judge_version_1_1").options == ["v1 · generated · judge " + f"{judged['score']:.1f}/5 · "
                                                           "flagged · current"]
    assert not [b for b in at.button if b.key == "repair_with_notes"], "only on Needs edit"


def test_regenerate_with_my_notes_then_approve_the_earlier_version(page_app):
    page_app.reviews.decide(2, "needs_edit", reviewer="Ana", notes="Turn 4 repeats turn 2; end with a date.")
    at = open_page("review", id="2")
    assert "Turn 4 repeats turn 2; end with a date." in [t.value for t in at.text]
    at.button(key="repair_with_notes").click().run()
    assert not at.exception and any("new version with your notes" in t.value for t in at.toast)
    page_app.jobs.run(page_app.jobs.active_ids())
    assert page_app.conversations.detail(2).row.current_version == 2
    at = open_page("review", id="2")
    picker = at.selectbox(key="judge_version_2_2")
    assert [label.split(" · ")[:2] for label in picker.options] == [["v1", "generated"],
                                                                    ["v2", "regenerated with reviewer notes"]]
    assert any(e.label.startswith("Changes from version 1") for e in at.expander)
    picker.select(1).run()
    at.button(key="approve_version").click().run()
    assert not at.exception
    row = page_app.conversations.detail(2).row
    assert (row.status, row.current_version) == ("approved", 1)
    assert page_app.reviews.history(2)[-1]["version"] == 1


def test_the_activity_page_has_template_scorecards(page_store):
    at = open_page("activity")
    assert "Template scorecards" in [s.value for s in at.subheader]
    table = table_with(at, "approval rate")
    assert list(table["template"]) == ["tier1_arc"] and table["generated"].item() == 2
    assert table["naturalness"].item() <= 2


def test_the_generate_dialog_has_a_budget_cap_that_reaches_the_job(db_engine, monkeypatch):
    with FakeMessagesAPI() as fake:
        monkeypatch.setenv("BRIGHTRUN_PROVIDER", "auto")
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-budget")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
        monkeypatch.setenv("BRIGHTRUN_MAX_COST_USD", "2.5")
        get_settings.cache_clear()
        at = run_app()
        button(at, "Generate all").click().run()
        [cap] = [n for n in at.number_input if n.label.startswith("Budget cap")]
        assert cap.value == 2.5 and not cap.disabled
        # AppTest cannot click inside a dialog opened by an earlier run: its Start button calls this.
        with BrightRun(get_settings()) as app:
            sentence = app.jobs.start(app.jobs.plan_one(1), False, 0.05)
            [job] = app.jobs.list(limit=1)
            assert f"job {job.id}" in sentence and app.jobs.progress(job.id).max_cost_usd == 0.05
            app.jobs.stop(job.id)
        assert not fake.server_errors
