"""Phrase statistics and diversity figures: counted on fixtures where the answer is known by hand."""

from __future__ import annotations

import json
import random

import pytest

from brightrun_gen.domain.diversity import Spread, distinct_n
from brightrun_gen.domain.ngrams import TextConversation, TextTurn, words
from brightrun_gen.domain.phrases import count_phrases, over_share, with_examples
from tests.support.paths import REAL_SEEDS
from tests.support.twins import generate_twins
from tests.support.conversation_files import conversation_file

NAMES = ["Marcus", "Priya", "Linda", "Dana", "Omar"]
STOCK_OPENING = "I’m really glad you reached out, {name}."
PASSAGE = "picture two buckets one for safety and one for growth"  # 10 words


def conversation(n: int, opening: str, closing: str, middle: str = "", offline: bool = False) -> TextConversation:
    """Client, advisor, client, advisor; each conversation's own words keep the rest apart."""
    own = f"topic{n} detail{n} story{n} number{n}"
    turns = [TextTurn("user", f"Hello Elena, my question {own} is about saving."),
             TextTurn("assistant", f"{opening} {own} first?"),
             TextTurn("user", f"Sure, {own} again and {middle}."),
             TextTurn("assistant", f"{closing} {own} matters.")]
    return TextConversation(n, f"C{n}", offline, tuple(turns))


@pytest.fixture
def fixture() -> list[TextConversation]:
    """Five conversations, each phrase placed in a known number of them."""
    openings = [STOCK_OPENING.format(name=name) for name in NAMES[:3]] + ["Welcome.", "Hi there."]
    closings = ["You've got this, truly."] * 4 + ["Talk soon, friend."]
    middles = [PASSAGE] * 3 + ["and i want to be sure it is", "and i want to be sure it is"]
    return [conversation(n, openings[n], closings[n], middles[n], offline=n == 0) for n in range(5)]


def by_text(stats, role: str, position: str) -> dict[str, object]:
    return {p.text: p for p in stats.phrases if (p.role, p.position) == (role, position)}


def test_words_fold_case_apostrophes_and_names():
    assert words("I’m SAVING $12,000 — don't panic, Marcus!", frozenset({"marcus"})) == [
        "i'm", "saving", "12,000", "don't", "panic", "[name]"]


def test_a_stock_opening_counts_once_per_conversation_with_names_folded(fixture):
    stats = count_phrases(fixture, NAMES)
    opening = by_text(stats, "assistant", "opening")
    phrase = opening["i'm really glad you reached out [name]"]
    assert (phrase.conversations, phrase.share, phrase.offline) == (3, 0.6, 1)
    # its pieces are not listed beside it: the longer phrase is in as many conversations
    assert not any(text != phrase.text and text in phrase.text for text in opening)
    assert stats.per_role == {"assistant": 5, "user": 5}
    assert (stats.conversations, stats.offline) == (5, 1)


def test_a_closing_ritual_shows_in_the_closing_position(fixture):
    stats = count_phrases(fixture, NAMES)
    closing = by_text(stats, "assistant", "closing")
    assert closing["you've got this truly"].conversations == 4
    assert "you've got this" not in by_text(stats, "assistant", "opening")


def test_a_copied_sentence_is_one_passage_not_its_windows(fixture):
    user = by_text(count_phrases(fixture, NAMES), "user", "any")
    assert user[f"again and {PASSAGE}"].conversations == 3
    assert not [text for text in user if text != f"again and {PASSAGE}" and "buckets" in text]


def test_turns_that_open_with_the_clients_name_are_counted(fixture):
    named = conversation(9, "Marcus, hello.", "Priya: thank you, we are done.")
    stats = count_phrases([*fixture, named], NAMES)
    assert stats.name_openings == {"assistant": (2, 12), "user": (0, 12)}


def test_rare_phrases_and_function_words_are_left_out(fixture):
    stats = count_phrases(fixture, NAMES)
    texts = {p.text for p in stats.phrases}
    assert not [t for t in texts if "welcome" in t or "talk soon" in t]  # one conversation each
    assert "and i want to be sure it is" not in texts  # two conversations: under the minimum of 3
    assert not [t for t in texts if "hello elena my question" in t and "topic" in t]


def test_function_words_alone_are_not_a_habit():
    filler = "and i want to be here with you"
    convs = [conversation(n, f"{filler}.", "Done.", "") for n in range(4)]
    assert all(p.text != "and i want to" for p in count_phrases(convs).phrases)


def test_examples_name_the_first_conversations_and_quote_the_text(fixture):
    stats = count_phrases(fixture, NAMES)
    shown = with_examples([p for p in stats.phrases if p.position == "opening" and p.role == "assistant"],
                          fixture, NAMES)
    [phrase] = [p for p in shown if p.text.startswith("i'm really glad")]
    assert phrase.examples == ("C0", "C1", "C2")
    assert "I’m really glad you reached out, Marcus." in phrase.excerpt


def test_the_avoid_list_takes_habits_over_the_share_and_leaves_english_out(fixture):
    stats = count_phrases(fixture, NAMES)
    avoid = over_share(stats, 0.6, limit=20)
    assert "i'm really glad you reached out [name]" in avoid
    assert "you've got this truly" in avoid
    assert all(p.share >= 0.6 for p in stats.phrases if p.text in avoid)
    # "is about saving" is in every conversation, but three words with one that carries meaning are English
    assert over_share(stats, 0.9, limit=20) == ["hello elena my question"]
    assert len(over_share(stats, 0.6, limit=1)) == 1


def test_distinct_n_and_spreads_on_known_text():
    conv = TextConversation(1, "K", False, (TextTurn("user", "a b a b"), TextTurn("assistant", "c d")))
    found = distinct_n([conv])
    # bigrams: ab, ba, ab | cd -> 3 distinct of 4; trigrams: aba, bab -> 2 of 2
    assert (found.distinct_2, found.distinct_3, found.conversations) == (0.75, 1.0, 1)
    spread = Spread.of([10, 20, 30, 40, 1000])
    assert (spread.min, spread.median, spread.mean, spread.max) == (10, 30, 220.0, 1000)
    assert Spread.of([]) is None


# --- on the store ---------------------------------------------------------------------------------


def test_phrases_of_the_store_count_our_seeds(app):
    stats = app.dataset.phrases(role="assistant", top=5)
    assert stats.conversations == 10 and stats.offline == 0
    assert {p.role for p in stats.phrases} == {"assistant"}
    assert all(p.conversations >= 3 and p.examples and p.excerpt for p in stats.phrases)
    assert max(sum(1 for p in stats.phrases if p.position == pos) for pos in ("opening", "closing", "any")) <= 5


def test_the_avoid_list_leaves_the_offline_templates_out(app, tmp_path):
    for key in ("T1-001", "T1-002", "T1-004", "T1-005"):
        app.jobs.generate_now(key)
    offline_stats = app.dataset.phrases(role="user", position="opening")
    template = "when i look at the numbers i freeze"
    assert any(template in p.text and p.offline == 4 for p in offline_stats.phrases)
    assert not [p for p in app.dataset.avoid_phrases(share=0.2) if template in p]
    stock = "I have to admit that I keep coming back to the same worry about money"
    spoken = "Honestly my brother keeps telling me the whole thing is simple"
    rng = random.Random(2)
    for n in range(4):  # four conversations that share two stock sentences and nothing else
        own = [" ".join(f"w{rng.randrange(10**6)}" for _ in range(30)) for _ in range(4)]
        turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": text} for i, text in enumerate(own)]
        turns[0]["content"] = f"{spoken}. {turns[0]['content']}"
        turns[1]["content"] = f"{stock}. {turns[1]['content']}"
        app.conversations.import_files([conversation_file(tmp_path, f"stock_{n}", turns)])
    avoid = app.dataset.avoid_phrases(share=0.2)
    assert stock.lower() in avoid, avoid
    # The client's stock sentence is as common, but only the advisor's habits are the model's to unlearn.
    assert not [p for p in avoid if "my brother keeps" in p], avoid


def test_diversity_of_the_store_and_of_an_export_selection(app):
    assert app.dataset.threshold == 0.8  # the setting's default: pairs at 0.8 or more are near-duplicates
    figures = app.dataset.diversity()
    assert (figures.conversations, figures.offline, figures.near_duplicate_pairs) == (10, 0, 0)
    assert figures.turns.min >= 2 and sum(figures.turn_counts.values()) == 10
    assert 0 < figures.distinct.distinct_2 < figures.distinct.distinct_3 <= 1
    assert figures.mean_similarity < 0.05
    generate_twins(app)
    both = app.dataset.diversity(ids=[app.conversations.find_id("T1-003"), app.conversations.find_id("T2-014")])
    assert (both.conversations, both.offline, both.near_duplicate_pairs, both.mean_similarity) == (2, 2, 1, 1.0)
    assert app.dataset.diversity(include_offline=False).conversations == 10
    assert json.dumps(both.as_dict())  # what the manifest writes


def test_the_prompt_asks_to_avoid_the_datasets_stock_phrases_but_not_its_subject(app):
    app.conversations.import_files([REAL_SEEDS])
    prompt = app.conversations.prompt("T1-002")
    [line] = [line for line in prompt.request.splitlines() if line.startswith("Phrases to avoid (data): ")]
    phrases = json.loads(line.removeprefix("Phrases to avoid (data): "))
    assert "i love that you" in phrases  # the firm's advisor says it in most of its real conversations
    assert not [p for p in phrases if "emergency" in p or "401" in p]  # what conversations are about stays
    assert '"Phrases to avoid (data)"' in prompt.system  # the shared rules say what to do with it
