"""Every setting, declared once with its default and help text.

Read from environment variables (prefix BRIGHTRUN_, plus ANTHROPIC_API_KEY and
ANTHROPIC_BASE_URL as the SDK names them) and from `.streamlit/secrets.toml`.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from brightrun_gen.domain.access import parse_allowed_signins
from brightrun_gen.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
SECRETS_FILE = ROOT / ".streamlit" / "secrets.toml"
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'data' / 'brightrun.db'}"
# A current Sonnet that anthropic 2.14 does not list in DEPRECATED_MODELS.
DEFAULT_MODEL = "claude-sonnet-5-5"
# The judge: a current, cheaper model (a third of Sonnet's price) that anthropic 2.14 does not deprecate.
DEFAULT_JUDGE_MODEL = "claude-haiku-5-5"


class _SecretsTomlSource(PydanticBaseSettingsSource):
    """Top-level keys of .streamlit/secrets.toml, matched case-insensitively to field names."""

    def __call__(self) -> dict:
        data = read_secrets(Path(self.current_state.get("secrets_file") or SECRETS_FILE))
        wanted = {name.lower() for name in self.settings_cls.model_fields}
        aliases = {"anthropic_api_key": "anthropic_api_key", "brightrun_database_url": "database_url"}
        found = {}
        for key, value in data.items():
            name = aliases.get(key.lower(), key.lower().removeprefix("brightrun_"))
            if name in wanted and name != "secrets_file" and not isinstance(value, dict):
                found[name] = value
        return found

    def get_field_value(self, field, field_name):  # pragma: no cover - required by the ABC
        return None, field_name, False


def read_secrets(path: Path) -> dict:
    """The parsed secrets file, or {} when there is none."""
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None


# Who writes conversations: Claude through the SDK, or the deterministic offline generator.
PROVIDERS = ("anthropic", "offline")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BRIGHTRUN_", extra="ignore")

    database_url: str = Field(DEFAULT_DATABASE_URL, description="SQLAlchemy URL of the store")
    anthropic_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("ANTHROPIC_API_KEY", "BRIGHTRUN_ANTHROPIC_API_KEY"),
        description="Claude API key; without it the offline provider is used",
    )
    anthropic_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("ANTHROPIC_BASE_URL", "BRIGHTRUN_ANTHROPIC_BASE_URL"),
        description="Messages API base URL (tests point it at a local server)",
    )
    provider: str = Field("auto", description="auto | anthropic | offline")
    model: str = Field(DEFAULT_MODEL, description="Claude model for generation")
    max_tokens: int = Field(8000, description="max_tokens per generation call")
    request_timeout: float = Field(120.0, description="seconds before one API call times out")
    sdk_max_retries: int = Field(2, description="the SDK's own retries for 429/529/5xx")
    regenerate_attempts: int = Field(3, description="attempts when an answer fails validation")
    concurrency: int = Field(4, description="conversations generated at once by one runner")
    pace_rate_limits: bool = Field(
        True, description="start a call only when the tokens it is expected to use fit the rate limits the API "
                          "reports (anthropic-ratelimit-* headers, shared by every worker of the database), and halve "
                          "the calls in flight when one is refused; false: full concurrency, back off on 429 only")
    batch_suggest_minutes: float = Field(
        60.0, gt=0, description="suggest Message Batches (half price) when a job would take longer than this many "
                                "minutes at the account's known rate limit")
    lease_seconds: float = Field(30.0, description="a claimed queue item's lease; renewed by heartbeat")
    price_file: Path = Field(ROOT / "seeds" / "prices.yaml", description="editable price table")
    catalog_dir: Path = Field(ROOT / "seeds" / "catalog", description="the catalog YAML files")
    seed_dir: Path = Field(ROOT / "seeds" / "conversations", description="our seed conversations")
    prompts_dir: Path = Field(ROOT / "prompts", description="prompt templates, one file each")
    reviewer: str = Field("local reviewer", description="name recorded with review decisions (login off)")
    word_limits: Literal["spec", "firm"] = Field(
        "spec", description="word limits of prompts and quality rules: spec (client 20-150, advisor 50-250) or firm "
                            "(the range of the firm's real conversations, from `brightrun voice`)")
    examples_per_prompt: int = Field(2, ge=0, le=6, description="example conversations shown in each prompt")
    example_token_budget: int = Field(5000, ge=0, description="estimated tokens the examples of one prompt may take")
    examples_include_approved: bool = Field(
        False, description="let approved conversations serve as examples, besides our seeds and the firm's imports")
    near_duplicate_threshold: float = Field(
        0.8, ge=0.5, le=1.0,
        description="similarity (MinHash estimate of the Jaccard of 5-word shingles) from which two conversations "
                    "are near-duplicates: `brightrun dedupe`'s default, the review page's flag, the diversity figures",
    )
    repair_near_duplicates: bool = Field(
        False, description="a new conversation at least near_duplicate_threshold like a stored one fails the "
                           "judge's gate (naturalness capped), so it is repaired like any other failed check")
    avoid_phrase_share: float = Field(
        0.2, gt=0.0, le=1.0,
        description="an advisor's phrase in at least this share of the conversations joins the avoid list "
                    "the prompt receives",
    )
    judge: bool = Field(True, description="judge every written conversation against prompts/rubric.yaml (Claude "
                                          "with a key, the offline judge offline); false: no judge calls, no gate")
    judge_model: str = Field(DEFAULT_JUDGE_MODEL, description="Claude model of the content judge")
    judge_max_tokens: int = Field(4000, description="max_tokens per judge call")
    judge_min_score: int = Field(3, ge=1, le=5, description="the gate: every rubric criterion at least this (1-5); "
                                                          "below it, or a failed must-have, is repaired or flagged")
    repair_attempts: int = Field(1, ge=0, le=5, description="automatic repairs of a conversation that fails the "
                                                            "gate, before it is flagged for a reviewer")
    max_cost_usd: float | None = Field(None, gt=0, description="default budget cap of a generation job in USD "
                                                               "(judge and repair calls count); none: no cap")
    secrets_file: Path = Field(
        SECRETS_FILE,
        description="secrets.toml with keys and the [auth] login section; Streamlit must read the same file",
    )
    # NoDecode: the environment variable is a plain comma-separated list, not JSON.
    allowed_signins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="with login on, the emails (ada@example.com) and domains (@example.com) that may use the app; "
                    "empty lets in everyone who can sign in",
    )
    document_max_mb: float = Field(20.0, gt=0, description="largest document file import-docs and the upload accept, in MB")
    chunk_tokens: int = Field(300, ge=50, description="tokens per chunk when documents are split (estimated at 4 characters each)")
    chunk_overlap_tokens: int = Field(40, ge=0, description="tokens a chunk repeats from the one before when a section is split")
    knowledge_chunks: int = Field(3, ge=0, description="most chunks of firm knowledge in one prompt (pinned ones come on top)")
    knowledge_tokens: int = Field(900, ge=0, description="most tokens of firm knowledge in one prompt")
    knowledge_min_score: float = Field(
        0.24, ge=0, description="relevance score (0-1: the share of the row's best-matched part a chunk matches, by BM25) a chunk needs to ground a row; below it a row gets no firm knowledge")
    upstream_database_url: str | None = Field(
        None, description="database of the earlier pipeline stages; `import-chunks` reads its documents and chunks read-only")
    upstream_schema: str | None = Field(None, description="schema of the upstream tables in that database (default: its search path)")

    @field_validator("allowed_signins", mode="before")
    @classmethod
    def _parse_allowed_signins(cls, value):
        return parse_allowed_signins(value)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        return (init_settings, env_settings, _SecretsTomlSource(settings_cls))

    @property
    def api_key(self) -> str | None:
        return self.anthropic_api_key.get_secret_value() if self.anthropic_api_key else None

    @property
    def auth_configured(self) -> bool:
        """Whether the secrets file has an [auth] section: then every page asks for a sign-in first.

        Read on each call, like Streamlit reads its secrets, so adding [auth] takes effect without a
        restart. A present but incomplete section still counts: the app stays closed and st.login
        names the missing key, rather than the data being shown to anyone.
        """
        return isinstance(read_secrets(self.secrets_file).get("auth"), dict)

    @property
    def effective_provider(self) -> str:
        if self.provider != "auto":
            return self.provider
        return "anthropic" if self.api_key else "offline"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise InputError(settings_problem(exc)) from None


def settings_problem(exc: ValidationError) -> str:
    """One sentence naming each bad setting where a person sets it. The value itself is left out:
    it may be a key."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        name = str(error["loc"][0]) if error["loc"] else "settings"
        where = name if name.isupper() else f"BRIGHTRUN_{name.upper()} (or {name} in the secrets file)"
        problems.append(f"{where}: {error['msg']}")
    return "bad setting: " + "; ".join(problems)
