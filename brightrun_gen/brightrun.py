"""`BrightRun`: the one door into the app for pages, the CLI and tests.

One object holds the engine, the settings and the provider factory; its methods are grouped by
noun (catalog, conversations, jobs, reviews, exports, activity). Each method is a thin call into a
service, so the rules live in services/ and domain/, and every caller reaches them the same way:

    app = BrightRun()                      # settings from the environment / secrets.toml
    app.initialize()                       # schema, catalog, templates, plan, our seeds
    job = app.jobs.enqueue(kind="all")     # the UI's path; the runner does the rest
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterable, Sequence

from brightrun_gen.config import Settings, get_settings
from brightrun_gen.domain.planning import DEFAULT_SEED, DEFAULT_SIZE, DEFAULT_TIERS, PlanRequest, parse_tiers
from brightrun_gen.llm.base import Provider
from brightrun_gen.llm.factory import make_provider
from brightrun_gen.services import (
    browse, budget, dashboard, dataset, dedupe, estimate as estimating, exporting, foreground, generation,
    generation_plans, importing, insights, judging, planning, progress, prompting, repair, review,
    runner as runner_service, scorecards, setup, templates, versions, voice,
)
from brightrun_gen.services import documents as documents_service, knowledge, suggestions, upstream

logger = logging.getLogger(__name__)

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


class _Noun:
    def __init__(self, app: BrightRun):
        self.app = app

    @property
    def engine(self):
        return self.app.engine


class Catalog(_Noun):
    """Personas, emotions, arcs, scenarios, edge cases, topics, templates and seeds; template versions' activation."""

    SECTIONS = insights.CATALOG_SECTIONS

    def table(self, section: str, search: str = ""):
        return insights.catalog_table(self.engine, section, search)

    def entries(self, section: str) -> list[dict]:
        return insights.catalog_entries(self.engine, section)

    def entry(self, section: str, key: str) -> dict:
        return insights.catalog_entry(self.engine, section, key)

    def templates(self, search: str = ""):
        return insights.template_table(self.engine, search)

    def seeds(self, search: str = ""):
        return insights.seed_table(self.engine, search)

    def persona_labels(self) -> dict[str, str]:
        return browse.persona_labels(self.engine)

    def voice(self) -> tuple | None:
        """The firm's voice profile in use and what it was measured from, or None before the first."""
        return voice.current_voice(self.engine)

    def measure_voice(self, paths: Iterable[str | Path] | None = None) -> voice.VoiceReport:
        """Measure the voice from seed files, or from the firm's imported conversations, and keep it."""
        report = voice.derive_voice(self.engine, paths)
        generation.forget_static(self.engine)  # the next prompt built here speaks with the new voice
        return report

    def activate_template(self, template_id: int, *, share: int = 100, only: bool = True) -> str:
        """Make a template version active, alone in its tier or with a share of new rows; returns the sentence."""
        return templates.activate(self.engine, template_id, share=share, only=only)

    def deactivate_template(self, template_id: int) -> str:
        return templates.deactivate(self.engine, template_id)


class Conversations(_Noun):
    """Planned, generated and seed conversations: find, list, show, filter, import."""

    def find_id(self, key_or_id: str | int) -> int:
        return browse.find_id(self.engine, key_or_id)

    def list(self, *, where: dict | None = None, statuses: Sequence[str] = (), persona_text: str = ""):
        return browse.list_conversations(self.engine, where=where, statuses=statuses, persona_text=persona_text)

    def detail(self, key_or_id: str | int, version: int | None = None):
        return browse.conversation_detail(self.engine, key_or_id, version)

    def as_json(self, key_or_id: str | int) -> dict:
        return browse.conversation_json(self.engine, key_or_id)

    def with_annotations(self, key_or_id: str | int):
        return insights.conversation_with_annotations(self.engine, key_or_id)

    def status_counts(self) -> dict[str, int]:
        return browse.status_counts(self.engine)

    def filter_options(self) -> dict[str, list]:
        return browse.filter_options(self.engine)

    def filter_choices(self) -> dashboard.FilterChoices:
        return dashboard.filter_choices(self.engine)

    def dashboard(self, filters: dict) -> dashboard.DashboardData:
        return dashboard.load_dashboard(self.engine, filters)

    def preview(self, key: str, *, job_running: bool = False) -> dashboard.Preview:
        return dashboard.preview(self.engine, key, job_running=job_running)

    def import_files(self, paths: Iterable[str | Path]) -> list[importing.ImportResult]:
        return importing.import_paths(self.engine, paths)

    def prompt(self, key_or_id: str | int) -> prompting.PromptView:
        """The exact prompt this conversation would be sent now, with its examples and size."""
        return prompting.prompt_view(self.engine, key_or_id, self.app.settings)


class Jobs(_Noun):
    """Generation: plan a job, estimate it, queue it, run it, follow it, stop it."""

    def enqueue(self, *, kind: str, ids: Sequence[int] = (), where: dict | None = None, provider: str | None = None,
                model: str | None = None, concurrency: int | None = None,
                use_batch: bool = False, max_cost: float | None = None) -> runner_service.EnqueueResult:
        return runner_service.enqueue(self.engine, kind=kind, conversation_ids=ids, where=where,
                                      settings=self.app.settings, provider=provider, model=model,
                                      concurrency=concurrency, use_batch=use_batch, max_cost_usd=max_cost)

    def ids_for_filter(self, where: dict) -> list[int]:
        return runner_service.ids_for_filter(self.engine, where)

    def start(self, plan: generation_plans.GenerationPlan, use_batch: bool = False, max_cost: float | None = None) -> str:
        """Queue a plan made by plan_one / plan_selected / plan_all; returns the sentence to show."""
        return generation_plans.start(self.engine, plan, use_batch, settings=self.app.settings, max_cost=max_cost)

    def plan_one(self, key_or_id: str | int) -> generation_plans.GenerationPlan:
        return generation_plans.plan_one(self.engine, key_or_id)

    plan_selected = staticmethod(generation_plans.plan_selected)
    plan_all = staticmethod(generation_plans.plan_all)
    count_all = staticmethod(generation_plans.count_all)
    with_progress = staticmethod(dashboard.with_progress)
    ended_sentence = staticmethod(dashboard.ended_sentence)

    def estimate(self, ids: Sequence[int], *, provider: str | None = None, model: str | None = None,
                 use_batch: bool = False) -> estimating.Estimate:
        return estimating.estimate(self.engine, ids, settings=self.app.settings, provider=provider, model=model,
                                   batch=use_batch)

    def run(self, job_ids: Sequence[int], *, concurrency: int | None = None,
            on_progress: Callable[[progress.Progress], None] | None = None) -> list[progress.Progress]:
        """Run queued jobs to their end in this thread (the CLI's foreground)."""
        return foreground.run_to_end(self.engine, self.app.settings, job_ids, concurrency=concurrency,
                                     on_progress=on_progress, provider_factory=self.app.provider_factory)

    def generate_now(self, key_or_id: str | int, *, provider: str | None = None, model: str | None = None,
                     on_progress: Callable[[progress.Progress], None] | None = None,
                     max_cost: float | None = None) -> foreground.SingleResult:
        """One conversation now, as a job of one run in the foreground: the UI's path, not a shortcut."""
        cid = browse.find_id(self.engine, key_or_id)
        job = self.enqueue(kind="single", ids=[cid], provider=provider, model=model, max_cost=max_cost)
        [done] = self.run([job.job_id], on_progress=on_progress)
        return foreground.single_result(self.engine, cid, done)

    def runner(self, *, concurrency: int | None = None, owner: str | None = None) -> runner_service.Runner:
        return runner_service.Runner(self.engine, self.app.settings, concurrency=concurrency, owner=owner,
                                     provider_factory=self.app.provider_factory)

    def start_background_runner(self) -> runner_service.Runner:
        """The runner of a server process or `brightrun worker`: a thread that picks up every job."""
        return self.runner().start_background()

    def release_dead_owners(self) -> int:
        return runner_service.release_dead_owners(self.engine)

    def stop(self, job_id: int) -> str:
        return dashboard.stop_job(self.engine, job_id)

    def stop_all(self) -> str:
        return dashboard.stop_all(self.engine)

    def retry_failed(self, job_id: int) -> str:
        return dashboard.retry(self.engine, job_id)

    def list(self, *, active_only: bool = False, limit: int = 20):
        return browse.jobs(self.engine, active_only=active_only, limit=limit)

    def active_ids(self) -> tuple[int, ...]:
        return dashboard.active_job_ids(self.engine)

    def progress(self, job_id: int) -> progress.Progress:
        return progress.job_progress(self.engine, job_id)

    def active_progress(self) -> list[progress.Progress]:
        return progress.active_progress(self.engine)

    def latest_progress(self) -> progress.Progress | None:
        return progress.latest_progress(self.engine)

    progress_view = staticmethod(dashboard.progress_view)

    def attempts(self, key_or_id: str | int | None = None, *, limit: int = 500):
        """The generation log: every attempt, newest first (of one conversation, or of all)."""
        return browse.attempts(self.engine, key_or_id, limit=limit)

    def raise_cap(self, job_id: int, max_cost: float) -> int:
        """A new budget cap; a job stopped at its cap goes on (run it with `run`). Items taken again."""
        return budget.raise_cap(self.engine, job_id, max_cost)

    def batch_advice(self, count: int, *, provider: str | None = None, model: str | None = None) -> str | None:
        """Why Message Batches would pay for `count` conversations, when the known rate limit makes them slow."""
        return estimating.batch_advice(self.engine, self.app.settings, count, provider=provider, model=model)


class Reviews(_Noun):
    """Decisions on written conversations, their audit trail and the review queue."""

    def decide(self, key_or_id: str | int, action: str, *, reviewer: str | None = None, notes: str | None = None):
        return review.review(self.engine, key_or_id, action, reviewer, notes, settings=self.app.settings)

    def history(self, key_or_id: str | int) -> list[dict]:
        return review.history(self.engine, key_or_id)

    def load(self, key_or_id: str | int) -> review.ReviewView:
        return review.load(self.engine, key_or_id)

    def next_unreviewed(self, after_id: int | None = None) -> int | None:
        return review.next_unreviewed(self.engine, after_id)

    def unreviewed_count(self) -> int:
        return review.unreviewed_count(self.engine)

    def options(self, statuses: Sequence[str] = (), persona_text: str = "") -> dict[int, str]:
        return review.review_options(self.engine, statuses, persona_text)

    neighbours = staticmethod(review.neighbours)

    def repair(self, key_or_id: str | int, notes: str | None, *, provider: str | None = None,
               model: str | None = None, version: int | None = None) -> str:
        """Queue "Regenerate with my notes" for the background runner; returns the sentence to show."""
        job_id = repair.request(self.engine, key_or_id, notes, settings=self.app.settings, provider=provider,
                                model=model, version=version)
        return f"Writing a new version with your notes (job {job_id}); it appears here when it is done."

    def repair_now(self, key_or_id: str | int, notes: str | None, *, provider: str | None = None,
                   model: str | None = None, version: int | None = None,
                   on_progress: Callable[[progress.Progress], None] | None = None) -> foreground.SingleResult:
        """The same repair job, run here to its end (the CLI)."""
        job_id = repair.request(self.engine, key_or_id, notes, settings=self.app.settings, provider=provider,
                                model=model, version=version)
        [done] = self.app.jobs.run([job_id], on_progress=on_progress)
        return foreground.single_result(self.engine, browse.find_id(self.engine, key_or_id), done)

    def approve_version(self, key_or_id: str | int, version: int, *, reviewer: str | None = None,
                        notes: str | None = None):
        """Approve a version other than the current one; it becomes the current, exported one."""
        return versions.approve_version(self.engine, key_or_id, version, reviewer, notes, settings=self.app.settings)


class Exports(_Noun):
    """Training files: what a request selects, its first records, the file itself."""

    request = staticmethod(exporting.ExportRequest)

    def count(self, request: exporting.ExportRequest) -> int:
        return exporting.count(self.engine, request)

    def preview(self, request: exporting.ExportRequest, n: int = 5) -> list[dict]:
        return exporting.preview(self.engine, request, n)

    def write(self, request: exporting.ExportRequest) -> exporting.ExportResult:
        return exporting.export(self.engine, request, self.app.settings)

    def download(self, request: exporting.ExportRequest) -> tuple[str, bytes, int]:
        """(file name, bytes, conversations) for a browser download."""
        return exporting.export_download(self.engine, request)


class Activity(_Noun):
    """How far the plan is, how good the conversations are, what generation costs."""

    COVERAGE_COLUMNS = insights.COVERAGE_COLUMNS
    COVERAGE_MEASURES = insights.COVERAGE_MEASURES
    OUTCOMES = insights.OUTCOMES

    def funnel(self):
        return insights.funnel(self.engine)

    def coverage(self, columns: str = "storyline", measure: str = "count"):
        return insights.coverage(self.engine, columns, measure)

    def quality_distribution(self):
        return insights.quality_distribution(self.engine)

    def usage_per_day(self):
        return insights.usage_per_day(self.engine)

    def attempt_log(self, outcomes: Sequence[str] = (), key_text: str = "", limit: int = 500):
        return insights.attempt_log(self.engine, outcomes, key_text, limit)


class Documents(_Noun):
    """The firm's own documents: import, chunks, knowledge per row, provenance, scenario suggestions."""

    summary = staticmethod(documents_service.summary)
    CHOICES = ("pinned", "removed")

    def import_files(self, paths: Iterable[str | Path], category: str | None = None):
        """Files or folders (Markdown, text, HTML, PDF, DOCX); one result per file, never raises for bad input."""
        return documents_service.import_paths(self.engine, paths, self.app.settings, category=category)

    def import_upload(self, name: str, data: bytes, category: str | None = None):
        return documents_service.import_bytes(self.engine, name, data, self.app.settings, category=category)

    def import_chunks(self, *, database_url: str | None = None, csv: str | Path | None = None,
                      schema: str | None = None):
        """The upstream stage's chunks, read-only from its database (or the setting), or from a CSV."""
        if csv is not None:
            return upstream.import_from_csv(self.engine, csv)
        return upstream.import_from_database(self.engine, self.app.settings, database_url, schema)

    def list(self):
        return documents_service.list_documents(self.engine)

    def chunks(self, document_id: int | None = None, *, unused_only: bool = False):
        """Chunks with how many conversations each grounded (of one document, or every unused one)."""
        return documents_service.chunk_uses(self.engine, document_id, unused_only=unused_only)

    def chunk(self, chunk_row_id: int):
        """One chunk in full: pages, section, and the upstream stage's dimensions (key terms, confidence...)."""
        return documents_service.chunk_detail(self.engine, chunk_row_id)

    def grounded_count(self) -> int:
        """Conversations with a version grounded in the firm's documents."""
        return knowledge.grounded_count(self.engine)

    def for_row(self, key_or_id: str | int):
        """The knowledge a row's prompt gets: chosen chunks, ranked candidates, removed ones."""
        return knowledge.for_row(self.engine, key_or_id, self.app.settings)

    def choose(self, key_or_id: str | int, chunk_row_id: int, choice: str | None) -> None:
        """Pin a chunk to a row ("pinned"), keep it out ("removed"), or leave it to retrieval (None)."""
        knowledge.set_choice(self.engine, key_or_id, chunk_row_id, choice)

    def knowledge_block(self, key_or_id: str | int) -> str | None:
        """The row's "firm knowledge (data)" prompt block, or None when the documents do not cover it."""
        return knowledge.knowledge_block(self.engine, browse.find_id(self.engine, key_or_id), self.app.settings)

    def sources(self, key_or_id: str | int, version: int | None = None) -> list[dict]:
        """Which chunks grounded a version (default: the current one)."""
        return knowledge.sources(self.engine, key_or_id, version)

    def suggest_scenarios(self, chunk_row_ids: Sequence[int], *, provider: str | None = None):
        """Tier-2 scenarios drawn from these chunks (Claude, or the offline provider); (stored, problems)."""
        chosen = self.app.provider_factory(provider or self.app.settings.effective_provider, self.app.settings.model)
        return suggestions.suggest(self.engine, chosen, chunk_row_ids)

    def suggestions(self, statuses: Sequence[str] = ()):
        return suggestions.list_suggestions(self.engine, statuses)

    def accept_scenario(self, key: str):
        return suggestions.accept(self.engine, key)

    def dismiss_scenario(self, key: str) -> None:
        suggestions.dismiss(self.engine, key)

    def add_plan_rows(self) -> list[str]:
        """Plan rows for accepted scenarios that have none yet (one per persona each fits)."""
        return suggestions.add_plan_rows(self.engine)


class Plan(_Noun):
    """The plan: check it for contradictions, extend it to a size, see and fill its coverage."""

    COVERAGE_BY = planning.COVERAGE_BY
    DEFAULT_SIZE = DEFAULT_SIZE
    DEFAULT_TIERS = DEFAULT_TIERS
    DEFAULT_SEED = DEFAULT_SEED

    def check(self) -> planning.PlanCheck:
        return planning.check(self.engine)

    def rows(self):
        """The plan's rows in id order, with status and variation (generated rows included)."""
        return planning.stored_rows(self.engine)

    def build(self, size: int = DEFAULT_SIZE, *, seed: int = DEFAULT_SEED,
              tiers: tuple[int, int, int] = DEFAULT_TIERS) -> planning.PlanChange:
        """Extend the plan to `size` rows (balanced, deterministic for `seed`); written rows stay as they are."""
        return planning.extend(self.engine, PlanRequest(size=size, tiers=tiers, seed=seed))

    def repair(self, *, seed: int = DEFAULT_SEED) -> planning.PlanChange:
        """Rebuild the contradictory rows nobody has written, tried or queued yet, under the same keys."""
        return planning.repair(self.engine, seed)

    def coverage(self, by: str = "storyline") -> planning.CoverageGrid:
        return planning.coverage(self.engine, by)

    tiers = staticmethod(parse_tiers)  # '40:35:15' -> (40, 35, 15), or a one-line InputError

    def fill_gaps(self, target: int, *, by: str = "storyline", seed: int = DEFAULT_SEED) -> planning.PlanChange:
        """Add rows to every cell of the coverage grid below `target` that a row can fill."""
        return planning.fill_gaps(self.engine, target, by, seed)


class Dataset(_Noun):
    """The set as a whole: near-duplicate pairs, one conversation's twins, stock phrases, diversity."""

    SCOPES = dedupe.SCOPES
    ROLES = dataset.ROLES
    POSITIONS = dataset.POSITIONS

    @property
    def threshold(self) -> float:
        """Similarity from which two conversations count as near-duplicates (setting)."""
        return self.app.settings.near_duplicate_threshold

    def refresh_index(self) -> int:
        return dedupe.refresh_index(self.engine)

    def near_duplicates(self, threshold: float | None = None, scope: str = "conversations") -> list[dedupe.Pair]:
        return dedupe.pairs(self.engine, self.threshold if threshold is None else threshold, scope)

    def twins(self, key_or_id: str | int) -> dedupe.Twins:
        """Conversations like this one now, and the twin recorded when its current version was written."""
        return dedupe.twins(self.engine, key_or_id)

    def near_duplicate(self, turns, *, conversation_id: int | None = None,
                       threshold: float | None = None) -> dedupe.NearDuplicate | None:
        """The finding repair acts on: these turns read like a stored conversation (or None)."""
        return dedupe.near_duplicate(self.engine, turns, conversation_id=conversation_id,
                                     threshold=self.threshold if threshold is None else threshold)

    def phrases(self, *, role: str | None = None, position: str | None = None, top: int = dataset.TOP,
                include_offline: bool = True):
        return dataset.phrases(self.engine, role=role, position=position, top=top, include_offline=include_offline)

    def avoid_phrases(self, *, share: float | None = None, limit: int = dataset.AVOID_LIMIT) -> list[str]:
        """Phrases over the share setting, for the prompt's avoid list (data, not instructions)."""
        share = self.app.settings.avoid_phrase_share if share is None else share
        return dataset.avoid_phrases(self.engine, share=share, limit=limit)

    def diversity(self, *, ids: Sequence[int] | None = None, include_offline: bool = True):
        """Diversity figures of the dataset, or of the conversations `ids` (an export's selection)."""
        return dataset.diversity(self.engine, threshold=self.threshold, ids=ids, include_offline=include_offline)


class Judgements(_Noun):
    """The content judge: judgements per version, the version picker and diff, the rubric."""

    def panel(self, key_or_id: str | int, version: int | None = None, against: int | None = None):
        """Judgement, versions and turn-by-turn diff of one version (default: the current one)."""
        return versions.panel(self.engine, key_or_id, version, against)

    def rubric(self):
        return judging.active_rubric(self.engine, self.app.settings)

    def judge(self, key_or_id: str | int, *, provider: str | None = None) -> dict:
        """Judge the current version as it is (seeds, imports, a new rubric): no gate, no repair."""
        return judging.judge_stored(self.engine, self.app.settings, key_or_id, provider)


class Report(_Noun):
    """What the log and the decisions say about the prompts: template scorecards."""

    def templates(self):
        return scorecards.template_scorecards(self.engine)

    def templates_table(self):
        return scorecards.scorecard_table(self.templates())
