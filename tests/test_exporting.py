"""Exports on SQLite and PostgreSQL: real consumers load them, round trips lose nothing.

Conversations are written the way users write them, through the facade: a generation job against
the local fake Messages API (real SDK, real logs with tokens and cost), the importer for seed
files. The fake answers with exactly the turns a test scripts, tricky text included. Approval is
set in the store directly (tests/support/store_state.approve): the review service is tested on
its own, and its audit events would change the records these tests compare.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
from pathlib import Path

import pytest

from brightrun_gen.domain import exportformats as fmts
from brightrun_gen.domain.models import Advisor, Dimensions
from brightrun_gen.domain.stored import StoredTurn
from brightrun_gen.domain.seedfiles import parse_seed_file
from brightrun_gen.errors import InputError, NotFound
from tests.support.cli_process import run_cli as run
from tests.support.paths import REAL_SEEDS
from tests.support.store_state import approve, save_unchecked_approved_version

# The `datasets` JSON loader is local; never let it look for a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

CLAUDE_MODEL = "claude-sonnet-5-5"


def tricky_turns(n: int) -> list[tuple[str, str]]:
    """Eight turns full of what breaks naive writers: quotes, newlines, emoji, RTL, </script>."""
    return [
        ("user", f'#{n} She said "don\'t panic" about my 401(k) — but I\'m panicking. 😬💸 It\'s {n}0% of my pay.'),
        ("assistant", "It's okay to feel that.\nLine two, after a newline,\n\tthen a tab, a backslash \\ and </script><script>alert(1)</script>."),
        ("user", "שלום — my mother writes to me in Arabic: «مرحبا، كيف حالك؟» and I answer in English."),
        ("assistant", "Right-to-left text stays as written: مرحبا بك. A line separator\u2028and a paragraph separator\u2029end here."),
        ("user", "Curly ‘quotes’ and “doubles”, a lone \" and ' and a {brace} and [bracket], plus \r\nWindows line ends."),
        ("assistant", "Emoji with modifiers survive too: 👩🏽‍💼 👨‍👩‍👧. And CJK: 退休计划. Let's make a plan together."),
        ("user", "Okay. One more: \\u2028 written out literally, and a null-looking \\0, and 100% \"sure\"?"),
        ("assistant", f"Yes — you're ready, #{n}. Next step: raise your contribution to 6% this week. 🎉"),
    ]


@pytest.fixture
def settings(claude_writer):
    """The shared `app` writes with "Claude" at the fake (offline when a test asks for that provider)."""
    return claude_writer[1]


@pytest.fixture
def fake(claude_writer):
    return claude_writer[0]


def generate(app, fake, key: str, turns: list[tuple[str, str]]) -> None:
    fake.enqueue(("json", {"turns": [{"role": role, "content": text} for role, text in turns]}))
    result = app.jobs.generate_now(key)
    assert result.status == "generated", result.error


def planned(app, n: int) -> list:
    """The first `n` planned rows nobody has written yet."""
    return app.conversations.list(statuses=["not_generated"])[:n]


def export(app, **request):
    return app.exports.write(app.exports.request(**request))


@pytest.fixture
def approved(app, fake):
    """Three approved conversations written by 'Claude', with tricky text; one has notes."""
    rows = planned(app, 3)
    for i, row in enumerate(rows):
        generate(app, fake, row.key, tricky_turns(i))
        approve(app.engine, row.id, "Lovely pacing — \"keep\" this one." if i == 0 else None)
    return {row.key: tricky_turns(i) for i, row in enumerate(rows)}


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def load_with_datasets(path: Path, cache: Path):
    from datasets import load_dataset

    return load_dataset("json", data_files=str(path), split="train", cache_dir=str(cache))


# --- openai / sharegpt: loaded by a real consumer --------------------------------------------


def test_openai_export_loads_with_datasets_and_keeps_tricky_text(app, approved, tmp_path):
    result = export(app, format="openai", output=tmp_path / "out" / "chat.jsonl")
    path = tmp_path / "out" / "chat.jsonl"
    assert result.paths == [path] and result.conversations == 3 and result.turns == 24
    # One record a line even with U+2028/U+2029 in the text (escaped, so splitlines agrees).
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3
    ds = load_with_datasets(path, tmp_path / "hf")
    assert ds.column_names == ["messages"] and len(ds) == 3
    for record, turns in zip(ds, approved.values()):
        assert fmts.check_openai(record) is None
        system, *chat = record["messages"]
        assert system["role"] == "system" and "Elena Morales" in system["content"]
        assert [(m["role"], m["content"]) for m in chat] == turns


def test_sharegpt_export_loads_with_datasets_and_each_record_passes_the_schema(app, approved, tmp_path):
    path = tmp_path / "sharegpt.jsonl"
    export(app, format="sharegpt", output=path)
    ds = load_with_datasets(path, tmp_path / "hf")
    assert ds.column_names == ["conversations"] and len(ds) == 3
    for record, turns in zip(ds, approved.values()):
        assert fmts.check_sharegpt(record) is None
        froms = [m["from"] for m in record["conversations"]]
        assert froms == ["system"] + ["human", "gpt"] * 4
        assert [m["value"] for m in record["conversations"][1:]] == [text for _, text in turns]


def test_the_system_prompt_can_be_left_out(app, approved, tmp_path):
    path = tmp_path / "chat.jsonl"
    export(app, format="openai", output=path, include_system=False)
    for record in lines(path):
        assert record["messages"][0]["role"] == "user"
        assert fmts.check_openai(record) is None


# --- brightrun: the full record, re-importable without loss ----------------------------------


def conversations_text(path: Path) -> str:
    """The bytes of the conversation list: everything after the dataset header."""
    text = path.read_text(encoding="utf-8")
    return text[text.index('"conversations": ['):]


def test_brightrun_export_import_export_is_byte_identical(app, approved, second_app, tmp_path):
    first = tmp_path / "a" / "approved.json"
    export(app, format="brightrun", output=first)
    [imported] = second_app.conversations.import_files([first])
    assert imported.outcome == "imported" and imported.conversations == 3, imported.line()
    second = tmp_path / "b" / "approved.json"
    # The importer marks conversations 'generated' (to be reviewed in this store).
    export(second_app, format="brightrun", output=second, statuses=["generated"])
    assert conversations_text(second) == conversations_text(first)
    original = json.loads(first.read_text(encoding="utf-8"))
    again = json.loads(second.read_text(encoding="utf-8"))
    assert again["advisor"] == original["advisor"]
    record = original["conversations"][0]
    assert [(t["role"], t["content"]) for t in record["turns"]] == next(iter(approved.values()))
    facts = record["metadata"]
    assert facts["review"] == {"events": [], "notes": 'Lovely pacing — "keep" this one.', "status": "approved"}
    assert facts["generation"]["model"] == CLAUDE_MODEL and facts["generation"]["template_hash"]
    assert facts["generation"]["input_tokens"] > 0 and facts["generation"]["cost_usd"] > 0
    assert facts["quality"]["score"] > 0 and facts["quality"]["criteria"]


def test_console_seeds_survive_a_brightrun_round_trip(app, second_app, tmp_path):
    app.conversations.import_files([REAL_SEEDS])
    keys = [r.key for r in app.conversations.list(statuses=["seed"]) if r.key.startswith("fp_")]
    first, second = tmp_path / "a" / "console.json", tmp_path / "b" / "console.json"
    export(app, format="brightrun", output=first, ids=keys)
    assert second_app.conversations.import_files([first])[0].outcome == "imported"
    export(second_app, format="brightrun", output=second, ids=keys)
    assert conversations_text(second) == conversations_text(first)
    record = json.loads(first.read_text(encoding="utf-8"))["conversations"][0]
    assert record["metadata"]["pairs"][0]["emotional_context"]["detected_emotions"]["primary"] == "overwhelm"


# --- training pairs: the console-era shape ---------------------------------------------------


def test_training_pairs_keep_the_console_annotations_and_reimport(app, tmp_path):
    app.conversations.import_files([REAL_SEEDS])
    source = json.loads((REAL_SEEDS / "c-alpha-build_v3.4-LoRA-FP-convo-01-complete.json").read_text(encoding="utf-8"))
    path = tmp_path / "pairs.json"
    export(app, format="training-pairs", output=path, ids=["fp_marcus_002"])
    exported = json.loads(path.read_text(encoding="utf-8"))
    assert set(exported) == {"dataset_metadata", "consultant_profile", "training_pairs"}
    assert exported["dataset_metadata"]["total_conversations"] == 1
    assert exported["dataset_metadata"]["total_turns"] == 3
    for ours, theirs in zip(exported["training_pairs"], source["training_pairs"], strict=True):
        assert fmts.check_training_pair(ours) is None
        assert list(ours)[:3] == ["id", "conversation_id", "turn_number"]
        for key in ("id", "conversation_id", "turn_number", "system_prompt", "current_user_input",
                    "target_response", "emotional_context", "response_strategy",
                    "expected_user_response_patterns", "training_metadata"):
            assert ours[key] == theirs[key], key
        # Not word_choice_rationale: the store splits annotation keys at dots ("both...and") on import.
        assert [{k: v for k, v in s.items() if k != "word_choice_rationale"} for s in ours["response_breakdown"]["sentences"]] == \
            [{k: v for k, v in s.items() if k != "word_choice_rationale"} for s in theirs["response_breakdown"]["sentences"]]
    assert [len(p["conversation_history"]) for p in exported["training_pairs"]] == [0, 2, 4]
    [record] = parse_seed_file(path)
    detail = app.conversations.detail("fp_marcus_002")
    assert [t.content for t in record.turns] == [t.content for t in detail.turns]
    assert record.dimensions.model_dump(exclude={"arc", "scenario", "edge_case"}) == \
        detail.row.dimensions.model_dump(exclude={"arc", "scenario", "edge_case"})


def test_training_pairs_of_generated_conversations_carry_their_dimensions(app, approved, tmp_path):
    path = tmp_path / "pairs.json"
    export(app, format="training-pairs", output=path)
    pairs = json.loads(path.read_text(encoding="utf-8"))["training_pairs"]
    assert len(pairs) == 12 and all(fmts.check_training_pair(p) is None for p in pairs)
    records = {r.key: r for r in parse_seed_file(path)}
    for key, turns in approved.items():
        stored = app.conversations.detail(key).row.dimensions
        assert [(t.role, t.content) for t in records[key].turns] == turns
        assert records[key].dimensions.tier == stored.tier
        assert (records[key].dimensions.topic, records[key].dimensions.intent) == (stored.topic, stored.intent)
        assert (records[key].dimensions.emotion_start, records[key].dimensions.emotion_end) == \
            (stored.emotion_start, stored.emotion_end)


# --- csv -------------------------------------------------------------------------------------


def test_csv_has_one_row_per_conversation_with_dimensions_tokens_and_cost(app, approved, tmp_path):
    path = tmp_path / "meta.csv"
    export(app, format="csv", output=path)
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["key"] for r in rows] == list(approved)
    assert tuple(rows[0]) == fmts.CSV_COLUMNS
    first = rows[0]
    assert first["status"] == "approved" and first["model"] == CLAUDE_MODEL and first["turns"] == "8"
    assert int(first["input_tokens"]) > 0 and float(first["cost_usd"]) > 0
    assert first["reviewer_notes"] == 'Lovely pacing — "keep" this one.'
    assert float(first["quality_score"]) > 0 and first["persona"] and first["emotion_start"]


# --- selection -------------------------------------------------------------------------------


def test_offline_conversations_are_left_out_unless_asked(app, approved, tmp_path):
    offline = planned(app, 2)
    for row in offline:
        assert app.jobs.generate_now(row.key, provider="offline").model == "offline"
        approve(app.engine, row.id)
    default = export(app, format="openai", output=tmp_path / "a.jsonl")
    assert default.conversations == 3 and default.offline_excluded == 2 and default.offline_included == 0
    asked = export(app, format="openai", output=tmp_path / "b.jsonl", include_offline=True)
    assert asked.conversations == 5 and asked.offline_included == 2
    manifest = json.loads(asked.manifest_path.read_text(encoding="utf-8"))
    assert manifest["offline_included"] == 2 and manifest["counts"]["model"] == {CLAUDE_MODEL: 3, "offline": 2}


def test_selection_by_dimension_ids_and_status(app, approved, tmp_path):
    key = next(iter(approved))
    tier = app.conversations.detail(key).row.dimensions.tier
    persona = app.conversations.detail(key).row.dimensions.persona

    def count(**request) -> int:
        return app.exports.count(app.exports.request(format="csv", output="x.csv", **request))

    assert 1 <= count(where={"persona": [persona], "tier": [tier]}) <= 3
    assert count(ids=[key]) == 1
    assert count(statuses=["seed"]) == 10
    with pytest.raises(NotFound, match="'no_such_key' does not exist"):
        count(ids=["no_such_key"])
    with pytest.raises(InputError, match="nothing to export: no conversation matches status rejected"):
        export(app, format="csv", output=tmp_path / "x.csv", statuses=["rejected"])
    assert not (tmp_path / "x.csv").exists()


def test_preview_shows_the_first_records_as_written(app, approved):
    records = app.exports.preview(app.exports.request(format="training-pairs", output="x.json"), n=5)
    assert len(records) == 5 and all(fmts.check_training_pair(r) is None for r in records)
    [one] = app.exports.preview(app.exports.request(format="openai", output="x.jsonl", include_system=False), n=1)
    assert [m["content"] for m in one["messages"]] == [text for _, text in next(iter(approved.values()))]


# --- splits and manifest ---------------------------------------------------------------------


def test_split_is_deterministic_and_stratified_by_tier(app, tmp_path):
    app.conversations.import_files([REAL_SEEDS])
    request = dict(format="openai", statuses=["seed"], split=0.75, seed=7)
    one = export(app, output=tmp_path / "one" / "seeds.jsonl", **request)
    two = export(app, output=tmp_path / "two" / "seeds.jsonl", **request)
    assert [f.path.name for f in one.files] == ["seeds.train.jsonl", "seeds.val.jsonl"]
    assert [f.sha256 for f in one.files] == [f.sha256 for f in two.files]
    tiers = [r.dimensions.tier for r in app.conversations.list(statuses=["seed"])]
    expected_train = sum(int(tiers.count(t) * 0.75 + 0.5) for t in set(tiers))
    assert one.files[0].conversations == expected_train
    assert one.files[1].conversations == len(tiers) - expected_train
    other = export(app, output=tmp_path / "three" / "seeds.jsonl", **{**request, "seed": 8})
    assert other.files[0].sha256 != one.files[0].sha256


def test_manifest_records_filters_counts_and_file_hashes(app, approved, tmp_path):
    result = export(app, format="sharegpt", output=tmp_path / "s.jsonl", split=0.5, seed=3)
    manifest = json.loads((tmp_path / "s.manifest.json").read_text(encoding="utf-8"))
    assert result.manifest_path == tmp_path / "s.manifest.json"
    assert manifest["format"] == "sharegpt" and manifest["created_at"]
    assert manifest["filters"]["statuses"] == ["approved"] and manifest["split"]["seed"] == 3
    assert manifest["conversations"] == 3 and manifest["turns"] == 24
    assert sum(manifest["counts"]["tier"].values()) == 3 and manifest["counts"]["status"] == {"approved": 3}
    assert set(manifest["counts"]) >= set(Dimensions.model_fields)
    for entry in manifest["files"]:
        data = (tmp_path / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"]


# --- validation on the way out ---------------------------------------------------------------


@pytest.mark.parametrize("bad_turns, reason", [
    ([("assistant", "I start, which a trainer must not see."), ("user", "and the client answers")],
     "turn 1: expected role 'user', got 'assistant'"),
    ([("user", "A question about my IRA."), ("assistant", "   ")], "turn 2 (assistant): empty content"),
    ([("user", "A question."), ("assistant", "An answer."), ("user", "A question left hanging.")],
     "turn 3: the last turn must be 'assistant'"),
])
def test_an_invalid_conversation_fails_the_export_and_writes_nothing(app, approved, tmp_path, bad_turns, reason):
    row = planned(app, 1)[0]
    save_unchecked_approved_version(app.engine, row.id, bad_turns)  # no app path stores such turns
    target = tmp_path / "out" / "chat.jsonl"
    target.parent.mkdir()
    target.write_text("the previous export\n", encoding="utf-8")
    with pytest.raises(fmts.InvalidExportRecord) as caught:
        export(app, format="openai", output=target, split=0.5)
    assert f"conversation {row.key!r}" in str(caught.value) and reason in str(caught.value)
    assert "no file was written" in str(caught.value)
    assert [p.name for p in target.parent.iterdir()] == ["chat.jsonl"]
    assert target.read_text(encoding="utf-8") == "the previous export\n"


# --- the command line ------------------------------------------------------------------------


def test_cli_export_prints_counts_and_paths(db_url, approved, tmp_path):
    out = tmp_path / "cli" / "chat.jsonl"
    result = run("export", "--format", "openai", "--split", "0.5", "--seed", "1", "-o", str(out), db=db_url)
    assert result.returncode == 0, result.stderr
    assert "exported 3 conversation(s), 24 turns, as openai" in result.stdout
    assert str(out.with_name("chat.train.jsonl")) in result.stdout
    assert f"manifest: {out.with_name('chat.manifest.json')}" in result.stdout
    assert len(lines(out.with_name("chat.train.jsonl")) + lines(out.with_name("chat.val.jsonl"))) == 3


def test_cli_export_errors_are_one_line_without_traceback(db_url, tmp_path):
    bad_split = run("export", "-f", "openai", "--split", "1.5", "--status", "seed", "-o", str(tmp_path / "x.jsonl"), db=db_url)
    assert bad_split.returncode == 2 and "split ratio 1.5" in bad_split.stderr
    nothing = run("export", "-f", "csv", "--where", "tier=3", "-o", str(tmp_path / "x.csv"), db=db_url)
    assert nothing.returncode == 2 and "nothing to export" in nothing.stderr
    bad_where = run("export", "-f", "csv", "--where", "colour=blue", "-o", str(tmp_path / "x.csv"), db=db_url)
    assert bad_where.returncode == 2 and "unknown key 'colour'" in bad_where.stderr
    assert "Traceback" not in bad_split.stderr + nothing.stderr + bad_where.stderr


# --- pure parts ------------------------------------------------------------------------------


def test_split_assignment_is_stable_and_stratified():
    items = [(f"k{i:03d}", 1 + i % 3) for i in range(90)]
    first = fmts.assign_splits(items, 0.8, seed=42)
    assert first == fmts.assign_splits(list(reversed(items)), 0.8, seed=42)
    for tier in (1, 2, 3):
        assert sum(first[k] == "train" for k, t in items if t == tier) == 24
    assert first != fmts.assign_splits(items, 0.8, seed=43)
    for ratio in (0, 1, 1.5, float("nan")):
        with pytest.raises(InputError, match="between 0 and 1"):
            fmts.assign_splits(items, ratio, seed=1)


def test_checks_name_what_is_wrong():
    ok = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
                       {"role": "assistant", "content": "a"}]}
    assert fmts.check_openai(ok) is None
    system, user, assistant = ok["messages"]
    assert fmts.check_openai({"messages": [system, assistant, user, assistant]}).startswith(
        "messages[1]: expected role 'user', got 'assistant'")
    assert "got 1 turn(s)" in fmts.check_openai({"messages": [system, assistant]})
    assert "exactly the key" in fmts.check_openai({**ok, "id": 1})
    assert "empty text" in fmts.check_sharegpt({"conversations": [{"from": "human", "value": " "}, {"from": "gpt", "value": "a"}]})
    assert "system" in fmts.check_sharegpt({"conversations": [{"from": "human", "value": "u"}, {"from": "system", "value": "s"}]})
    assert fmts.check_training_pair({"id": "x"}) == "conversation_id: missing"
    assert fmts.check_brightrun({"key": "k", "dimensions": {}, "turns": []}) == "dimensions.tier: Field required"
    dims = {"tier": 1, **{name: "x" for name in ("persona", "emotion_start", "emotion_end", "topic",
                                                   "content_category", "topic_cluster", "intent", "tone", "outcome_type")}}
    flipped = [{"role": "assistant", "content": "a"}, {"role": "user", "content": "u"}]
    assert fmts.check_brightrun({"key": "k", "dimensions": dims, "turns": flipped}).startswith("turns[0]: expected role 'user'")


def test_advisor_system_prompt_speaks_from_the_profile():
    advisor = Advisor(name="Elena Morales, CFP", business="Pathways Financial Planning",
                      expertise="Fee-only planning", years_experience=15,
                      core_philosophy=["Money is emotional", "Progress over perfection."], tone="Warm and calm",
                      techniques=["Ask permission before teaching"], avoid=["Jargon without explanation"])
    prompt = fmts.advisor_system_prompt(advisor)
    assert prompt.startswith("You are Elena Morales, CFP of Pathways Financial Planning, with 15 years")
    assert "(1) Money is emotional. (2) Progress over perfection." in prompt
    assert "Your tone: warm and calm." in prompt and "Never: jargon without explanation." in prompt
    assert "\n" not in prompt


def test_the_pair_encoder_writes_exactly_what_json_dumps_writes():
    turns = tuple(StoredTurn(role, text, i) for i, (role, text) in enumerate(tricky_turns(3)))
    dims = Dimensions(tier=2, persona="marcus_thompson", emotion_start="shame", emotion_end="relief",
                      topic="debt", content_category="Debt", topic_cluster="Foundations", intent="seek_help",
                      tone="warm", outcome_type="action_plan", scenario="sc_01")
    annotated = [{"id": f"p{i}", "emotional_context": {"score": 0.5, "flags": [True, None, 3]},
                  "response_breakdown": {"1": "a", 2: "non-string key"}} for i in range(2)]
    conv = fmts.ExportConversation(
        id=1, key="k1", source="plan", status="approved", dimensions=dims, turns=turns,
        metadata={"pairs": annotated}, quality=None, quality_score=None, reviewer_notes="n",
        generation=fmts.Generation(version=1))
    context = fmts.ExportContext(advisor=None, persona_labels={"marcus_thompson": "Marcus - Avoider"})
    for metadata in ({"pairs": annotated}, {}):
        records = fmts.training_pair_records(dataclasses.replace(conv, metadata=metadata), context)
        expected = [json.dumps(r, ensure_ascii=False, allow_nan=False).encode() for r in records]
        assert fmts.encode_training_pairs(records) == expected
