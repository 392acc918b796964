"""A near-duplicate fails the judge's gate like any other check, when the setting asks for it."""

from __future__ import annotations

from brightrun_gen.brightrun import BrightRun
from brightrun_gen.config import Settings
from tests.support.fake_messages_api import default_conversation, request_text

KEY = "sk-ant-test-dedupe-repair"


def claude(fake, tmp_path, **overrides) -> Settings:
    return Settings(_env_file=None, anthropic_api_key=KEY, anthropic_base_url=fake.base_url, provider="anthropic",
                    request_timeout=5, sdk_max_retries=0, database_url=f"sqlite:///{tmp_path / 'unused.db'}",
                    **overrides)


def write_the_same_twice(app: BrightRun, fake) -> list:
    """Two rows answered with the very same conversation; the requests the second row made."""
    same = ("json", default_conversation("Marcus Thompson", "Emergency Fund"))
    first, second = [r.key for r in app.conversations.list(where={"tier": ["1"]})[:2]]
    fake.enqueue(same)
    assert app.jobs.generate_now(first).status == "generated"
    before = len(fake.requests_to("/v1/messages"))
    fake.enqueue(same)
    assert app.jobs.generate_now(second).status == "generated"
    return fake.requests_to("/v1/messages")[before:]


def test_with_the_setting_a_near_duplicate_is_repaired_and_told_why(db_url, fake, tmp_path):
    with BrightRun(claude(fake, tmp_path, repair_near_duplicates=True), database_url=db_url) as app:
        requests = write_the_same_twice(app, fake)
    repairs = [r for r in requests if "Repair request" in request_text(r.body)]
    assert len(repairs) == 1, [request_text(r.body)[-300:] for r in requests]
    assert "near-duplicate of T1-" in request_text(repairs[0].body)


def test_without_it_the_twin_is_only_flagged_with_the_version(db_url, fake, tmp_path):
    with BrightRun(claude(fake, tmp_path), database_url=db_url) as app:
        requests = write_the_same_twice(app, fake)
        second = app.conversations.list(where={"tier": ["1"]})[1].key
        twins = app.dataset.twins(second)
    assert not [r for r in requests if "Repair request" in request_text(r.body)]
    assert twins.recorded_key and twins.recorded_key.startswith("T1-")
