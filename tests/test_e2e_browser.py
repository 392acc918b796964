"""End to end in headless Chromium against `streamlit run app.py` (offline provider).

Filter the table, tick rows, Generate selected, watch the progress reach done, open a
conversation, approve it, export JSONL and check the downloaded file.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support.browser import choose, grid, launch_chromium, screenshot_if_failed, wait_ready
from tests.support.paths import REPO
from tests.support.streamlit_server import app_env, start_app, stop_app


pytestmark = pytest.mark.browser


@pytest.fixture
def app(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'e2e.db'}"
    subprocess.run([sys.executable, "-m", "brightrun_gen", "init", "--db", db_url], cwd=REPO, env=app_env(db_url),
                   check=True, capture_output=True)
    process, base = start_app(app_env(db_url), tmp_path / "streamlit.log")
    yield base, db_url
    stop_app(process)


@pytest.fixture
def page(request):
    with sync_playwright() as p:
        browser = launch_chromium(p)
        context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
        screenshot_if_failed(page, request)
        browser.close()


def test_filter_generate_review_approve_and_export(app, page, tmp_path):
    base, _ = app
    page.goto(f"{base}/dashboard")
    wait_ready(page)
    expect(page.get_by_text("Set ANTHROPIC_API_KEY to generate with Claude").first).to_be_visible()
    table = grid(page)
    expect(table.locator(".ag-row").first).to_be_visible(timeout=60_000)

    page.get_by_text("Filters", exact=True).click()
    choose(page, "Persona", "Marcus Thompson")
    expect(page.get_by_text("Showing ").first).to_contain_text("of 100 conversations")
    shown = int(page.get_by_text("Showing ").first.inner_text().split()[1])
    assert 0 < shown < 100

    rows = table.locator(".ag-center-cols-container .ag-row")
    expect(rows).to_have_count(shown)  # the grid inside its iframe has caught up with the filter
    ids = [rows.nth(i).get_attribute("row-id") for i in range(2)]
    keys = [table.locator(f'.ag-pinned-left-cols-container .ag-row[row-id="{i}"] [col-id="key"]').inner_text()
            for i in ids]
    for count, row_id in enumerate(ids, start=1):
        # Each tick reruns the page and redraws the grid: find the row again after the rerun.
        table.locator(f'.ag-row[row-id="{row_id}"] .ag-selection-checkbox input').first.check()
        expect(page.get_by_text(f"{count} selected")).to_be_visible()
        wait_ready(page)
    expect(page.get_by_text("2 selected")).to_be_visible()

    page.get_by_role("button", name="Generate selected").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Generate 2 conversations?")
    dialog.get_by_role("button", name="Generate 2").click()
    expect(page.get_by_text("(done)").first).to_be_visible(timeout=60_000)
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("2 of 2")

    page.goto(f"{base}/review?id={keys[0]}")
    wait_ready(page)
    expect(page.locator('[data-testid="stChatMessage"]').first).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Approve(\s|$)")).click()  # its name ends with its key, A
    expect(page.get_by_text(f"Approved: {keys[0]}").first).to_be_visible()

    page.goto(f"{base}/export")
    wait_ready(page)
    page.get_by_role("button", name="Include them anyway").click()  # the first run is offline: the switch is right there
    expect(page.locator('[data-testid="stMetricValue"]').first).to_have_text("1")
    wait_ready(page)
    page.get_by_role("button", name="Build the export file").click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download").click()
    target = tmp_path / "download.jsonl"
    download_info.value.save_as(target)
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(records) == 1
    messages = records[0]["messages"]
    assert messages[0]["role"] == "system" and messages[1]["role"] == "user"
    assert [m["role"] for m in messages[1:]] == ["user", "assistant"] * ((len(messages) - 1) // 2)


def test_model_text_with_html_shows_as_text(app, page):
    base, db_url = app
    from brightrun_gen.domain.models import Turn
    from brightrun_gen.store import conversations as conv_store
    from brightrun_gen.store.db import make_engine, write

    engine = make_engine(db_url)
    hostile = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\"> **bold**"
    with write(engine) as conn:
        cid = conv_store.find_id(conn, "T1-005")
        conv_store.save_version(conn, cid, [Turn(role="user", content=hostile), Turn(role="assistant", content="ok")],
                                model="offline", status="generated", quality=None)
    engine.dispose()
    page.goto(f"{base}/review?id=T1-005")
    wait_ready(page)
    expect(page.get_by_text("<script>window.__pwned = 1</script>", exact=False).first).to_be_visible()
    assert page.evaluate("window.__pwned") is None
    assert page.locator('[data-testid="stChatMessage"] script').count() == 0
    assert page.locator('[data-testid="stChatMessage"] img[src="x"]').count() == 0
