"""Settings and child-process environments that send generation to the local fake Messages API."""

from __future__ import annotations

from brightrun_gen.config import Settings
from tests.support.fake_messages_api import FakeMessagesAPI

FAKE_KEY = "sk-ant-test-runner-key"
# Short, so the items of a killed worker come back within a test.
LEASE_SECONDS = 3


def claude_settings(fake: FakeMessagesAPI, **overrides) -> Settings:
    """Settings of this process: the real SDK, pointed at `fake`.

    The content judge is off: these tests script the fake call by call, and a judge call would take
    a scripted answer meant for a generation (the judge's own tests turn it on)."""
    values = dict(_env_file=None, anthropic_api_key=FAKE_KEY, anthropic_base_url=fake.base_url,
                  provider="anthropic", request_timeout=10, sdk_max_retries=2, lease_seconds=float(LEASE_SECONDS),
                  judge=False)
    return Settings(**{**values, **overrides})


def claude_env(fake: FakeMessagesAPI) -> dict[str, str]:
    """The same choice for a child process (CLI, worker, Streamlit server), as environment variables."""
    return dict(ANTHROPIC_API_KEY=FAKE_KEY, ANTHROPIC_BASE_URL=fake.base_url, BRIGHTRUN_PROVIDER="anthropic",
                BRIGHTRUN_LEASE_SECONDS=str(LEASE_SECONDS), BRIGHTRUN_JUDGE="false")
