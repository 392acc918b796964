"""Imports point down only: pages never reach the store or the SDK; the package never imports streamlit."""

from __future__ import annotations

import pytest

from tests.support.paths import REPO
from tests.support.source_imports import imported_modules

PAGE_FILES = [REPO / "app.py", *sorted((REPO / "pages").glob("*.py"))]
PACKAGE_FILES = sorted((REPO / "brightrun_gen").rglob("*.py"))
CLI_FILES = [*sorted((REPO / "brightrun_gen").glob("cli*.py")), REPO / "brightrun_gen" / "__main__.py"]
# What pages and the CLI may import from the package: the facade, settings, errors and domain types.
FRONT_DOOR = ("brightrun_gen.brightrun", "brightrun_gen.config", "brightrun_gen.errors", "brightrun_gen.domain",
              "brightrun_gen.cli")
FORBIDDEN_IN_PAGES = ("sqlalchemy", "anthropic", "psycopg", "brightrun_gen.store", "brightrun_gen.llm", "threading")


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_pages_hold_layout_only(path):
    bad = {m for m in imported_modules(path) if m.startswith(FORBIDDEN_IN_PAGES)}
    assert not bad, f"{path.name} imports {sorted(bad)}: call a service instead"


@pytest.mark.parametrize("path", PAGE_FILES + CLI_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_pages_and_cli_come_in_through_the_facade(path):
    inside = {m for m in imported_modules(path) if m.split(".")[0] == "brightrun_gen" and m != "brightrun_gen"}
    bad = {m for m in inside if not m.startswith(FRONT_DOOR)}
    assert not bad, f"{path.name} imports {sorted(bad)}: call the facade (brightrun_gen.brightrun) instead"


@pytest.mark.parametrize("path", PACKAGE_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_package_never_imports_streamlit(path):
    assert not {m for m in imported_modules(path) if m.split(".")[0] in {"streamlit", "st_aggrid"}}


@pytest.mark.parametrize("path", sorted((REPO / "brightrun_gen" / "domain").rglob("*.py")), ids=lambda p: p.name)
def test_domain_is_pure(path):
    io_modules = {"sqlalchemy", "anthropic", "httpx", "psycopg", "brightrun_gen.store", "brightrun_gen.services", "brightrun_gen.llm"}
    assert not {m for m in imported_modules(path) if m.startswith(tuple(io_modules))}


def test_only_the_llm_layer_imports_the_sdk():
    users = [p for p in PACKAGE_FILES if any(m.startswith("anthropic") for m in imported_modules(p))]
    assert all("llm" in p.parts for p in users), users


def test_only_the_store_writes_sql():
    users = [p for p in PACKAGE_FILES if any(m.startswith("sqlalchemy") for m in imported_modules(p))]
    allowed = {"store", "services"}  # services only for the Engine/Connection type
    assert all(allowed & set(p.parts) for p in users), users
    for path in users:
        if "services" in path.parts:
            names = {m for m in imported_modules(path) if m.startswith("sqlalchemy")}
            assert names <= {"sqlalchemy", "sqlalchemy.Engine", "sqlalchemy.Connection"}, (path.name, names)
