"""Near-duplicates across the store on SQLite and PostgreSQL: the index, pairs, twins, the export.

Conversations come in the way users bring them: `brightrun init`'s seeds, the importer for
files (a light rewrite of a seed is a file like any other), generation with the offline
provider, whose conversations are built from a handful of templates and so repeat each other.
(That two writers indexing one version at once is harmless is the store's own test, in test_store.py.)
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from brightrun_gen.domain import similarity
from brightrun_gen.domain.models import Turn
from brightrun_gen.errors import InputError
from tests.support.conversation_files import conversation_file, light_rewrite, seed_01_turns
from tests.support.paths import REAL_SEEDS, REPO
from tests.support.store_state import table_counts
from tests.support.twins import generate_twins


def imported(app, tmp_path, key: str, turns: list[dict], source: str = "import") -> None:
    [result] = app.conversations.import_files([conversation_file(tmp_path, key, turns, source)])
    assert result.outcome == "imported", result.line()


# --- the measure itself --------------------------------------------------------------------------


def test_a_light_rewrite_is_close_and_an_unrelated_conversation_is_not():
    original = [turn["content"] for turn in seed_01_turns()]
    rewrite = [turn["content"] for turn in light_rewrite(seed_01_turns())]
    other = json.loads((REPO / "seeds" / "conversations" / "seed_04_priya_index_funds.json").read_text())
    unrelated = [turn["content"] for turn in other["conversations"][0]["turns"]]
    a, b, c = (similarity.signature(texts) for texts in (original, rewrite, unrelated))
    assert similarity.similarities(a, b)[0] >= 0.8
    assert similarity.similarities(a, c)[0] < 0.1
    assert similarity.similarities(a, a)[0] == 1.0


def test_pairs_found_are_exactly_those_at_or_over_the_threshold():
    """LSH finds candidates; every pair over the threshold is found and none under it is listed."""
    base = [turn["content"] for turn in seed_01_turns()]
    rows = [similarity.signature(base)]
    rng = random.Random(3)
    for changed in range(1, 40):  # more and more words changed: a spread of similarities
        texts = [" ".join("x%d" % rng.randrange(10**6) if rng.random() < changed / 400 else w for w in text.split())
                 for text in base]
        rows.append(similarity.signature(texts))
    matrix = np.vstack(rows)
    every = {(i, j): float((matrix[i] == matrix[j]).mean()) for i in range(len(rows)) for j in range(i + 1, len(rows))}
    for threshold in (0.7, 0.8, 0.9):
        expected = {pair for pair, value in every.items() if value >= threshold}
        found = {(i, j): value for i, j, value in similarity.similar_pairs(matrix, threshold)}
        assert set(found) == expected, threshold
        assert all(abs(found[pair] - every[pair]) < 1e-9 for pair in found)
    assert 30 < len({p for p, v in every.items() if v >= 0.7}) < len(every)  # the spread reaches both sides


@pytest.mark.parametrize("threshold", [0.3, 1.5])
def test_thresholds_outside_the_measures_range_are_refused(threshold):
    with pytest.raises(ValueError, match="out of range"):
        similarity.similar_pairs(np.zeros((2, similarity.NUM_PERM), dtype=np.uint32), threshold)


def test_the_mean_pairwise_similarity_is_the_mean_over_every_pair():
    rng = np.random.default_rng(5)
    matrix = rng.integers(0, 4, size=(30, similarity.NUM_PERM), dtype=np.uint32)
    pairs = [float((matrix[i] == matrix[j]).mean()) for i in range(30) for j in range(i + 1, 30)]
    assert similarity.mean_pairwise_similarity(matrix) == pytest.approx(sum(pairs) / len(pairs))
    assert similarity.mean_pairwise_similarity(matrix[:1]) is None


# --- the dataset on a store ---------------------------------------------------------------------


def test_init_indexes_every_seed_and_no_two_of_our_seeds_pair(app):
    assert app.dataset.refresh_index() == 0  # the import indexed them already
    counts = table_counts(app.engine)
    assert counts["conversation_signatures"] == 10 and counts["signature_bands"] == 10 * similarity.BANDS
    assert app.dataset.near_duplicates(0.5) == []
    assert app.dataset.near_duplicates(0.5, "turns") == []


def test_the_real_seeds_do_not_pair_with_each_other_or_with_ours(app):
    results = app.conversations.import_files([REAL_SEEDS])
    assert sum(r.outcome == "imported" for r in results) == 8
    assert app.dataset.near_duplicates(0.5) == []


def test_a_light_rewrite_pairs_with_its_original_at_both_scopes(app, tmp_path):
    imported(app, tmp_path, "retouched_01", light_rewrite(seed_01_turns()))
    [pair] = app.dataset.near_duplicates(0.8)
    assert (pair.a, pair.b, pair.scope) == ("seed_01", "retouched_01", "conversations")  # the seed came first
    assert 0.8 <= pair.similarity < 1.0
    assert not pair.a_offline and not pair.b_offline
    turns = app.dataset.near_duplicates(0.8, "turns")
    assert len(turns) >= 13  # 16 turns, 3 retouched, the short ones not compared
    assert {(p.a, p.b) for p in turns} == {("seed_01", "retouched_01")}
    assert all(p.a_turn == p.b_turn for p in turns)
    assert [p.similarity for p in turns] == sorted((p.similarity for p in turns), reverse=True)
    twins = app.dataset.twins("retouched_01")
    assert [(m.key, m.seed) for m in twins.matches] == [("seed_01", True)]


def test_pairs_below_the_threshold_are_not_listed(app, tmp_path):
    imported(app, tmp_path, "retouched_01", light_rewrite(seed_01_turns()))
    [pair] = app.dataset.near_duplicates(0.8)
    assert app.dataset.near_duplicates(min(pair.similarity + 0.01, 1.0)) == []
    with pytest.raises(InputError, match="out of range"):
        app.dataset.near_duplicates(0.2)
    with pytest.raises(InputError, match="scope"):
        app.dataset.near_duplicates(0.8, "paragraphs")


def test_generation_records_the_nearest_twin_with_the_new_version(app):
    generate_twins(app)
    assert app.dataset.refresh_index() == 0  # generation indexed both in the transaction that saved them
    twins = app.dataset.twins("T2-014")
    assert (twins.recorded_key, twins.recorded_similarity) == ("T1-003", 1.0)
    assert (twins.matches[0].key, twins.matches[0].offline) == ("T1-003", True)


def test_near_duplicate_gives_repair_a_finding_or_nothing(app):
    app.jobs.generate_now("T1-003")
    turns = [Turn(**turn) for turn in seed_01_turns()]
    finding = app.dataset.near_duplicate([Turn(**t) for t in light_rewrite(seed_01_turns())], threshold=0.8)
    assert finding.match.key == "seed_01" and "near-duplicate of seed_01" in finding.problem
    seed_01 = app.conversations.find_id("seed_01")
    assert app.dataset.near_duplicate(turns, threshold=0.8, conversation_id=seed_01) is None
    fresh = [Turn(role="user", content="A question about something else entirely, asked in my own words."),
             Turn(role="assistant", content="An answer that shares no run of five words with anything stored.")]
    assert app.dataset.near_duplicate(fresh, threshold=0.8) is None


# --- the export ------------------------------------------------------------------------------------


def test_the_export_leaves_the_later_twin_out_and_says_so(app, tmp_path):
    generate_twins(app)
    request = app.exports.request(format="openai", output=tmp_path / "out.jsonl", statuses=["generated"],
                                  include_offline=True, dedupe=0.8)
    assert app.exports.count(request) == 1
    result = app.exports.write(request)
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    assert manifest["dedupe"] == {"threshold": 0.8, "dropped": 1,
                                  "pairs": [{"dropped": "T2-014", "kept": "T1-003", "similarity": 1.0}]}
    assert manifest["conversations"] == 1 == manifest["diversity"]["conversations"]
    assert manifest["diversity"]["offline"] == 1
    without = app.exports.write(app.exports.request(format="openai", output=tmp_path / "all.jsonl",
                                                    statuses=["generated"], include_offline=True))
    assert without.conversations == 2 and without.dedupe is None
    assert json.loads(without.manifest_path.read_text())["diversity"]["near_duplicate_pairs"] == 1


def test_seeds_are_never_dropped_even_when_written_later(app, tmp_path):
    """A seed twin of a generated conversation stays; the generated one goes, though written first."""
    app.jobs.generate_now("T1-003")
    generated_text = [{"role": t.role, "content": t.content} for t in app.conversations.detail("T1-003").turns]
    imported(app, tmp_path, "seed_twin", generated_text, source="seed")
    imported(app, tmp_path, "seed_01_again", light_rewrite(seed_01_turns()), source="seed")
    request = app.exports.request(format="brightrun", output=tmp_path / "out.json", include_offline=True,
                                  ids=["seed_01", "T1-003", "seed_twin", "seed_01_again"], dedupe=0.8)
    result = app.exports.write(request)
    assert [(p["dropped"], p["kept"]) for p in result.dedupe["pairs"]] == [("T1-003", "seed_twin")]
    exported = json.loads(result.paths[0].read_text(encoding="utf-8"))["conversations"]
    assert [c["key"] for c in exported] == ["seed_01", "seed_twin", "seed_01_again"]  # both seeds of the seed pair stay


def test_an_export_without_near_duplicates_keeps_its_counts(app, tmp_path):
    request = app.exports.request(format="openai", output=tmp_path / "seeds.jsonl", statuses=["seed"], dedupe=0.8)
    result = app.exports.write(request)
    assert result.conversations == 10 and result.dedupe == {"threshold": 0.8, "dropped": 0, "pairs": []}
    with pytest.raises(InputError, match="out of range"):
        app.exports.count(app.exports.request(format="openai", output=tmp_path / "x.jsonl", statuses=["seed"],
                                              dedupe=0.1))
