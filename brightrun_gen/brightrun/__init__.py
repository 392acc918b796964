"""`BrightRun`: the one door into the app for pages, the CLI and tests.

One object holds the engine, the settings and the provider factory; its methods are grouped by
noun (catalog, conversations, jobs, reviews, exports, activity, documents, plan, dataset,
judgements, report), one module of this package each. Each method is a thin call into a
service, so the rules live in services/ and domain/, and every caller reaches them the same way:

    app = BrightRun()                      # settings from the environment / secrets.toml
    app.initialize()                       # schema, catalog, templates, plan, our seeds
    job = app.jobs.enqueue(kind="all")     # the UI's path; the runner does the rest
"""

from __future__ import annotations

from typing import Callable

from brightrun_gen.brightrun.activity import Activity, Report
from brightrun_gen.brightrun.catalog import Catalog
from brightrun_gen.brightrun.conversations import Conversations
from brightrun_gen.brightrun.dataset import Dataset
from brightrun_gen.brightrun.documents import Documents
from brightrun_gen.brightrun.exports import Exports
from brightrun_gen.brightrun.jobs import Jobs
from brightrun_gen.brightrun.plan import Plan
from brightrun_gen.brightrun.reviews import Judgements, Reviews
from brightrun_gen.config import Settings, get_settings
from brightrun_gen.llm.base import Provider
from brightrun_gen.llm.factory import make_provider
from brightrun_gen.services import setup

__all__ = ["BrightRun", "Activity", "Catalog", "Conversations", "Dataset", "Documents", "Exports", "Jobs",
           "Judgements", "Plan", "Report", "Reviews"]

ProviderFactory = Callable[[str, str], Provider]


class BrightRun:
    """The app on one database: settings, engine and providers, with methods by noun."""

    def __init__(self, settings: Settings | None = None, *, database_url: str | None = None,
                 provider_factory: ProviderFactory | None = None):
        self.settings = settings or get_settings()
        self.engine = setup.open_engine(database_url or self.settings.database_url, self.settings)
        self.provider_factory = provider_factory or (lambda name, model: make_provider(self.settings, name, model))
        self.catalog = Catalog(self)
        self.conversations = Conversations(self)
        self.jobs = Jobs(self)
        self.reviews = Reviews(self)
        self.exports = Exports(self)
        self.activity = Activity(self)
        self.documents = Documents(self)
        self.plan = Plan(self)
        self.dataset = Dataset(self)
        self.judgements = Judgements(self)
        self.report = Report(self)

    @property
    def database(self) -> str:
        """Which database is in use, without its password (safe to show)."""
        return setup.database_label(self.engine)

    @property
    def cache_key(self) -> str:
        """Tells two stores apart in a cache shared by sessions (may hold a password: never show it)."""
        return str(self.engine.url)

    def initialize(self) -> setup.InitReport:
        """Create or migrate the schema, load catalog and templates, build the plan, import our seeds."""
        return setup.initialize(self.engine, self.settings)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "BrightRun":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
