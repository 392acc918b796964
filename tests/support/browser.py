"""Headless Chromium for the browser tests and the first-paint bench: launch options and page waits."""

from __future__ import annotations

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError, expect

from tests.support.paths import REPO

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
GRID = '[data-testid="stCustomComponentV1"]'
SCREENSHOTS = REPO / "test-output"  # a failed browser test's last page, to see what it saw


def launch_chromium(playwright):
    """Debian's Chromium (make test installs it), headless."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def screenshot_if_failed(page, request) -> None:
    """After a browser test (from its `page` fixture): a failed one leaves its page in test-output/."""
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)


def wait_ready(page) -> None:
    """The page is drawn through app.py's navigation (the sidebar names the pages by title) and no
    script run is under way."""
    page.wait_for_selector('[data-testid="stApp"]')
    expect(page.locator('[data-testid="stSidebarNav"]')).to_contain_text("Activity", timeout=30_000)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=30_000)


def grid(page):
    """The dashboard's AG Grid, inside its component frame."""
    return page.frame_locator(GRID).first


def grid_frame(page):
    """The grid's frame as a Frame (to evaluate script in it)."""
    return next(frame for frame in page.frames if "st_aggrid" in frame.url)


def choose(page, label: str, option: str) -> None:
    """Pick an option in the Streamlit multiselect labelled `label`, then wait for the run it starts.
    A click that lands while the widget is still being laid out (an expander opening, a rerun
    redrawing it) focuses it without opening its list: then it is clicked again."""
    widget = page.locator('[data-testid="stMultiSelect"]').filter(has_text=label).first
    choice = page.get_by_role("option", name=option, exact=True).first
    for _ in range(5):
        widget.locator("input").click()
        try:
            choice.wait_for(state="visible", timeout=3_000)
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    choice.click()
    page.keyboard.press("Escape")
    wait_ready(page)
