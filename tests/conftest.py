"""Shared fixtures: every store test runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from brightrun_gen.config import Settings
from brightrun_gen.services.generation import generate_one
from brightrun_gen.services.setup import initialize, open_engine
from brightrun_gen.store.db import make_engine
from brightrun_gen.store.migrations import migrate
from tests.support import fault_table
from tests.support.postgres import TemporaryPostgres

BACKENDS = ["sqlite", "postgresql"]
# The conversations the page tests' template store has generated (offline); the rest are not generated.
TEMPLATE_GENERATED = (1, 2)


@pytest.fixture(scope="session")
def pg_server():
    server = TemporaryPostgres().start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings for tests: no key, offline provider, the repo's catalog and prompts."""
    return Settings(_env_file=None, anthropic_api_key=None, provider="offline",
                    database_url=f"sqlite:///{tmp_path / 'unused.db'}")


@pytest.fixture(scope="session")
def _initialized(tmp_path_factory, pg_server):
    """One initialized database per backend, copied for each test that wants one."""
    base = tmp_path_factory.mktemp("initialized")
    sqlite_file = base / "init.db"
    engine = make_engine(f"sqlite:///{sqlite_file}")
    initialize(engine, Settings(_env_file=None, anthropic_api_key=None))
    engine.dispose()
    pg_template = pg_server.create_database()
    engine = make_engine(pg_server.url(pg_template))
    initialize(engine, Settings(_env_file=None, anthropic_api_key=None))
    engine.dispose()
    return {"sqlite": sqlite_file, "postgresql": pg_template}


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    """A SQLite store for the page tests: initialized, with TEMPLATE_GENERATED generated offline.

    Built once per session and never opened by a test: each copies it to its own file first.
    """
    path = tmp_path_factory.mktemp("pages") / "template.db"
    settings = Settings(_env_file=None, anthropic_api_key=None, provider="offline", database_url=f"sqlite:///{path}")
    engine = open_engine(settings.database_url, settings)
    initialize(engine, settings)
    for cid in TEMPLATE_GENERATED:
        assert generate_one(engine, cid, settings=settings).status == "generated"
    engine.dispose()
    return path


def _new_url(backend: str, tmp_path: Path, pg_server, source=None) -> str:
    if backend == "sqlite":
        target = tmp_path / "brightrun.db"
        if source is not None:
            shutil.copy(source, target)
        return f"sqlite:///{target}"
    return pg_server.url(pg_server.create_database(template=source))


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def empty_url(backend, tmp_path, pg_server) -> str:
    """A URL of a brand-new, empty database on the backend under test."""
    return _new_url(backend, tmp_path, pg_server)


@pytest.fixture
def engine(empty_url):
    """A migrated, empty store."""
    eng = make_engine(empty_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def db_url(backend, tmp_path, pg_server, _initialized) -> str:
    """A URL of a database that `brightrun init` has filled (catalog, plan, templates, seeds)."""
    return _new_url(backend, tmp_path, pg_server, _initialized[backend])


@pytest.fixture
def store(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def pytest_terminal_summary(terminalreporter):
    """The fault table: every fault with its items, lost, duplicated and stuck counts."""
    fault_table.write_table(terminalreporter.write_line)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can take a screenshot after a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
