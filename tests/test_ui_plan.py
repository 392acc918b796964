"""The Plan page, the review page's Prompt tab and the Catalog's firm voice, run with AppTest."""

from __future__ import annotations

from tests.support.paths import REAL_SEEDS
from tests.support.apptest import open_page


def test_plan_page_shows_a_clean_plan_its_grid_and_fills_gaps(page_app):
    at = open_page("plan")
    assert "90 planned conversations, no contradictions" in at.success[0].value
    grid = at.dataframe[0].value
    assert list(grid.columns)[-2:] == ["scenario", "edge case"] and len(grid) == 8
    assert int(grid.loc["Marcus Thompson – The Overwhelmed Avoider"].sum()) > 0
    missing = sum(page_app.plan.coverage().gaps(2).values())
    fill = next(b for b in at.button if b.key == "plan_fill")
    assert f"add {missing} row(s)" in fill.label
    fill.click().run()
    assert not at.exception
    assert page_app.plan.coverage().gaps(2) == {}
    assert page_app.plan.check().rows == 90 + missing
    assert any("conversation(s) added" in t.value for t in at.toast)


def test_plan_page_counts_only_the_chosen_statuses(page_store):
    at = open_page("plan")
    at.multiselect(key="plan_statuses").set_value(["generated"]).run()
    assert int(at.dataframe[0].value.sum().sum()) == 2  # the template store generated two conversations


def test_review_page_has_a_prompt_tab_with_the_exact_prompt(page_store):
    at = open_page("review", id="1")
    assert "Prompt" in [t.label for t in at.tabs]
    codes = [c.value for c in at.code]
    assert any("Rules for every conversation" in c for c in codes)
    assert any(c.startswith("Write the conversation described below.") for c in codes)
    assert any("can be read from the prompt cache" in c.value or "minimum the cache needs" in c.value
               for c in at.caption)


def test_catalog_shows_the_firm_voice_once_measured(page_app):
    at = open_page("catalog")
    assert any("No voice profile yet" in i.value for i in at.info)
    page_app.conversations.import_files([REAL_SEEDS])
    page_app.catalog.measure_voice()
    at = open_page("catalog")
    assert any("never addresses the client by name (0 of 31 replies)" in c.value for c in at.code)
