"""The Sources page and the review page's firm-sources panel, with Streamlit's AppTest on SQLite."""

from __future__ import annotations

import shutil

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from brightrun_gen.brightrun import BrightRun
from brightrun_gen.config import get_settings
from tests.support.firm_corpus import write_corpus


@pytest.fixture
def app(template_db, tmp_path, monkeypatch):
    target = tmp_path / "app.db"
    shutil.copy(template_db, target)
    url = f"sqlite:///{target}"
    monkeypatch.setenv("BRIGHTRUN_DATABASE_URL", url)
    monkeypatch.setenv("BRIGHTRUN_PROVIDER", "offline")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    get_settings.cache_clear()
    st.cache_resource.clear()
    with BrightRun(get_settings(), database_url=url) as brightrun:
        yield brightrun
    st.cache_resource.clear()
    get_settings.cache_clear()


def open_page(page: str, **query) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.switch_page(f"pages/{page}.py")
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_sources_page_lists_documents_and_unused_chunks(app, tmp_path):
    empty = open_page("sources")
    assert any("No documents yet" in info.value for info in empty.info)
    app.documents.import_files([write_corpus(tmp_path / "firm")])
    at = open_page("sources")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Documents"] == "7" and metrics["Chunks"] == "14"
    assert metrics["Chunks no conversation uses"] == "14" and metrics["Conversations grounded"] == "0"
    titles = set(at.dataframe[0].value["title"])
    assert {"Fees and services", "Products we do not recommend", "How working with us goes"} <= titles
    assert at.button(key="sources_suggest").disabled  # nothing selected yet


def test_review_page_shows_the_firm_sources_panel(app):
    at = open_page("review", id="1")
    panel = [e for e in at.expander if e.label.startswith("Firm sources")]
    assert panel and panel[0].label == "Firm sources (0)"
    assert any("not grounded" in c.value for c in at.caption)
