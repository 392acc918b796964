"""The review, export, catalog and activity pages, run with Streamlit's AppTest on a real SQLite store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from brightrun_gen.config import get_settings
from brightrun_gen.services import review
from brightrun_gen.services.browse import conversation_detail
from brightrun_gen.services.importing import import_file
from tests.support.apptest import open_page, unescaped

SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def store(page_store):
    return page_store


def hostile_file(tmp_path: Path, persona: str) -> Path:
    """A conversation file whose text and annotations try to smuggle HTML into the page."""
    dims = {"tier": 1, "persona": persona, "emotion_start": "anxiety", "emotion_end": "relief",
            "topic": "emergency_fund", "content_category": "Budgeting & Cash Flow", "topic_cluster": "Foundations",
            "intent": "seek_education", "tone": "warm_supportive", "outcome_type": "action_plan", "arc": "triumph"}
    turns = [{"role": "user", "content": f"Hi Elena {SCRIPT} I am worried about my **emergency fund**."},
             {"role": "assistant", "content": f"Thank you for telling me. {IMAGE} Let's plan one next step."}]
    document = {"format": "brightrun", "version": 1, "dataset": {"name": "hostile"},
                "conversations": [{"key": "hostile_01", "source": "seed", "dimensions": dims, "turns": turns,
                                   "metadata": {"title": IMAGE}}]}
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def heading(at: AppTest) -> str:
    return unescaped(at.subheader[0].value)


def markdown_values(at: AppTest) -> list:
    """Every element whose text Streamlit renders as Markdown."""
    return [*at.markdown, *at.caption, *at.subheader, *at.info, *at.warning, *at.error, *at.toast]


def test_review_page_shows_the_conversation_as_chat(store):
    detail = conversation_detail(store, 1)
    at = open_page("review", id="1")
    assert len(at.chat_message) == len(detail.turns)
    assert [m.name for m in at.chat_message][:2] == ["user", "assistant"]
    assert at.text[0].value == detail.turns[0].content
    assert at.get("plotly_chart"), "the quality breakdown chart is missing"


def test_review_page_accepts_a_key_in_the_url(store):
    at = open_page("review", id="T1-002")
    assert heading(at).startswith("T1-002 · ")


def test_approve_changes_the_status_and_says_so(store):
    at = open_page("review", id="1")
    at.text_area(key="notes_1").input("Warm and specific.")
    at.button(key="decide_approved").click().run()
    assert not at.exception
    assert [t.value for t in at.toast] == ["Approved: T1\\-001"]
    row = conversation_detail(store, 1).row
    assert (row.status, row.reviewer_notes) == ("approved", "Warm and specific.")
    [event] = review.history(store, 1)
    assert (event["action"], event["reviewer"], event["notes"]) == ("approved", get_settings().reviewer, "Warm and specific.")


def test_review_queue_walks_unreviewed_conversations(store):
    at = open_page("review")
    assert heading(at).startswith("T1-001 · ")
    at.toggle(key="review_advance").set_value(True)
    at.button(key="decide_rejected").click().run()
    assert heading(at).startswith("T1-002 · ")
    assert conversation_detail(store, 1).row.status == "rejected"


def test_a_decision_stays_on_the_conversation_when_the_page_was_opened_without_an_id(store):
    at = open_page("review")
    assert heading(at).startswith("T1-001 · ") and at.query_params["id"] == "1"  # pinned in the URL
    at.button(key="decide_approved").click().run()
    assert heading(at).startswith("T1-001 · ")  # T1-002 is the next unreviewed now, but nobody asked to move
    assert conversation_detail(store, 1).row.status == "approved"


def test_previous_next_and_the_picker_move_between_conversations(store):
    at = open_page("review", id="1")
    at.button(key="review_next").click().run()
    assert heading(at).startswith("T1-002 · ")
    at.button(key="review_previous").click().run()
    assert heading(at).startswith("T1-001 · ")
    at.selectbox(key="review_pick").select(91).run()
    assert heading(at).startswith("seed_01 · ")
    assert at.query_params["id"] == "91"


def test_a_conversation_without_text_cannot_be_reviewed(store):
    at = open_page("review", id="5")
    assert any("no text to review" in unescaped(i.value) for i in at.info)
    assert at.button(key="decide_approved").disabled


def test_an_unknown_conversation_is_a_clear_error(store):
    at = open_page("review", id=IMAGE)
    assert "There is no conversation" in at.error[0].value and "pick one from the list" in at.error[0].value
    assert "brightrun" not in at.error[0].value  # a page never sends its user to the command line
    assert IMAGE not in at.error[0].value  # shown escaped, as text


def test_hostile_text_is_shown_as_literal_text(store, tmp_path):
    persona = conversation_detail(store, 1).row.dimensions.persona
    assert import_file(store, hostile_file(tmp_path, persona)).outcome == "imported"
    at = open_page("review", id="hostile_01")
    texts = [t.value for t in at.text]
    assert any(SCRIPT in t for t in texts) and any(IMAGE in t for t in texts)
    for element in markdown_values(at):
        assert not getattr(element, "allow_html", False)
        assert not re.search(r"(?<!\\)<(script|img)", element.value), element.value
    assert not at.get("html")


def test_catalog_search_filters_rows(store):
    at = open_page("catalog")
    personas = at.dataframe[0].value
    assert len(personas) > 1
    at.text_input(key="catalog_search").input("Priya").run()
    filtered = at.dataframe[0].value
    assert len(filtered) == 1 and filtered.iloc[0]["name"] == "Priya Nair"


def test_catalog_shows_seed_conversations_with_annotations(store):
    at = open_page("catalog")
    assert at.chat_message, "the first seed conversation is shown"
    assert at.json, "its annotations are shown"


def test_activity_page_renders_every_chart(store):
    at = open_page("activity")
    assert len(at.get("plotly_chart")) >= 5
    at.multiselect(key="log_outcomes").set_value(["ok"]).run()
    at.text_input(key="log_key").input("T1-001").run()
    assert not at.exception
    assert set(at.dataframe[-1].value["conversation"]) == {"T1-001"}  # its generation and its judge


def test_export_page_counts_previews_and_downloads(store):
    review.review(store, "seed_01", "approve", "tester")
    review.review(store, 1, "approve", "tester")
    at = open_page("export")
    assert at.metric[0].value == "1"
    assert any("1 conversation with this status was written by the offline generator" in i.value for i in at.info)
    assert at.json, "the preview shows the first records"
    next(b for b in at.button if b.label == "Include them anyway").click().run()  # the switch, right there
    assert at.metric[0].value == "2"
    assert any("1 of these was written by the offline generator" in w.value for w in at.warning)
    next(b for b in at.button if b.label == "Build the export file").click().run()
    assert not at.exception
    assert at.get("download_button"), "the file can be downloaded"
    assert "Export ready" in at.toast[0].value


def test_review_page_shows_each_turns_annotations_and_labels_offline_ones(store):
    detail = conversation_detail(store, 1)
    at = open_page("review", id="1")
    captions = [unescaped(c.value) for c in at.caption]
    emotion = detail.turns[0].annotation["emotion"]
    assert any(f"emotion **{emotion}**" in c and "offline placeholder" in c for c in captions), captions
    assert any(f"strategy: {detail.turns[1].annotation['strategy']}" in c for c in captions)


def test_catalog_search_counts_matches_per_tab_and_templates_can_be_switched(store):
    at = open_page("catalog")
    at.text_input(key="catalog_search").input("Priya").run()
    titles = [tab.label for tab in at.tabs]
    assert "Personas (1)" in titles and any(t.startswith("Seed conversations (") for t in titles)
    at.text_input(key="catalog_search").input("").run()
    assert "Personas" in [tab.label for tab in at.tabs]
    versions = next(d.value for d in at.dataframe if "share" in d.value.columns)
    assert {"name", "tier", "version", "active", "share", "conversations", "hash"} <= set(versions.columns)
    at.button(key="template_off").click().run()  # the only active version of its tier
    assert "needs one active version" in at.error[0].value


def test_export_hides_the_system_prompt_option_for_csv(store):
    review.review(store, 1, "approve", "tester")
    at = open_page("export")
    assert any(c.label.startswith("Start each conversation with Elena") for c in at.checkbox)
    at.selectbox[0].select("csv").run()
    assert not any(c.label.startswith("Start each conversation with Elena") for c in at.checkbox)
    assert not at.exception
