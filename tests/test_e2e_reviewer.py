"""A reviewer's day in headless Chromium, against `streamlit run app.py` generating with "Claude" at the
local Messages API server (one server for the module; each test works on its own rows).

No decision lost on a failed regeneration, a review page that stays put, a confirmation before
overwriting reviewed text (the approved version untouched), a table that agrees with the progress
panel during a job, the Actions column, decisions in the preview, a phone-sized window, and every
page at 1440×900 photographed into test-output/ with no text cut off without a tooltip.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect, sync_playwright

from brightrun_gen.brightrun import BrightRun
from brightrun_gen.config import Settings
from tests.support.browser import (
    SCREENSHOTS, choose, grid, grid_frame, launch_chromium, screenshot_if_failed, wait_ready,
)
from tests.support.fake_messages_api import FakeMessagesAPI
from tests.support.fake_claude import claude_settings
from tests.support.streamlit_server import start_claude_app, stop_app
from tests.support.truncation import CUT_OFF_JS, GRID_CUT_OFF_JS

FITTED = ["key", "tier", "status", "quality_score", "model", "updated_at", "action"]  # pages/dashboard_grid.py
BUSY_LABELS = ("Queued", "Generating")
WRITTEN_OFFLINE = [f"T1-00{n}" for n in range(1, 8)]

# Chromium against a real Streamlit server: the browser part of the suite (make test-fast leaves it out).
pytestmark = pytest.mark.browser


@dataclass
class Served:
    base: str
    db_url: str
    fake: FakeMessagesAPI
    app: BrightRun  # the test's own door to the same database

    def id_of(self, key: str) -> int:
        return self.app.conversations.find_id(key)

    def row(self, key: str):
        return self.app.conversations.detail(key)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """T1-001..T1-007 written offline; T1-001 approved, T1-002 needs edit (with notes), T1-003 rejected."""
    folder = tmp_path_factory.mktemp("reviewer")
    db_url = f"sqlite:///{folder / 'reviewer.db'}"
    offline = Settings(_env_file=None, anthropic_api_key=None, provider="offline", database_url=db_url)
    with BrightRun(offline, database_url=db_url) as app:
        app.initialize()
        for key in WRITTEN_OFFLINE:
            assert app.jobs.generate_now(key).status == "generated"
        app.reviews.decide("T1-001", "approve", reviewer="Ana", notes="Ready for training.")
        app.reviews.decide("T1-002", "needs_edit", reviewer="Ana", notes="The close is too abrupt.")
        app.reviews.decide("T1-003", "reject", reviewer="Ana", notes="Off topic.")
    with FakeMessagesAPI() as fake:
        process, base = start_claude_app(db_url, fake, folder / "streamlit.log", BRIGHTRUN_CONCURRENCY="2")
        claude = claude_settings(fake, database_url=db_url)
        app = BrightRun(claude, database_url=db_url)
        yield Served(base, db_url, fake, app)
        app.close()
        stop_app(process)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    screenshot_if_failed(page, request)
    context.close()


def open_page(page, served: Served, path: str) -> None:
    page.goto(f"{served.base}/{path}")
    wait_ready(page)


def open_dashboard(page, served: Served):
    open_page(page, served, "dashboard")
    table = grid(page)
    expect(table.locator(".ag-center-cols-container .ag-row").first).to_be_visible(timeout=60_000)
    return table


def cell(table, conversation_id: int, column: str):
    return table.locator(f'.ag-row[row-id="{conversation_id}"] [col-id="{column}"]').first


def toast(page, pattern: str):
    return page.locator('[data-testid="stToast"]').filter(has_text=re.compile(pattern)).first


def test_a_failed_regeneration_keeps_the_decision_and_shows_the_failure_on_the_row(served, page):
    cid = served.id_of("T1-002")
    before = served.row("T1-002")
    served.fake.enqueue("truncated", "truncated", "truncated")  # three answers cut off at max_tokens
    table = open_dashboard(page, served)
    expect(cell(table, cid, "status")).to_have_text("Needs Edit")

    cell(table, cid, "action").locator("button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("1 row already has text")
    expect(dialog).to_contain_text("1 row has a reviewer's decision (1 needs edit)")
    dialog.get_by_role("button", name="Regenerate 1").click()

    expect(toast(page, r"Job \d+ finished: 0 conversations generated, 1 failed")).to_be_visible(timeout=60_000)
    status = cell(table, cid, "status")
    expect(status).to_have_text("Needs Edit ⚠")
    expect(status).to_have_attribute("title", re.compile(r"^Last attempt failed: .*max_tokens"))
    after = served.row("T1-002")
    assert (after.row.status, after.row.reviewer_notes) == ("needs_edit", "The close is too abrupt.")
    assert (after.row.current_version, after.turns) == (1, before.turns)

    cell(table, cid, "persona").click()
    preview = page.get_by_role("dialog")
    expect(preview).to_contain_text("Last attempt failed")
    expect(preview).to_contain_text("Needs Edit")
    expect(preview.get_by_label("Notes for this decision")).to_have_value("The close is too abrupt.")


def test_the_review_page_stays_on_the_conversation_decided(served, page):
    open_page(page, served, "review")  # no ?id=: the first conversation nobody has decided on
    heading = page.locator("h3").filter(has_text=re.compile(r"^T1-00\d · ")).first
    expect(heading).to_have_text(re.compile(r"^T1-004 · "))
    page.get_by_role("button", name=re.compile(r"^Approve(\s|$)")).click()
    expect(toast(page, r"Approved: T1-004")).to_be_visible()
    wait_ready(page)
    expect(heading).to_have_text(re.compile(r"^T1-004 · "))  # T1-005 is next unreviewed now; nobody asked to move
    assert served.row("T1-004").row.status == "approved"
    page.keyboard.press("n")  # the keyboard: next unreviewed
    expect(heading).to_have_text(re.compile(r"^T1-005 · "))


def test_the_confirmation_counts_reviewed_rows_and_the_approved_version_stays_as_it_is(served, page):
    approved, rejected, plain = (served.id_of(k) for k in ("T1-001", "T1-003", "T1-006"))
    request = served.app.exports.request(format="openai", output="unused", include_offline=True)
    exported = served.app.exports.preview(request, n=100)
    approved_turns = served.row("T1-001").turns
    table = open_dashboard(page, served)
    for count, cid in enumerate((approved, rejected, plain), start=1):
        table.locator(f'.ag-row[row-id="{cid}"] .ag-selection-checkbox input').first.check()
        expect(page.get_by_text(f"{count} selected", exact=True)).to_be_visible()
        wait_ready(page)

    page.get_by_role("button", name="Generate selected").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("2 rows already have text")
    expect(dialog).to_contain_text("1 row has a reviewer's decision (1 rejected)")
    expect(dialog).to_contain_text("1 approved row is left as it is unless you include it")
    dialog.get_by_text("Also write new versions of the approved row").click()
    expect(dialog).to_contain_text("Regenerate 3 conversations?")
    dialog.get_by_role("button", name="Regenerate 3").click()

    expect(toast(page, r"Job \d+ finished: 3 conversations generated")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Tick rows to select them; click a row to read it.")).to_be_visible()
    for cid in (approved, rejected, plain):  # the ticks went with the job: a second click cannot rerun it
        expect(table.locator(f'.ag-row[row-id="{cid}"] .ag-selection-checkbox input').first).not_to_be_checked()
    after = served.row("T1-001")
    assert (after.row.status, after.row.current_version) == ("approved", 1)
    assert after.turns == approved_turns and [v["version"] for v in after.versions] == [1, 2]
    assert served.app.exports.preview(request, n=100) == exported
    assert served.row("T1-003").row.status == "generated"  # new text, to be reviewed again


def test_during_a_job_the_table_and_the_sidebar_agree_within_one_poll(served, page):
    # Rows on the grid's first screen (it draws only the rows in view); T1-007: offline text Claude rewrites.
    keys = ["T1-008", "T1-009", "T1-010", "T1-011", "T1-007"]
    ids = [served.id_of(k) for k in keys]
    table = open_dashboard(page, served)
    expect(cell(table, ids[-1], "model")).to_have_css("font-style", "italic")  # offline, amber italic
    served.fake.latency = 1.5  # two at a time: the job lasts a few polls
    job = served.app.jobs.enqueue(kind="selected", ids=ids, provider="anthropic")
    frame = grid_frame(page)
    samples, generating_by_key, toasts = [], False, set()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        found = re.search(rf"(\d+) of {len(ids)}\b", sidebar)
        statuses = frame.evaluate("""(ids) => ids.map(id => {
            const c = document.querySelector(`.ag-center-cols-container .ag-row[row-id="${id}"] [col-id="status"]`);
            return c ? c.innerText : null; })""", [str(i) for i in ids])
        generating_by_key |= bool(re.search(r"Generating T1-0(0[789]|1[01]): ", sidebar))
        toasts |= set(page.locator('[data-testid="stToast"]').all_inner_texts())
        if found and None not in statuses:
            samples.append((time.monotonic(), int(found.group(1)), sum(s not in BUSY_LABELS for s in statuses),
                            any(s in BUSY_LABELS for s in statuses)))
        if f"Last job {job.job_id} (done)" in sidebar and samples and samples[-1][2] == len(ids):
            break
        page.wait_for_timeout(150)  # the sampling interval, not a wait for a condition
    served.fake.latency = 0.0
    assert samples and samples[-1][1:3] == (len(ids), len(ids)), (
        samples[-3:], statuses, sidebar, served.app.jobs.progress(job.job_id).items, served.app.jobs.active_ids())
    assert any(busy for *_, busy in samples), "the table never showed the job's rows queued or generating"
    assert generating_by_key, "the progress panel names the rows by their key, as the table does"
    # Every count the sidebar showed, the table reached within 2 s of it. (Reached, not showed: two
    # rows can end within one poll of each other, and the table may go from 3 to 5 at once.)
    for at, shown, _, _ in samples:
        assert any(abs(t - at) <= 2.0 and grid_done >= shown for t, _, grid_done, _ in samples), (at, shown, samples)
    ended = f"Job {job.job_id} finished: 5 conversations generated."
    if not any(ended in t for t in toasts):  # shown after the table's last sample
        expect(toast(page, re.escape(ended))).to_be_attached(timeout=30_000)
    claude_model = cell(table, ids[-1], "model")
    expect(claude_model).not_to_have_text("offline")
    expect(claude_model).to_have_css("font-style", "normal")  # the offline style does not stay behind


def test_actions_column_decisions_in_the_preview_and_a_phone_sized_window(served, page, browser):
    cid = served.id_of("T1-012")  # on the grid's first screen: it draws only the rows in view
    table = open_dashboard(page, served)
    expect(cell(table, cid, "action")).to_have_text("▶ Run")
    cell(table, cid, "action").locator("button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Generate 1 conversation?")  # a paid call: asked first
    dialog.get_by_role("button", name="Generate 1").click()
    expect(cell(table, cid, "status")).to_have_text("Generated", timeout=60_000)
    expect(cell(table, cid, "action")).to_have_text("↻ Redo")

    cell(table, cid, "topic").click()
    preview = page.get_by_role("dialog")
    preview.get_by_label("Notes for this decision").fill("Needs a warmer close.")
    preview.get_by_role("button", name=re.compile(r"^Needs edit")).click()
    expect(toast(page, r"Needs edit: T1-012")).to_be_visible()
    row = served.row("T1-012").row
    assert (row.status, row.reviewer_notes) == ("needs_edit", "Needs a warmer close.")

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    small = phone.new_page()
    small.set_default_timeout(30_000)
    try:
        open_page(small, served, "dashboard")
        expect(small.get_by_label("Persona")).to_be_hidden()  # the filters are folded away
        expect(grid(small).locator(f'.ag-row[row-id="{cid}"] [col-id="key"]')).to_be_visible(timeout=60_000)
        assert small.evaluate("document.documentElement.scrollWidth") <= 391
        open_page(small, served, "review?id=T1-012")
        bubbles = small.locator('[data-testid="stChatMessage"]')
        expect(bubbles.first).to_be_visible()
        tops = [bubbles.nth(i).bounding_box()["y"] for i in range(3)]
        assert tops == sorted(tops), tops  # the chat reads top to bottom
        approve = small.get_by_role("button", name=re.compile(r"^Approve(\s|$)"))
        approve.scroll_into_view_if_needed()
        expect(approve).to_be_visible()
        assert small.evaluate("document.documentElement.scrollWidth") <= 391
    finally:
        phone.close()


PAGES = {"dashboard": "dashboard", "review": "review?id=T1-002", "export": "export", "catalog": "catalog",
         "activity": "activity"}


def test_every_page_at_1440_is_photographed_and_no_text_is_cut_off_without_a_tooltip(served, page):
    SCREENSHOTS.mkdir(exist_ok=True)
    problems = []
    for name, path in PAGES.items():
        open_page(page, served, path)
        if name == "dashboard":  # long chips, as a reviewer picks them
            page.get_by_text("Filters", exact=True).click()
            for label, option in (("Persona", "Marcus Thompson"), ("Persona", "Jennifer Park"),
                                  ("Persona", "Linda Castellano"), ("Status", "Approved"),
                                  ("Status", "Not Generated")):
                choose(page, label, option)
            problems += [f"dashboard filters: {p}" for p in page.evaluate(CUT_OFF_JS, '[data-testid="stApp"]')]
            page.get_by_text("Filters", exact=True).click()  # folded again: the photo shows the table
            expect(grid(page).locator(".ag-center-cols-container .ag-row").first).to_be_visible(timeout=60_000)
            problems += [f"dashboard grid: {p}" for p in grid_frame(page).evaluate(GRID_CUT_OFF_JS, FITTED)]
        page.screenshot(path=str(SCREENSHOTS / f"{name}-1440x900.png"))
        problems += [f"{name}: {p}" for p in page.evaluate(CUT_OFF_JS, '[data-testid="stApp"]')]
    assert not problems, "\n".join(problems)
