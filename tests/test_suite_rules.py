"""Rules of the test suite itself, read from the source with `ast`: test modules share code only
through tests/support, and the one place that sleeps is `wait_until` (tests/support/waiting.py)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import REPO
from tests.support.source_imports import imported_modules

SUITE_FILES = sorted([*(REPO / "tests").rglob("*.py"), *(REPO / "bench").glob("*.py")])
WAITING = REPO / "tests" / "support" / "waiting.py"


def _name(path: Path) -> str:
    return str(path.relative_to(REPO))


def sleep_calls(path: Path) -> list[int]:
    """Lines that call time.sleep (as `time.sleep(...)` or an imported `sleep(...)`)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "sleep" and getattr(func.value, "id", "") == "time":
                lines.append(node.lineno)
            elif isinstance(func, ast.Name) and func.id == "sleep":
                lines.append(node.lineno)
    return lines


def test_no_module_imports_a_test_module_or_conftest():
    bad = {}
    for path in SUITE_FILES:
        found = {m for m in imported_modules(path) if m.startswith(("tests.test_", "tests.conftest"))}
        if found:
            bad[_name(path)] = sorted(found)
    assert not bad, f"move what these import to tests/support: {bad}"


def test_nothing_sleeps_but_wait_until():
    bad = {}
    for path in SUITE_FILES:
        lines = sleep_calls(path)
        if lines and path != WAITING:
            bad[_name(path)] = lines
    assert not bad, f"wait for a fact with tests.support.waiting.wait_until instead of sleeping: {bad}"


def test_the_rules_see_what_they_forbid(tmp_path):
    offender = tmp_path / "test_offender.py"
    offender.write_text("import time\nfrom tests.test_runner import plan_ids\ntime.sleep(1)\n", encoding="utf-8")
    assert "tests.test_runner" in imported_modules(offender)
    assert sleep_calls(offender) == [3]
