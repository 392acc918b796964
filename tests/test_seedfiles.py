"""Seed file parsing: the real console-era files as they are, broken files, and our own format."""

import json
import re
from pathlib import Path

import pytest

from brightrun_gen.domain.models import BrightRunFile, ConversationRecord, DatasetInfo, Dimensions, Turn
from brightrun_gen.domain.seedfiles import parse_seed_file, parse_seed_text
from brightrun_gen.errors import SeedFileError
from tests.support.paths import REAL_SEEDS

REAL_FILES = sorted(REAL_SEEDS.glob("*.json"))
FIRST_FILE = REAL_SEEDS / "c-alpha-build_v3.4-LoRA-FP-convo-01-complete.json"
JENNIFER_FILE = REAL_SEEDS / "c-alpha-build_v3.4-LoRA-FP-convo-07-complete.json"


def raw_pairs(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["training_pairs"]


def write(tmp_path: Path, name: str, document) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def seed_error(path: Path) -> SeedFileError:
    with pytest.raises(SeedFileError) as caught:
        parse_seed_file(path)
    assert str(caught.value).startswith(path.name + ": ")
    return caught.value


# --- the real console-era files --------------------------------------------------------------


def test_the_real_seed_files_are_there():
    assert len(REAL_FILES) == 8, f"expected 8 seed files in {REAL_SEEDS}"


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_real_file_rebuilds_turns_in_turn_number_order(path):
    pairs = sorted(raw_pairs(path), key=lambda pair: pair["turn_number"])
    [record] = parse_seed_file(path)

    assert record.key == pairs[0]["conversation_id"]
    assert record.source == "seed"
    assert [turn.role for turn in record.turns] == ["user", "assistant"] * len(pairs)
    assert [turn.content for turn in record.turns[0::2]] == [p["current_user_input"] for p in pairs]
    assert [turn.content for turn in record.turns[1::2]] == [p["target_response"] for p in pairs]
    assert [p["turn_number"] for p in record.metadata["pairs"]] == [p["turn_number"] for p in pairs]


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_real_file_keeps_every_annotation(path):
    pairs = sorted(raw_pairs(path), key=lambda pair: pair["turn_number"])
    [record] = parse_seed_file(path)
    metadata = record.metadata

    assert metadata["format"] == "console"
    assert metadata["dataset_metadata"] == json.loads(path.read_text())["dataset_metadata"]
    assert metadata["consultant_profile"]["name"] == "Elena Morales, CFP"
    assert metadata["pairs"][0]["emotional_context"] == pairs[0]["emotional_context"]
    for kept, pair in zip(metadata["pairs"], pairs, strict=True):
        assert kept["response_strategy"] == pair["response_strategy"]
        left_out = {"current_user_input", "target_response", "conversation_history"}
        assert kept == {k: v for k, v in pair.items() if k not in left_out}
    json.dumps(metadata, allow_nan=False)


def test_real_files_total_31_pairs_and_62_turns():
    records = [record for path in REAL_FILES for record in parse_seed_file(path)]

    assert len(records) == 8
    assert sum(len(record.metadata["pairs"]) for record in records) == 31
    assert sum(len(record.turns) for record in records) == 62


def test_real_files_name_two_personas():
    records = [record for path in REAL_FILES for record in parse_seed_file(path)]

    assert {record.dimensions.persona for record in records} == {"marcus_thompson", "jennifer_park"}
    jennifer = next(r for r in records if r.dimensions.persona == "jennifer_park")
    assert jennifer.metadata["persona"]["name"] == "Jennifer Park"
    assert jennifer.metadata["persona"]["archetype"] == "The Anxious Planner"
    assert jennifer.metadata["persona_label"] == "Jennifer Park - The Anxious Planner"
    assert jennifer.metadata["persona"]["background"].startswith("42yo marketing director")


def test_dimensions_are_derived_from_the_annotations():
    [record] = parse_seed_file(FIRST_FILE)

    assert record.dimensions == Dimensions(
        tier=1,
        persona="marcus_thompson",
        emotion_start="overwhelm",
        emotion_end="empowerment",
        topic="stock_options_confusion_from_promotion",
        content_category="unspecified",
        topic_cluster="unspecified",
        intent="initial_trust_building_with_complex_topic",
        tone="warm_reassuring_with_educator_energy",
        outcome_type="reduce_overwhelm",
    )


@pytest.mark.parametrize(
    ("number", "topic", "emotion_end"),
    [
        ("02", "emergency_fund_paralysis", "empowerment"),
        ("03", "inheritance_guilt", "empowerment"),
        ("04", "home_buying_fear", "lasting_confidence"),
        ("06", "investment_paralysis_post_divorce", "empowered_hope"),
    ],
)
def test_topic_drops_asides_and_emotion_end_is_the_last_target(number, topic, emotion_end):
    path = REAL_SEEDS / f"c-alpha-build_v3.4-LoRA-FP-convo-{number}-complete.json"
    [record] = parse_seed_file(path)

    assert (record.dimensions.topic, record.dimensions.emotion_end) == (topic, emotion_end)


def test_emotion_end_falls_back_to_the_last_primary_emotion(tmp_path):
    document = json.loads(FIRST_FILE.read_text())
    document["training_pairs"][-1]["training_metadata"]["emotional_progression_target"] = "calmer"

    [record] = parse_seed_file(write(tmp_path, "no-arrow.json", document))

    assert record.dimensions.emotion_end == "relief"


def test_pairs_out_of_order_and_several_conversations_in_one_file(tmp_path):
    first = json.loads(FIRST_FILE.read_text())
    second = json.loads(JENNIFER_FILE.read_text())
    twins = zip(first["training_pairs"], second["training_pairs"])
    mixed = [pair for two in twins for pair in two]
    first["training_pairs"] = list(reversed(mixed))

    jennifer, marcus = parse_seed_file(write(tmp_path, "mixed.json", first))

    assert (jennifer.key, marcus.key) == ("fp_jennifer_002", "fp_marcus_002")
    assert [p["turn_number"] for p in marcus.metadata["pairs"]] == [1, 2, 3]
    assert marcus.turns[0].content == raw_pairs(FIRST_FILE)[0]["current_user_input"]
    assert jennifer.dimensions.persona == "jennifer_park"
    # The notes name fp_marcus_002 only, so the other conversation gets no topic from them.
    assert (marcus.dimensions.topic, jennifer.dimensions.topic) == (
        "stock_options_confusion_from_promotion",
        "unspecified",
    )


def test_a_declared_tier_and_dimension_win(tmp_path):
    document = json.loads(FIRST_FILE.read_text())
    document["dataset_metadata"]["tier"] = 2
    document["training_pairs"][0]["conversation_metadata"]["topic_cluster"] = "equity_pay"

    [record] = parse_seed_file(write(tmp_path, "declared.json", document))

    assert (record.dimensions.tier, record.dimensions.topic_cluster) == (2, "equity_pay")


# --- broken files ----------------------------------------------------------------------------


def test_truncated_json_names_line_and_column(tmp_path):
    text = FIRST_FILE.read_text(encoding="utf-8")
    path = tmp_path / "convo-01-truncated.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")

    error = seed_error(path)

    assert re.fullmatch(r"line \d+, column \d+", error.where)
    assert re.search(r"convo-01-truncated\.json: line \d+, column \d+: \S", str(error))


def test_unquoted_token_names_line_and_column(tmp_path):
    path = tmp_path / "unquoted.json"
    path.write_text('{"training_pairs": [ {"id": abc} ]}', encoding="utf-8")

    assert str(seed_error(path)) == "unquoted.json: line 1, column 29: Expecting value"


def test_invalid_utf8_names_the_byte(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"training_pairs": "caf'.encode() + b"\xe9" + b'"}')

    error = seed_error(path)

    assert error.where == "byte 23"
    assert "latin1.json: byte 23: not UTF-8" in str(error)


def test_a_top_level_list_is_refused(tmp_path):
    error = seed_error(write(tmp_path, "list.json", [{"training_pairs": []}]))

    assert error.where == "top level"
    assert "got list" in str(error)


def test_missing_training_pairs(tmp_path):
    error = seed_error(write(tmp_path, "no-pairs.json", {"dataset_metadata": {}}))

    assert str(error) == "no-pairs.json: training_pairs: missing: expected a list of training pairs"


def test_empty_training_pairs(tmp_path):
    error = seed_error(write(tmp_path, "empty.json", {"training_pairs": []}))

    assert str(error) == "empty.json: training_pairs: empty: the file holds no training pairs"


@pytest.mark.parametrize(
    ("index", "key", "value", "message"),
    [
        (0, "turn_number", "one", "turn_number: expected an integer, got string"),
        (2, "current_user_input", 42, "current_user_input: expected a string, got int"),
        (1, "target_response", "  ", "target_response: empty"),
        (1, "conversation_id", None, "conversation_id: expected a string, got null"),
        (0, "emotional_context", [], "emotional_context: expected an object, got list"),
    ],
)
def test_wrong_field_names_its_path(tmp_path, index, key, value, message):
    document = json.loads(FIRST_FILE.read_text())
    document["training_pairs"][index][key] = value

    error = seed_error(write(tmp_path, "convo-01.json", document))

    assert str(error) == f"convo-01.json: training_pairs[{index}].{message}"


def test_a_missing_required_field_names_its_path(tmp_path):
    document = json.loads(FIRST_FILE.read_text())
    del document["training_pairs"][1]["target_response"]

    error = seed_error(write(tmp_path, "convo-01.json", document))

    assert error.where == "training_pairs[1].target_response"
    assert error.reason == "missing: expected a string"


def test_nested_annotation_of_the_wrong_type_names_its_path(tmp_path):
    document = json.loads(FIRST_FILE.read_text())
    document["training_pairs"][0]["emotional_context"]["detected_emotions"]["primary"] = 3

    error = seed_error(write(tmp_path, "convo-01.json", document))

    assert error.where == "training_pairs[0].emotional_context.detected_emotions.primary"
    assert error.reason == "expected a string, got int"


def test_duplicate_turn_number(tmp_path):
    document = json.loads(FIRST_FILE.read_text())
    document["training_pairs"][2]["turn_number"] = 2

    error = seed_error(write(tmp_path, "dup.json", document))

    assert error.where == "training_pairs[2].turn_number"
    assert error.reason == (
        "duplicate: turn 2 of conversation fp_marcus_002 is already training_pairs[1]"
    )


def test_a_pair_that_is_not_an_object(tmp_path):
    error = seed_error(write(tmp_path, "strings.json", {"training_pairs": ["hello"]}))

    assert str(error) == "strings.json: training_pairs[0]: expected an object, got string"


def test_a_conversation_without_a_client(tmp_path):
    document = json.loads(FIRST_FILE.read_text())
    for pair in document["training_pairs"]:
        del pair["conversation_metadata"]["client_persona"]

    error = seed_error(write(tmp_path, "anon.json", document))

    assert error.where == "training_pairs[0].conversation_metadata.client_persona"
    assert error.reason.startswith("missing")


def test_nan_is_refused(tmp_path):
    path = tmp_path / "nan.json"
    path.write_text('{"training_pairs": [{"turn_number": NaN}]}', encoding="utf-8")

    assert "NaN is not valid JSON" in str(seed_error(path))


def test_an_unknown_format(tmp_path):
    error = seed_error(write(tmp_path, "other.json", {"format": "sharegpt"}))

    assert error.where == "format"
    assert "'sharegpt'" in error.reason


def test_a_missing_file_is_named(tmp_path):
    error = seed_error(tmp_path / "nowhere.json")

    assert error.reason.startswith("cannot be read")


# --- our own format --------------------------------------------------------------------------


def brightrun_file() -> BrightRunFile:
    dimensions = Dimensions(
        tier=1,
        persona="david_chen",
        emotion_start="anxiety",
        emotion_end="relief",
        topic="roth_conversion",
        content_category="retirement",
        topic_cluster="tax",
        intent="learn",
        tone="warm",
        outcome_type="clarity",
        arc="anxiety_to_relief",
    )
    conversation = ConversationRecord(
        key="seed-001",
        dimensions=dimensions,
        turns=[
            Turn(role="user", content="Should I convert my IRA this year?"),
            Turn(role="assistant", content="Let's look at your bracket first."),
        ],
        metadata={"note": "hand written"},
    )
    return BrightRunFile(
        format="brightrun",
        version=1,
        dataset=DatasetInfo(name="seeds"),
        conversations=[conversation],
    )


def test_our_format_round_trips(tmp_path):
    original = brightrun_file()
    path = tmp_path / "seeds.brightrun.json"
    path.write_text(original.model_dump_json(indent=2), encoding="utf-8")

    assert parse_seed_file(path) == list(original.conversations)


def test_our_format_bad_role_names_the_field_path(tmp_path):
    document = brightrun_file().model_dump(mode="json")
    document["conversations"][0]["turns"][1]["role"] = "advisor"

    error = seed_error(write(tmp_path, "seeds.json", document))

    assert error.where == "conversations[0].turns[1].role"
    assert "seeds.json: conversations[0].turns[1].role: Input should be" in str(error)
    assert "'advisor'" in error.reason


def test_parse_seed_text_uses_the_name_given():
    expected = r"^pasted text: line 1, column 1: Expecting value$"
    with pytest.raises(SeedFileError, match=expected):
        parse_seed_text("", "pasted text")
