"""The Sources page and the review page's firm-sources panel, with Streamlit's AppTest on SQLite."""

from __future__ import annotations

from tests.support.apptest import open_page
from tests.support.firm_corpus import write_corpus


def test_sources_page_lists_documents_and_unused_chunks(page_app, tmp_path):
    empty = open_page("sources")
    assert any("No documents yet" in info.value for info in empty.info)
    page_app.documents.import_files([write_corpus(tmp_path / "firm")])
    at = open_page("sources")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Documents"] == "7" and metrics["Chunks"] == "14"
    assert metrics["Chunks no conversation uses"] == "14" and metrics["Conversations grounded"] == "0"
    titles = set(at.dataframe[0].value["title"])
    assert {"Fees and services", "Products we do not recommend", "How working with us goes"} <= titles
    assert at.button(key="sources_suggest").disabled  # nothing selected yet


def test_review_page_shows_the_firm_sources_panel(page_app):
    at = open_page("review", id="1")
    panel = [e for e in at.expander if e.label.startswith("Firm sources")]
    assert panel and panel[0].label == "Firm sources (0)"
    assert any("not grounded" in c.value for c in at.caption)
