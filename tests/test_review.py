"""Review decisions, their audit trail and the review queue, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from brightrun_gen.config import get_settings
from brightrun_gen.domain.markdown import escape_markdown
from brightrun_gen.errors import InputError, NotFound
from brightrun_gen.services import review
from brightrun_gen.services.browse import conversation_detail
from brightrun_gen.services.generation import generate_one
from brightrun_gen.store import tables as t
from brightrun_gen.store.db import read, write
from brightrun_gen.store.tables import utcnow


def generated(store, settings, *ids: int) -> list[int]:
    for cid in ids:
        assert generate_one(store, cid, settings=settings).status == "generated"
    return list(ids)


def events(store) -> int:
    with read(store) as conn:
        return conn.scalar(select(func.count()).select_from(t.review_events))


@pytest.mark.parametrize("action, status", [("approve", "approved"), ("needs_edit", "needs_edit"),
                                            ("reject", "rejected"), ("Needs edit", "needs_edit")])
def test_a_decision_sets_status_notes_and_an_event(store, settings, action, status):
    [cid] = generated(store, settings, 3)
    row = review.review(store, cid, action, "Ana", "  Too long in turn 4.  ")
    assert (row.status, row.reviewer_notes) == (status, "Too long in turn 4.")
    assert conversation_detail(store, cid).row.status == status
    [event] = review.history(store, cid)
    assert (event["action"], event["reviewer"], event["notes"], event["version"]) == (
        status, "Ana", "Too long in turn 4.", row.current_version)
    assert event["at"] is not None


def test_history_is_oldest_first_and_accepts_a_key(store, settings):
    [cid] = generated(store, settings, 4)
    review.review(store, cid, "needs_edit", "Ana", "fix the close")
    review.review(store, cid, "approve", "Ben")
    key = conversation_detail(store, cid).row.key
    history = review.history(store, key)
    assert [(e["action"], e["reviewer"], e["notes"]) for e in history] == [
        ("needs_edit", "Ana", "fix the close"), ("approved", "Ben", None)]
    assert conversation_detail(store, cid).row.reviewer_notes is None


def test_seed_conversations_can_be_reviewed_and_the_reviewer_defaults(store):
    row = review.review(store, "seed_01", "approve")
    assert row.status == "approved"
    assert review.history(store, "seed_01")[0]["reviewer"] == get_settings().reviewer


def test_unknown_action_is_refused_and_nothing_changes(store, settings):
    [cid] = generated(store, settings, 5)
    with pytest.raises(InputError, match="review action 'publish' is unknown"):
        review.review(store, cid, "publish", "Ana")
    assert conversation_detail(store, cid).row.status == "generated"
    assert events(store) == 0


def test_a_conversation_without_turns_cannot_be_reviewed(store):
    row = conversation_detail(store, 6).row
    assert row.status == "not_generated"
    with pytest.raises(InputError, match=f"conversation {row.key} has no text to review"):
        review.review(store, 6, "approve", "Ana")
    assert conversation_detail(store, 6).row.status == "not_generated"
    assert events(store) == 0
    assert review.load(store, 6).problem is not None


def test_an_unknown_conversation_is_not_found(store):
    with pytest.raises(NotFound):
        review.review(store, "no-such-key", "approve", "Ana")


def test_status_and_event_are_written_in_one_transaction(store, settings, monkeypatch):
    [cid] = generated(store, settings, 7)

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(review.conv_store, "set_review", fail)
    with pytest.raises(RuntimeError):
        review.review(store, cid, "approve", "Ana", "ok")
    assert events(store) == 0, "the event was rolled back with the failed status update"
    assert conversation_detail(store, cid).row.status == "generated"


def test_the_same_decision_moments_later_is_recorded_once(store, settings):
    [cid] = generated(store, settings, 13)
    first = review.review(store, cid, "approve", "Ana", "ok")
    again = review.review(store, cid, "approve", "Ana", " ok ")
    assert again == first
    assert [(e["action"], e["reviewer"], e["notes"]) for e in review.history(store, cid)] == [("approved", "Ana", "ok")]


@pytest.mark.parametrize("action, reviewer, notes", [("reject", "Ana", "ok"), ("approve", "Ben", "ok"),
                                                     ("approve", "Ana", "better now"), ("approve", "Ana", None)],
                         ids=["decision", "reviewer", "notes", "no-notes"])
def test_a_different_decision_moments_later_is_recorded(store, settings, action, reviewer, notes):
    [cid] = generated(store, settings, 14)
    review.review(store, cid, "approve", "Ana", "ok")
    row = review.review(store, cid, action, reviewer, notes)
    assert (row.status, row.reviewer_notes) == (review.decision_for(action), notes)
    assert len(review.history(store, cid)) == 2


def test_the_same_decision_after_the_window_is_recorded_again(store, settings):
    [cid] = generated(store, settings, 15)
    review.review(store, cid, "approve", "Ana", "ok")
    earlier = utcnow() - timedelta(seconds=review.REPEAT_WINDOW_SECONDS + 1)
    with write(store) as conn:
        conn.execute(update(t.review_events).values(created_at=earlier))
    review.review(store, cid, "approve", "Ana", "ok")
    assert [e["action"] for e in review.history(store, cid)] == ["approved", "approved"]


def test_a_repeat_of_an_older_decision_after_another_one_is_recorded(store, settings):
    [cid] = generated(store, settings, 16)
    for action in ("approve", "reject", "approve"):
        review.review(store, cid, action, "Ana")
    assert [e["action"] for e in review.history(store, cid)] == ["approved", "rejected", "approved"]
    assert conversation_detail(store, cid).row.status == "approved"


def test_two_identical_decisions_at_once_record_one_event(store, settings):
    [cid] = generated(store, settings, 17)
    start = threading.Barrier(2)

    def decide():
        start.wait()
        return review.review(store, cid, "approve", "Ana", "ok")

    with ThreadPoolExecutor(max_workers=2) as pool:
        rows = [f.result(timeout=60) for f in [pool.submit(decide), pool.submit(decide)]]
    assert {(r.status, r.reviewer_notes) for r in rows} == {("approved", "ok")}
    assert len(review.history(store, cid)) == 1


def test_next_unreviewed_walks_the_queue(store, settings):
    first, second, third = generated(store, settings, 8, 9, 10)
    assert review.next_unreviewed(store) == first
    assert review.next_unreviewed(store, after_id=first) == second
    assert review.next_unreviewed(store, after_id=third) == first, "the queue wraps round"
    review.review(store, second, "approve", "Ana")
    assert review.next_unreviewed(store, after_id=first) == third
    review.review(store, first, "reject", "Ana")
    review.review(store, third, "needs_edit", "Ana")
    assert review.next_unreviewed(store) is None
    assert review.next_unreviewed(store, after_id=third) is None


def test_next_unreviewed_skips_the_current_one_when_it_is_the_only_one(store, settings):
    [only] = generated(store, settings, 11)
    assert review.next_unreviewed(store, after_id=only) is None
    assert review.unreviewed_count(store) == 1


def test_review_view_has_generation_facts_and_quality(store, settings):
    [cid] = generated(store, settings, 12)
    view = review.load(store, cid)
    assert view.reviewable and view.detail.turns
    assert view.generation["Attempts"] == 1 and view.generation["Template"].startswith("tier")
    assert view.generation["Written by"] == "offline"
    assert view.attempts[0]["outcome"] == "ok"
    assert isinstance(view.parameters.get("persona_profile"), dict), "JSON parameters are opened up"
    assert {c["name"] for c in view.detail.quality["criteria"]} >= {"turn_count", "no_meta_text"}


def test_markdown_literal_escapes_markup():
    assert escape_markdown("<script>alert(1)</script> **x**") == r"\<script\>alert\(1\)\</script\> \*\*x\*\*"
