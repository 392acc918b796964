"""brightrun-lora-v4: per-turn annotations at the source, the three export shapes checked with
`jsonschema` against the pipeline's schemas in ../shared/formats, imports of each shape, a
lossless round trip, and errors that name the JSON path. SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from brightrun_gen.brightrun import BrightRun
from brightrun_gen.domain.annotations import annotated_turns, turn_notes, with_scores
from brightrun_gen.domain.exportformats import lora_v4_schema
from brightrun_gen.domain.models import GeneratedConversation
from brightrun_gen.services import generation
from tests.support.cli_process import run_cli as run
from tests.support.paths import REPO
from tests.support.store_state import annotate_turn, approve, export_input

FORMATS_DIR = REPO.parent / "shared" / "formats"
FULL = json.loads((FORMATS_DIR / "lora-v4-full.schema.json").read_text(encoding="utf-8"))
INDIVIDUAL = json.loads((FORMATS_DIR / "lora-v4-individual.schema.json").read_text(encoding="utf-8"))
CHECK_FULL = Draft202012Validator(FULL, format_checker=FormatChecker())
CHECK_INDIVIDUAL = Draft202012Validator(INDIVIDUAL, format_checker=FormatChecker())
CHECK_PAIR = Draft202012Validator({**FULL["$defs"]["training_pair"], "$defs": FULL["$defs"]},
                                  format_checker=FormatChecker())
CHECK_FILE_METADATA = Draft202012Validator(FULL["properties"]["training_file_metadata"], format_checker=FormatChecker())
V4_FORMATS = ("lora-v4", "lora-v4-jsonl", "lora-v4-individual")

CLIENT = "I have been avoiding our credit card statements for months and I feel sick every time the mail comes. " * 2
ADVISOR = ("Thank you for telling me, that takes courage. Avoiding the mail is a very human way to cope with "
           "fear. Would it help if we opened one statement together and wrote down just the balance? ") * 2


def annotated_answer(turns: int = 8) -> dict:
    """What Claude answers with the annotated schema: every key, null where it does not apply."""
    body = []
    for i in range(turns):
        if i % 2 == 0:
            body.append({"role": "user", "content": f"{CLIENT} ({i})", "emotion": "overwhelm" if i < 4 else "hope",
                         "intensity": round(0.9 - 0.1 * i, 2), "confidence": 0.85, "strategy": None})
        else:
            body.append({"role": "assistant", "content": f"{ADVISOR} ({i})", "emotion": None, "intensity": None,
                         "confidence": None, "strategy": f"validate the fear, then step {i}"})
    return {"turns": body}


def plain_answer(turns: int = 8) -> dict:
    """An answer without annotations, as before them (or from an older version)."""
    return {"turns": [{"role": "user" if i % 2 == 0 else "assistant",
                       "content": f"{CLIENT if i % 2 == 0 else ADVISOR} ({i})"} for i in range(turns)]}


@pytest.fixture
def settings(claude_writer):
    """The shared `app` writes with "Claude" at the fake (offline when a test asks for that provider)."""
    return claude_writer[1]


def planned(app, n: int, **where) -> list:
    """The first `n` planned rows nobody has written yet, matching these dimensions."""
    return app.conversations.list(statuses=["not_generated"], where={k: [v] for k, v in where.items()})[:n]


def turns_of(app, conversation_id: int, version: int = 1) -> list:
    return app.conversations.detail(conversation_id, version).turns


@pytest.fixture
def annotated(app, db_url, claude_writer):
    """Two approved conversations: one annotated by 'Claude' and scored by the judge, one without."""
    fake, settings = claude_writer
    judged, plain = planned(app, 2, emotion_start="overwhelm")
    fake.enqueue(("json", annotated_answer()))
    assert app.jobs.generate_now(judged.key).status == "generated"
    approve(app.engine, judged.id)
    with BrightRun(settings.model_copy(update={"judge": False}), database_url=db_url) as unjudged:
        fake.enqueue(("json", plain_answer()))
        assert unjudged.jobs.generate_now(plain.key).status == "generated"
    approve(app.engine, plain.id)
    scores = {"empathy": 5, "clarity": 4, "appropriateness": 4.5, "brand_voice": 4}
    for position in (1, 3, 5, 7):
        annotate_turn(app.engine, judged.id, 1, position, lambda annotation: with_scores(annotation, scores))
    # the beat sheet's target for the client's second turn
    annotate_turn(app.engine, judged.id, 1, 2, lambda annotation: {**annotation, "target": "relief"})
    return [judged, plain]


def export_v4(app, fmt: str, path: Path, statuses=("approved",)) -> Path:
    result = app.exports.write(app.exports.request(format=fmt, output=path, statuses=list(statuses)))
    return result.files[0].path


def pairs_of(fmt: str, path: Path) -> list[dict]:
    """Every training pair a v4 file holds, after checking the file with jsonschema."""
    if fmt == "lora-v4":
        document = json.loads(path.read_text(encoding="utf-8"))
        assert not list(CHECK_FULL.iter_errors(document))
        return [pair for conv in document["conversations"] for pair in conv["training_pairs"]]
    if fmt == "lora-v4-jsonl":
        meta, *pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        assert not list(CHECK_FILE_METADATA.iter_errors(meta["_meta"]))
        assert meta["_meta"]["total_training_pairs"] == len(pairs)
        for pair in pairs:
            assert not list(CHECK_PAIR.iter_errors(pair))
        return pairs
    pairs = []
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            document = json.loads(archive.read(name))
            assert not list(CHECK_INDIVIDUAL.iter_errors(document)), name
            assert name == f"{document['dataset_metadata']['dataset_name']}.json"
            pairs += document["training_pairs"]
    return pairs


# --- annotations at the source ---------------------------------------------------------------


def test_the_schema_sent_to_claude_asks_for_every_annotation():
    schema = GeneratedConversation.model_json_schema()
    turn = schema["$defs"]["GeneratedTurn"]
    assert set(turn["required"]) == {"role", "content", "emotion", "intensity", "confidence", "strategy"}
    assert "catalog's emotion keys" in turn["properties"]["emotion"]["description"]
    # An answer from before annotations still validates; the text is what matters.
    assert GeneratedConversation.model_validate(plain_answer()).turns[0].emotion is None


def test_claude_annotations_are_stored_with_the_version_and_read_for_review(app, annotated):
    turns, plain = turns_of(app, annotated[0].id), turns_of(app, annotated[1].id)
    written = {k: v for k, v in turns[0].annotation.items() if k != "target"}
    assert written == {"source": "model", "emotion": "overwhelm", "intensity": 0.9, "confidence": 0.85}
    assert turns[1].annotation["strategy"] == "validate the fear, then step 1"
    notes = turn_notes(turns[1].annotation)
    assert notes.scores == {"empathy": 5.0, "clarity": 4.0, "appropriateness": 4.5, "brand_voice": 4.0}
    assert notes.source_label == "model"
    # Without the writer's annotations a turn keeps only what others said of it: the plan's target
    # emotion (client turns) and the judge's scores (advisor turns), never an invented reading.
    assert all(set(t.annotation) == {"source", "target"} and t.annotation["source"] == "plan" for t in plain[::2])
    assert all(t.annotation is None for t in plain[1::2])


def test_client_turns_keep_the_beat_sheets_target_emotion(app):
    row = planned(app, 1, tier=1)[0]
    assert app.jobs.generate_now(row.key, provider="offline").status == "generated"
    # The beat sheet's target per client turn is the generation service's plan for the row: no page
    # shows it, so it is read from the service that makes it.
    prepared = generation.prepare(app.engine, row.id, settings=app.settings)
    targets = [t.annotation["target"] for t in turns_of(app, row.id) if t.role == "user"]
    assert targets == list(prepared.targets)[:len(targets)] and len(set(targets)) > 1
    beats = app.catalog.entry("arcs", row.dimensions.arc)["beats"]
    assert targets[0] == beats[0]["client"] and targets[-1] == beats[-1]["client"]


def test_offline_annotations_are_placeholders_labelled_offline(app):
    row = planned(app, 1, emotion_start="panic")[0]
    assert app.jobs.generate_now(row.key, provider="offline").status == "generated"
    turns = turns_of(app, row.id)
    assert {t.annotation["source"] for t in turns} == {"offline"}
    assert turns[0].annotation["emotion"] == "panic" and turns[-2].annotation["emotion"] == row.dimensions.emotion_end
    assert all(t.annotation.get("strategy") for t in turns[1::2])
    assert turn_notes(turns[0].annotation).source_label == "offline placeholder"


def test_judge_scores_must_be_on_the_pipeline_scale():
    with pytest.raises(ValueError, match="empathy is 7"):
        with_scores(None, {"empathy": 7, "clarity": 4, "appropriateness": 4, "brand_voice": 4})
    with pytest.raises(ValueError, match="missing brand_voice"):
        with_scores(None, {"empathy": 4, "clarity": 4, "appropriateness": 4})


# --- exports ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", V4_FORMATS)
def test_every_record_of_each_v4_export_validates_against_the_schemas(app, annotated, tmp_path, fmt):
    path = export_v4(app, fmt, tmp_path / "out")
    pairs = pairs_of(fmt, path)
    assert len(pairs) == 8  # two conversations of four exchanges
    by_conversation = {}
    for pair in pairs:
        by_conversation.setdefault(pair["conversation_metadata"]["conversation_key"], []).append(pair)
    judged, plain = (by_conversation[row.key] for row in annotated)
    first = judged[0]
    assert first["current_user_input"].startswith(CLIENT[:40]) and first["target_response"].startswith(ADVISOR[:40])
    assert first["emotional_context"]["detected_emotions"] == {
        "primary": "overwhelm", "primary_confidence": 0.85, "intensity": 0.9, "valence": "negative", "source": "model"}
    assert first["training_metadata"]["quality_criteria"]["source"] == "judge"
    assert first["training_metadata"]["quality_score"] == 4.38
    assert first["training_metadata"]["demonstrates_skills"] == ["validate the fear, then step 1"]
    assert first["training_metadata"]["human_reviewed"] is True
    # Where each exchange should leave the client: the beat sheet's target for the client's next turn.
    second_client = turns_of(app, annotated[0].id)[2]
    assert first["training_metadata"]["emotional_progression_target"].startswith("overwhelm(0.90) → ")
    assert first["training_metadata"]["emotional_progression_target"].split(" → ")[1].startswith(
        second_client.annotation["target"])
    last = judged[-1]
    assert [h["content"][-4:] for h in last["conversation_history"]] == [f" ({i})" for i in range(6)]
    assert last["conversation_history"][1]["emotional_state"]["source"] == "client_turn"
    assert last["conversation_metadata"]["conversation_phase"] == "commitment_and_closure"
    # Without annotations: the plan's emotions, confidence 0, said so; the structural score, said so.
    derived = plain[0]["emotional_context"]["detected_emotions"]
    assert (derived["primary"], derived["primary_confidence"], derived["source"]) == ("overwhelm", 0.0, "plan")
    assert plain[0]["training_metadata"]["quality_criteria"]["source"] == "structural"


def test_file_metadata_is_counted_from_what_is_exported(app, annotated, tmp_path):
    path = export_v4(app, "lora-v4", tmp_path / "agg.json")
    metadata = json.loads(path.read_text(encoding="utf-8"))["training_file_metadata"]
    assert (metadata["total_conversations"], metadata["total_training_pairs"]) == (2, 8)
    assert metadata["quality_summary"]["human_reviewed_count"] == 8
    assert metadata["quality_summary"]["max_quality_score"] == 4.38
    assert metadata["scaffolding_distribution"]["emotional_arcs"] == {"overwhelm_to_empowerment": 2}
    assert metadata["annotation_sources"]["client_emotions"] == {"model": 4, "plan": 4}
    assert metadata["annotation_sources"]["quality_scores"] == {"judge": 4, "structural": 4}
    assert "confidence 0" in metadata["annotation_sources"]["meaning"]["plan"]


def test_rows_the_v4_vocabulary_cannot_say_are_left_out_and_counted(app, annotated, tmp_path):
    row = planned(app, 1, emotion_start="excitement")[0]
    app.jobs.generate_now(row.key, provider="offline")
    approve(app.engine, row.id)
    result = app.exports.write(app.exports.request(format="lora-v4-jsonl", output=tmp_path / "x.jsonl",
                                                   include_offline=True))
    assert result.conversations == 2
    assert result.left_out == {"start emotion 'excitement' begins no brightrun-lora-v4 arc": 1}
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    assert manifest["left_out"] == result.left_out


# --- imports ---------------------------------------------------------------------------------


def v4_pairs(cid: str, exchanges: int, *, target_null_first: bool = False) -> list[dict]:
    """Training pairs in the schema's shape, as the pipeline writes them."""
    metadata = {"client_persona": "Jennifer Martinez - The Anxious Planner", "persona_archetype": "anxious_planner",
                "client_background": "Teacher, 38", "emotional_arc": "Fear → Confidence",
                "emotional_arc_key": "fear_to_confidence", "training_topic": "Eldercare costs",
                "training_topic_key": "eldercare_costs", "session_context": "Mother's care home",
                "conversation_phase": "initial_crisis_disclosure", "expected_outcome": "a first step"}
    history, pairs = [], []
    for n in range(1, exchanges + 1):
        user, reply = f"Client message {n} of {cid}: I am worried.", f"Advisor reply {n} of {cid}: let's look."
        pairs.append({
            "id": f"{cid}_turn{n}", "conversation_id": cid, "turn_number": n, "conversation_metadata": metadata,
            "system_prompt": "You are Elena Morales, CFP. " * 5, "conversation_history": list(history),
            "current_user_input": user,
            "emotional_context": {"detected_emotions": {"primary": "fear", "primary_confidence": 0.7,
                                                        "secondary": "guilt", "intensity": 0.8 - n / 10,
                                                        "valence": "negative"}},
            "target_response": reply,
            "training_metadata": {"difficulty_level": f"intermediate_conversation_turn_{n}",
                                  "key_learning_objective": "Validate", "demonstrates_skills": ["validation"],
                                  "conversation_turn": n, "emotional_progression_target": "fear(0.8) → confidence(0.7)",
                                  "quality_score": 3, "quality_criteria": {"empathy_score": 3.2, "clarity_score": 3,
                                                                           "appropriateness_score": 2.8,
                                                                           "brand_voice_alignment": 3},
                                  "human_reviewed": False, "reviewer_notes": None, "use_as_seed_example": False,
                                  "generate_variations_count": 0},
        })
        history += [{"turn": n, "role": "user", "content": user, "emotional_state": {"primary": "fear", "intensity": 0.7}},
                    {"turn": n, "role": "assistant", "content": reply,
                     "emotional_state": {"primary": "calm", "intensity": 0.4}, "strategy_applied": "validate"}]
    return pairs


UUIDS = ("08e8a054-6de3-4b76-aa3d-e7e5cd195cba", "2e6e3685-eb74-46c9-b11d-13a3e162a4b5")


def file_metadata(conversations: int, pairs: int) -> dict:
    return {"file_name": "batch", "version": "4.0.0", "created_date": "2026-11-30T10:00:00Z",
            "last_updated": "2026-11-30T10:00:00Z", "format_spec": "brightrun-lora-v4",
            "vertical": "financial_planning_consultant", "total_conversations": conversations,
            "total_training_pairs": pairs,
            "quality_summary": {"avg_quality_score": 3, "min_quality_score": 3, "max_quality_score": 3,
                                "human_reviewed_count": 0, "human_reviewed_percentage": 0},
            "scaffolding_distribution": {"personas": {}, "emotional_arcs": {}, "training_topics": {}}}


PROFILE = {"name": "Elena Morales, CFP", "business": "Pathways", "expertise": "planning", "years_experience": 15,
           "core_philosophy": {f"principle_{i}": f"p{i}" for i in range(1, 6)},
           "communication_style": {"tone": "warm", "techniques": ["ask"], "avoid": ["jargon"]}}


def aggregated_file() -> dict:
    conversations = [{"conversation_metadata": {
        "conversation_id": cid, "source_file": f"fp_conversation_{cid}.json", "created_date": "2026-11-30",
        "total_turns": 3, "quality_tier": "experimental",
        "scaffolding": {"persona_key": "anxious_planner", "persona_name": "Jennifer Martinez",
                        "emotional_arc_key": "fear_to_confidence", "emotional_arc": "Fear → Confidence",
                        "training_topic_key": "eldercare_costs", "training_topic": "Eldercare costs"}},
        "training_pairs": v4_pairs(cid, 3)} for cid in UUIDS]
    return {"training_file_metadata": file_metadata(2, 6), "consultant_profile": PROFILE, "conversations": conversations}


def individual_file(cid: str) -> dict:
    return {"dataset_metadata": {"dataset_name": f"fp_conversation_{cid}", "version": "1.0.0",
                                 "created_date": "2026-11-30", "vertical": "financial_planning_consultant",
                                 "consultant_persona": "Elena Morales, CFP - Pathways",
                                 "target_use": "LoRA fine-tuning for emotionally intelligent chatbot",
                                 "conversation_source": "synthetic_platform_generated", "quality_tier": "experimental",
                                 "total_conversations": 1, "total_turns": 3, "notes": "template x"},
            "consultant_profile": PROFILE, "training_pairs": v4_pairs(cid, 3)}


def write_shape(shape: str, folder: Path) -> Path:
    if shape == "aggregated":
        document = aggregated_file()
        assert not list(CHECK_FULL.iter_errors(document))
        path = folder / "training.json"
        path.write_text(json.dumps(document), encoding="utf-8")
    elif shape == "jsonl":
        lines = [{"_meta": {"file_name": "batch", "total_pairs": 6, "version": "4.0.0"}}]
        lines += [pair for cid in UUIDS for pair in v4_pairs(cid, 3)]
        path = folder / "training.jsonl"
        path.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    else:
        path = folder / "individual"
        path.mkdir()
        for cid in UUIDS:
            assert not list(CHECK_INDIVIDUAL.iter_errors(individual_file(cid)))
            (path / f"fp_conversation_{cid}.json").write_text(json.dumps(individual_file(cid)), encoding="utf-8")
    return path


@pytest.mark.parametrize("shape", ["aggregated", "jsonl", "individual"])
def test_each_v4_shape_imports_with_its_annotations_once(second_app, tmp_path, shape):
    path = write_shape(shape, tmp_path)
    results = second_app.conversations.import_files([path])
    assert [r.outcome for r in results] == ["imported"] * len(results), [r.line() for r in results]
    assert sum(r.conversations for r in results) == 2 and sum(r.turns for r in results) == 12
    rows = second_app.conversations.list()
    assert sorted(r.key for r in rows) == sorted(UUIDS)
    assert {r.dimensions.persona for r in rows} == {"jennifer_martinez"}
    assert {(r.dimensions.emotion_start, r.dimensions.emotion_end) for r in rows} == {("fear", "confidence")}
    turns = turns_of(second_app, rows[0].id)
    assert [t.role for t in turns] == ["user", "assistant"] * 3
    assert turns[1].annotation["v4_pair"]["training_metadata"]["quality_criteria"]["empathy_score"] == 3.2
    assert turns[1].annotation["v4_history"]["strategy_applied"] == "validate"
    assert turns[4].annotation["emotion"] == "fear" and turn_notes(turns[5].annotation).scores["empathy"] == 3.2
    again = second_app.conversations.import_files([path])
    assert {r.outcome for r in again} == {"duplicate"}


def test_the_pipelines_own_pairs_for_advisor_turns_rebuild_one_conversation(second_app, tmp_path):
    """Its enrichment writes a pair per message: the client's (target null), then the advisor's,
    whose input repeats the client message that closes its history."""
    cid = UUIDS[0]
    pairs = []
    for pair in v4_pairs(cid, 2):
        opening = copy.deepcopy(pair)
        opening.update(id=f"{pair['id']}a", target_response=None)
        answer = copy.deepcopy(pair)
        answer["conversation_history"] = pair["conversation_history"] + [
            {"turn": pair["turn_number"], "role": "user", "content": pair["current_user_input"],
             "emotional_state": {"primary": "fear", "intensity": 0.7}}]
        pairs += [opening, answer]
    for i, pair in enumerate(pairs, start=1):
        pair["turn_number"] = i
    document = individual_file(cid)
    document["training_pairs"] = pairs
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    [result] = second_app.conversations.import_files([path])
    assert (result.outcome, result.conversations, result.turns) == ("imported", 1, 4), result.line()


@pytest.mark.parametrize("fmt", V4_FORMATS)
def test_v4_import_then_export_keeps_every_turn_and_annotation(app, annotated, second_app, tmp_path, fmt):
    first = export_v4(app, fmt, tmp_path / "first")
    [result] = second_app.conversations.import_files([first])
    assert result.outcome == "imported", result.line()
    for row in second_app.conversations.list():  # the imported text is reviewed again in the new store
        approve(second_app.engine, row.id)
    again = export_v4(second_app, fmt, tmp_path / "again")
    assert in_order(pairs_of(fmt, again)) == in_order(pairs_of(fmt, first))


def in_order(pairs: list[dict]) -> list[dict]:
    """Pairs by conversation and turn: a zip of individual files has no order of its own."""
    return sorted(pairs, key=lambda p: (p["conversation_metadata"]["conversation_key"], p["turn_number"]))


def test_an_imported_pipeline_file_exports_as_it_came(second_app, tmp_path):
    path = write_shape("aggregated", tmp_path)
    second_app.conversations.import_files([path])
    exported = export_v4(second_app, "lora-v4", tmp_path / "out.json", statuses=["generated"])
    document = json.loads(exported.read_text(encoding="utf-8"))
    assert [c["training_pairs"] for c in document["conversations"]] == [
        c["training_pairs"] for c in aggregated_file()["conversations"]]
    assert document["conversations"][0]["conversation_metadata"] == aggregated_file()["conversations"][0][
        "conversation_metadata"]


# --- bad files -------------------------------------------------------------------------------


def test_a_wrong_type_is_named_by_its_json_path(second_app, tmp_path):
    document = aggregated_file()
    document["conversations"][0]["training_pairs"][1]["turn_number"] = "2"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    [result] = second_app.conversations.import_files([path])
    assert result.outcome == "failed"
    assert result.message == "bad.json: conversations[0].training_pairs[1].turn_number: must be integer"


def test_a_jsonl_error_names_the_line_and_the_path(second_app, tmp_path):
    lines = [{"_meta": {"file_name": "b"}}, *v4_pairs(UUIDS[0], 3)]
    lines[2]["conversation_history"][1]["role"] = "advisor"
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    [result] = second_app.conversations.import_files([path])
    assert result.message.startswith("bad.jsonl: line 3: conversation_history[1].role: must be one of")
    path.write_text('{"_meta": {}}\n{"id": ', encoding="utf-8")
    [result] = second_app.conversations.import_files([path])
    assert result.message.startswith("bad.jsonl: line 2, column 8:")


def test_pairs_that_disagree_about_a_turn_are_refused(second_app, tmp_path):
    document = json.loads(json.dumps(individual_file(UUIDS[0])))  # its own history objects per pair
    document["training_pairs"][2]["conversation_history"][1]["content"] = "something else"
    path = tmp_path / "clash.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    [result] = second_app.conversations.import_files([path])
    assert result.message == ("clash.json: training_pairs[2].conversation_history[1]: differs from turn 2 as an "
                              "earlier pair gives it")


# --- the compiled validator ------------------------------------------------------------------


def test_the_shipped_schemas_are_the_pipelines():
    for name in ("lora-v4-full.schema.json", "lora-v4-individual.schema.json"):
        assert lora_v4_schema.schema(name) == json.loads((FORMATS_DIR / name).read_text(encoding="utf-8"))


MUTATIONS = [
    ("turn_number", lambda p: p.update(turn_number="1")),
    ("conversation_metadata", lambda p: p["conversation_metadata"].update(persona_archetype="the_saver")),
    ("system_prompt", lambda p: p.update(system_prompt="short")),
    ("conversation_history", lambda p: p["conversation_history"][0].update(role="advisor")),
    ("conversation_history", lambda p: p["conversation_history"][1]["emotional_state"].update(intensity=1.5)),
    ("emotional_context", lambda p: p["emotional_context"]["detected_emotions"].update(valence="neutral")),
    ("training_metadata", lambda p: p["training_metadata"].update(quality_score=0)),
    ("training_metadata", lambda p: p["training_metadata"]["quality_criteria"].pop("clarity_score")),
    ("target_response", lambda p: p.update(target_response=3)),
]


@pytest.mark.parametrize("field, mutate", MUTATIONS, ids=[f"{m[0]}-{i}" for i, m in enumerate(MUTATIONS)])
def test_the_compiled_validator_agrees_with_jsonschema(field, mutate):
    pair = v4_pairs(UUIDS[0], 2)[1]
    assert CHECK_PAIR.is_valid(pair) and lora_v4_schema.pairs_problem([pair]) is None
    bad = copy.deepcopy(pair)
    mutate(bad)
    assert not CHECK_PAIR.is_valid(bad)
    problem = lora_v4_schema.pairs_problem([bad])
    assert problem and problem.startswith(f"$[0].{field}"), problem


# --- schema, migration and the command line ---------------------------------------------------


def test_annotated_turns_keep_only_what_the_writer_gave():
    answer = GeneratedConversation.model_validate(annotated_answer(2))
    user, advisor = annotated_turns(answer.turns, "offline")
    assert user.annotation == {"source": "offline", "emotion": "overwhelm", "intensity": 0.9, "confidence": 0.85}
    assert advisor.annotation == {"source": "offline", "strategy": "validate the fear, then step 1"}
    planned_user, _ = annotated_turns(answer.turns, "claude-sonnet-5-5", targets=["relief"])
    assert planned_user.annotation == {"source": "model", "emotion": "overwhelm", "intensity": 0.9,
                                       "confidence": 0.85, "target": "relief"}


def test_cli_export_any_status_leaves_rows_without_text_out_and_where_tier_is_checked(db_url, tmp_path):
    done = run("export", "--format", "openai", "--status", "any", "-o", str(tmp_path / "all.jsonl"), db=db_url)
    assert done.returncode == 0, done.stderr
    assert "left out: 90 conversation(s): no text yet (never generated)" in done.stdout
    manifest = json.loads((tmp_path / "all.manifest.json").read_text(encoding="utf-8"))
    assert manifest["conversations"] == 10 and manifest["left_out"] == {"no text yet (never generated)": 90}
    bad = run("list", "--where", "tier=abc", db=db_url)
    assert (bad.returncode, bad.stderr) == (2, "error: tier 'abc' is not a number; use 1, 2 or 3\n")


def test_the_v4_encoder_writes_what_json_dumps_writes_on_one_line(app, annotated, claude_writer, tmp_path):
    from brightrun_gen.domain.exportformats import lora_v4
    from brightrun_gen.domain.exportformats.base import json_text

    request = app.exports.request(format="lora-v4", output="x")
    conv, context = export_input(app.engine, annotated[0].id, request, lora_v4.AGGREGATED)
    for records in (lora_v4.lora_v4_pairs(conv, context), lora_v4.aggregated_records(conv, context),
                    lora_v4.individual_records(conv, context)):
        assert lora_v4.encode_v4(records) == [json_text(r).encode() for r in records]
    fake, _ = claude_writer
    row = planned(app, 1, emotion_start="panic")[0]
    answer = annotated_answer()
    answer["turns"][0]["content"] += " Line\u2028separator, paragraph\u2029separator, next\x85line."
    fake.enqueue(("json", answer))
    app.jobs.generate_now(row.key)
    approve(app.engine, row.id)
    path = export_v4(app, "lora-v4-jsonl", tmp_path / "breaks.jsonl")
    text = path.read_text(encoding="utf-8")
    assert text.count("\n") == 1 + 3 * 4  # the _meta line and four pairs for each of three conversations
    assert "\\u2028" in text and "\u2028" not in text and "\x85" not in text
    pairs = pairs_of("lora-v4-jsonl", path)
    assert any("Line\u2028separator, paragraph\u2029separator, next\x85line." in p["current_user_input"] for p in pairs)
