"""Rules of the test suite itself, read from the source with `ast`: test modules share code only
through tests/support, the one place that sleeps is `wait_until` (tests/support/waiting.py), and
only the tests whose subject is the store import it: the others come in through the facade."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import REPO
from tests.support.source_imports import imported_modules

SUITE_FILES = sorted([*(REPO / "tests").rglob("*.py"), *(REPO / "bench").glob("*.py")])
WAITING = REPO / "tests" / "support" / "waiting.py"
TEST_MODULES = sorted((REPO / "tests").glob("test_*.py"))

# The test modules that may import brightrun_gen.store, and why: their subject is the store, or a
# property only the store shows (a lease, a lock, a transaction). Every other test module reaches the
# app through the facade (brightrun_gen.brightrun), as pages and the CLI do; what it needs below the
# facade (every table's rows, a state no app path writes) is in tests/support/store_state.py.
STORE_TESTS = {
    "test_store.py": "the schema, init, versions, metadata, the index's writes, the columns' limits",
    "test_migrations.py": "each migration upgrading an existing database in place",
    "test_rls.py": "row-level security between two tenants' logins on one PostgreSQL database",
    "test_runner.py": "queue claims and leases, and what each transaction leaves in the queue",
    "test_faults.py": "what a killed worker or a failing database leaves in the queue and the tables",
    "test_review.py": "a decision and its audit event in one transaction, concurrent decisions, the repeat window",
}
# Not through the facade yet: they were being changed elsewhere when this rule came. Take each off
# when it no longer imports the store (the rule below says so).
NOT_YET_THROUGH_THE_FACADE = {"test_ui_dashboard.py", "test_e2e_browser.py"}


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


def imports_the_store(path: Path) -> bool:
    return any(m == "brightrun_gen.store" or m.startswith("brightrun_gen.store.") for m in imported_modules(path))


def test_only_the_store_tests_import_the_store():
    allowed = set(STORE_TESTS) | NOT_YET_THROUGH_THE_FACADE
    importers = {path.name for path in TEST_MODULES if imports_the_store(path)}
    bad = sorted(importers - allowed)
    assert not bad, (f"{bad} import brightrun_gen.store: reach the app through the facade (the `app` fixture), "
                     "and read below it with tests/support/store_state.py")
    stale = sorted(allowed - importers)
    assert not stale, f"{stale} no longer import brightrun_gen.store: take them off the lists in {_name(Path(__file__))}"


def test_the_rules_see_what_they_forbid(tmp_path):
    offender = tmp_path / "test_offender.py"
    offender.write_text("import time\nfrom tests.test_runner import plan_ids\ntime.sleep(1)\n"
                        "def later():\n    from brightrun_gen import store\n", encoding="utf-8")
    assert "tests.test_runner" in imported_modules(offender)
    assert sleep_calls(offender) == [3]
    assert imports_the_store(offender)
    (tmp_path / "test_facade.py").write_text("from brightrun_gen.brightrun import BrightRun\n", encoding="utf-8")
    assert not imports_the_store(tmp_path / "test_facade.py")
