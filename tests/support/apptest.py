"""Running the app's pages with Streamlit's AppTest, and reading what they drew."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.support.paths import REPO

TIMEOUT = 60


def open_page(page: str, **query) -> AppTest:
    """One page of the app (pages/<page>.py) with these query parameters, run once without an exception."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.switch_page(f"pages/{page}.py")
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def run_app() -> AppTest:
    """The app's default page (the dashboard), run once without an exception."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def unescaped(markdown: str) -> str:
    return markdown.replace("\\", "")


def button(at: AppTest, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r} in {[b.label for b in at.button]}"
    return found[0]
