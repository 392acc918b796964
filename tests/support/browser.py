"""Headless Chromium for the browser tests and the first-paint bench: launch options and page waits."""

from __future__ import annotations

from playwright.sync_api import expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
GRID = '[data-testid="stCustomComponentV1"]'


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


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
