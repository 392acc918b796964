"""Shared fixtures: every store test runs on SQLite and on a real PostgreSQL server.

Markers (pyproject.toml): `postgres` is set here from the fixtures, `browser` and `slow` by the
tests; `make test-fast` leaves all three out.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import streamlit as st

from brightrun_gen.brightrun import BrightRun
from brightrun_gen.config import Settings, get_settings
from brightrun_gen.services.generation import generate_one
from brightrun_gen.domain.catalog import load_catalog
from brightrun_gen.services.setup import initialize, open_engine
from brightrun_gen.store import catalog_repo
from brightrun_gen.store.db import make_engine, write
from brightrun_gen.store.migrations import migrate
from tests.support import fault_table
from tests.support.fake_messages_api import FakeMessagesAPI
from tests.support.postgres import TemporaryPostgres

BACKENDS = ["sqlite", "postgresql"]
# The conversations the page tests' template store has generated (offline); the rest are not generated.
TEMPLATE_GENERATED = (1, 2)


@pytest.fixture(scope="session")
def pg_server():
    """The suite's PostgreSQL server, started when the first `postgres` test asks for it."""
    server = TemporaryPostgres().start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings for tests: no key, offline provider, the repo's catalog and prompts."""
    return Settings(_env_file=None, anthropic_api_key=None, provider="offline",
                    database_url=f"sqlite:///{tmp_path / 'unused.db'}")


@pytest.fixture(scope="session")
def _initialized_sqlite(tmp_path_factory) -> Path:
    """A SQLite file that `brightrun init` has filled, copied for each test that wants one."""
    path = tmp_path_factory.mktemp("initialized") / "init.db"
    engine = make_engine(f"sqlite:///{path}")
    initialize(engine, Settings(_env_file=None, anthropic_api_key=None))
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _initialized_postgresql(pg_server) -> str:
    """A PostgreSQL database that `brightrun init` has filled, the template of each test's copy."""
    database = pg_server.create_database()
    engine = make_engine(pg_server.url(database))
    initialize(engine, Settings(_env_file=None, anthropic_api_key=None))
    engine.dispose()
    return database


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


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def new_database(backend, tmp_path, request):
    """Make URLs of brand-new databases on the backend under test: `new_database(name, source=None)`
    is empty, or a copy of `source`. The PostgreSQL server is asked for only on that backend, so
    the SQLite half of the suite runs without it."""
    def make(name: str = "brightrun.db", source=None) -> str:
        if backend == "sqlite":
            target = tmp_path / name
            if source is not None:
                shutil.copy(source, target)
            return f"sqlite:///{target}"
        server = request.getfixturevalue("pg_server")
        return server.url(server.create_database(template=source))

    return make


@pytest.fixture
def empty_url(new_database) -> str:
    """A URL of a brand-new, empty database on the backend under test."""
    return new_database()


@pytest.fixture
def engine(empty_url):
    """A migrated, empty store."""
    eng = make_engine(empty_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def db_url(backend, new_database, request) -> str:
    """A URL of a database that `brightrun init` has filled (catalog, plan, templates, seeds)."""
    return new_database(source=request.getfixturevalue(f"_initialized_{backend}"))


@pytest.fixture
def app(db_url, settings):
    """The app on a store `brightrun init` filled, as pages and the CLI hold it (the facade), with
    the test's `settings`: offline and without a key unless the module overrides `settings`."""
    with BrightRun(settings, database_url=db_url) as brightrun:
        yield brightrun


@pytest.fixture
def store(db_url):
    """The engine of an initialized store, for tests whose subject is the store itself."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def pytest_collection_modifyitems(items):
    """Mark the PostgreSQL tests, which their fixtures tell: the `postgresql` backend parameter, or
    the server itself. `browser` and `slow` are marked where the tests are written."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgresql = callspec is not None and callspec.params.get("backend") == "postgresql"
        if on_postgresql or "pg_server" in item.fixturenames:
            item.add_marker(pytest.mark.postgres)


def pytest_terminal_summary(terminalreporter):
    """The fault table: every fault with its items, lost, duplicated and stuck counts."""
    fault_table.write_table(terminalreporter.write_line)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can take a screenshot after a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def fake():
    """The local Messages API; the test fails if the fake itself broke on a request."""
    with FakeMessagesAPI() as server:
        yield server
        assert not server.server_errors


@pytest.fixture
def page_store(template_db, tmp_path, monkeypatch):
    """A copy of the template store that the app under test opens (offline provider, no key)."""
    target = tmp_path / "app.db"
    shutil.copy(template_db, target)
    url = f"sqlite:///{target}"
    monkeypatch.setenv("BRIGHTRUN_DATABASE_URL", url)
    monkeypatch.setenv("BRIGHTRUN_PROVIDER", "offline")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    get_settings.cache_clear()
    st.cache_resource.clear()
    engine = open_engine(url)
    yield engine
    engine.dispose()
    st.cache_resource.clear()
    get_settings.cache_clear()


@pytest.fixture
def page_app(page_store):
    """The app on the page tests' store, opened as the pages open it (settings from the environment)."""
    with BrightRun(get_settings()) as brightrun:
        yield brightrun


@pytest.fixture
def db_engine(tmp_path, monkeypatch):
    """An initialized SQLite store that the app under test opens (offline provider, no key)."""
    url = f"sqlite:///{tmp_path / 'ui.db'}"
    monkeypatch.setenv("BRIGHTRUN_DATABASE_URL", url)
    monkeypatch.setenv("BRIGHTRUN_PROVIDER", "offline")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("BRIGHTRUN_ANTHROPIC_API_KEY", raising=False)
    get_settings.cache_clear()
    st.cache_resource.clear()
    engine = open_engine(url)
    initialize(engine, Settings(_env_file=None, anthropic_api_key=None, provider="offline", database_url=url))
    yield engine
    st.cache_resource.clear()  # stops the app's background runner
    get_settings.cache_clear()
    engine.dispose()


# The model the export tests' fake Claude answers as.
CLAUDE_MODEL = "claude-sonnet-5-5"


@pytest.fixture
def claude_writer(tmp_path):
    """The fake Messages API and settings that point the real SDK at it; each test scripts the
    conversation it wants written (the judge's calls get the fake's default verdict)."""
    with FakeMessagesAPI(model_id=CLAUDE_MODEL) as fake:
        settings = Settings(_env_file=None, provider="anthropic", anthropic_api_key="test-key",
                            anthropic_base_url=fake.base_url, model=CLAUDE_MODEL,
                            database_url=f"sqlite:///{tmp_path / 'unused.db'}")
        yield fake, settings


@pytest.fixture
def second_app(new_database, settings):
    """The app on another store of the same backend, holding the catalog only: the plan's keys
    would collide with what a test imports (`engine` would share the SQLite file with `app`)."""
    with BrightRun(settings, database_url=new_database("second.db")) as brightrun:
        # The catalog alone: `initialize` would add the plan and our seeds too.
        with write(brightrun.engine) as conn:
            catalog_repo.save_catalog(conn, load_catalog(settings.catalog_dir))
        yield brightrun
