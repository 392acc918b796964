"""The training pipeline's own format, brightrun-lora-v4, in its three shapes.

- `lora-v4`: the aggregated training file: training_file_metadata, consultant_profile and one
  {conversation_metadata, training_pairs} object per conversation;
- `lora-v4-jsonl`: a first line {"_meta": {…the file's metadata…}}, then one training pair a line;
- `lora-v4-individual`: a zip of one enriched file per conversation (dataset_metadata,
  consultant_profile, training_pairs).

Every record is checked against the published schemas (`lora_v4_schema`) before it is written.
The file's metadata (totals, quality summary, scaffolding distribution, where each annotation
came from) is counted from the records as they are written, and put at the head of the file.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timezone
from typing import Callable

from brightrun_gen.domain.exportformats import lora_v4_scaffold as scaffold
from brightrun_gen.domain.exportformats.base import ExportContext, ExportConversation, ExportFormat, json_text
from brightrun_gen.domain.exportformats.lora_v4_pairs import (
    conversation_uuid, imported_facts, leave_out_reason, lora_v4_pairs,
)
from brightrun_gen.domain.exportformats.lora_v4_schema import FULL, INDIVIDUAL, envelope, pairs_problem, validator
from brightrun_gen.domain.exportformats.training_pairs import consultant_profile

FORMAT_SPEC = "brightrun-lora-v4"
VERTICAL = "financial_planning_consultant"
TARGET_USE = "LoRA fine-tuning for emotionally intelligent chatbot"
# What each `source` in a record means, written into the file's metadata.
SOURCES = {
    "model": "annotated by the model as it wrote the turn",
    "offline": "placeholder of the offline generator, not a reading of the text",
    "plan": "the plan's emotion for that turn (start emotion, then end emotion, at the catalog's "
            "intensities); confidence 0: nothing was detected",
    "import": "as the imported file gave it",
    "judge": "the judge's per-criterion scores for this reply",
    "structural": "Bright Run's structural 1–10 score mapped onto 1–5, the same value for every "
                  "criterion: no per-criterion judgement exists for this reply",
    "client_turn": "an advisor turn's emotional_state is the client's state it answers",
}


# --- the summary counted from what is written ------------------------------------------------


class Summary:
    """Totals, quality summary, distributions and annotation sources of the pairs written."""

    def __init__(self, pairs_of: Callable[[list[dict]], list[dict]]):
        self._pairs_of = pairs_of
        self.conversations = self.pairs = self.reviewed = 0
        self.scores: list[float] = []
        self.personas, self.arcs, self.topics = Counter(), Counter(), Counter()
        self.emotion_sources, self.quality_sources = Counter(), Counter()

    def add(self, conv: ExportConversation, records: list[dict]) -> None:
        pairs = self._pairs_of(records)
        self.conversations += 1
        self.pairs += len(pairs)
        first = pairs[0]["conversation_metadata"]
        self.personas[first["persona_archetype"]] += 1
        self.arcs[first["emotional_arc_key"]] += 1
        self.topics[first["training_topic_key"]] += 1
        for pair in pairs:
            training = pair["training_metadata"]
            self.scores.append(training["quality_score"])
            self.reviewed += bool(training["human_reviewed"])
            self.emotion_sources[pair["emotional_context"]["detected_emotions"].get("source", "import")] += 1
            self.quality_sources[training["quality_criteria"].get("source", "import")] += 1

    def metadata(self, ctx: ExportContext) -> dict:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        pairs = max(self.pairs, 1)
        metadata = {
            "file_name": ctx.dataset_name,
            "version": "4.0.0",
            "created_date": now,
            "last_updated": now,
            "format_spec": FORMAT_SPEC,
            "vertical": VERTICAL,
            "total_conversations": self.conversations,
            "total_training_pairs": self.pairs,
            "quality_summary": {
                "avg_quality_score": round(sum(self.scores) / pairs, 2) if self.scores else 1,
                "min_quality_score": min(self.scores, default=1),
                "max_quality_score": max(self.scores, default=1),
                "human_reviewed_count": self.reviewed,
                "human_reviewed_percentage": round(100 * self.reviewed / pairs, 1),
            },
            "scaffolding_distribution": {
                "personas": dict(sorted(self.personas.items())),
                "emotional_arcs": dict(sorted(self.arcs.items())),
                "training_topics": dict(sorted(self.topics.items())),
            },
            "annotation_sources": {
                "client_emotions": dict(sorted(self.emotion_sources.items())),
                "quality_scores": dict(sorted(self.quality_sources.items())),
                "meaning": {k: SOURCES[k] for k in sorted({*self.emotion_sources, *self.quality_sources,
                                                           "client_turn"}) if k in SOURCES},
            },
        }
        problem = validator(FULL, "training_file_metadata")(metadata)
        if problem:
            raise ValueError(f"lora-v4 file metadata: {problem}")
        return metadata


def _profile(ctx: ExportContext) -> dict:
    return consultant_profile(ctx.advisor)


def _aggregated_head(summary: Summary, ctx: ExportContext) -> dict:
    return {"training_file_metadata": summary.metadata(ctx), "consultant_profile": _profile(ctx)}


def _jsonl_head(summary: Summary, ctx: ExportContext) -> dict:
    metadata = summary.metadata(ctx)
    # total_pairs as the pipeline's own JSONL writer names it, beside the v4 name.
    return {"_meta": {**metadata, "total_pairs": metadata["total_training_pairs"], "consultant_profile": _profile(ctx)}}


# --- records ---------------------------------------------------------------------------------


def _conversation_metadata(conv: ExportConversation, pairs: list[dict], ctx: ExportContext) -> dict:
    stored = imported_facts(conv).get("conversation_metadata")
    if isinstance(stored, dict):
        return stored
    first = pairs[0]["conversation_metadata"]
    cid = conversation_uuid(conv)
    return {
        "conversation_id": cid,
        "source_file": f"fp_conversation_{cid}.json",
        "created_date": ctx.created_on,
        "total_turns": len(pairs),
        "quality_tier": scaffold.quality_tier(conv.source, conv.status),
        "scaffolding": {
            "persona_key": first["persona_archetype"],
            "persona_name": first["client_persona"],
            "emotional_arc_key": first["emotional_arc_key"],
            "emotional_arc": first["emotional_arc"],
            "training_topic_key": first["training_topic_key"],
            "training_topic": first["training_topic"],
        },
        "conversation_key": conv.key,
    }


def _dataset_metadata(conv: ExportConversation, pairs: list[dict], ctx: ExportContext) -> dict:
    stored = imported_facts(conv).get("dataset_metadata")
    if isinstance(stored, dict):
        return stored
    first = pairs[0]["conversation_metadata"]
    advisor = ctx.advisor
    return {
        "dataset_name": f"fp_conversation_{conversation_uuid(conv)}",
        "version": "1.0.0",
        "created_date": ctx.created_on,
        "vertical": VERTICAL,
        "consultant_persona": f"{advisor.name} - {advisor.business}",
        "target_use": TARGET_USE,
        "conversation_source": scaffold.conversation_source(conv.source),
        "quality_tier": scaffold.quality_tier(conv.source, conv.status),
        "total_conversations": 1,
        "total_turns": len(pairs),
        "notes": f"{conv.key} - {first['training_topic']} (Bright Run export)",
    }


def aggregated_records(conv: ExportConversation, ctx: ExportContext) -> list[dict]:
    pairs = lora_v4_pairs(conv, ctx)
    return [{"conversation_metadata": _conversation_metadata(conv, pairs, ctx), "training_pairs": pairs}]


def individual_records(conv: ExportConversation, ctx: ExportContext) -> list[dict]:
    pairs = lora_v4_pairs(conv, ctx)
    return [{"dataset_metadata": _dataset_metadata(conv, pairs, ctx), "consultant_profile": _profile(ctx),
             "training_pairs": pairs}]


# --- encoding ------------------------------------------------------------------------------


def encode_v4(records: list[dict]) -> list[bytes]:
    """The records of one conversation: what `encode_records` gives, on one line each, faster.

    Pair n repeats every turn before it in conversation_history, its texts are those turns'
    texts, and every pair repeats the system prompt: each text and each turn is encoded once and
    its bytes put where they recur, while the rest of a pair goes through the C encoder in one call.
    U+2028, U+2029 and U+0085 are escaped here, in the text, where looking for them costs a
    sixth of what it costs in the bytes (so the JSONL sink need not look again).
    """
    encoded = _Encoded()
    return [encoded.record(record) for record in records]


# Each stands in for a value while the rest of its record is encoded; NUL never reaches stored text.
_MARKS = {name: f"\x00{uuid.uuid4().hex}" for name in
          ("training_pairs", "conversation_history", "system_prompt", "current_user_input", "target_response",
           "content")}
_MARK_BYTES = {name: json_text(mark).encode() for name, mark in _MARKS.items()}
_PAIR_TEXTS = ("system_prompt", "current_user_input", "target_response")


class _Encoded:
    """UTF-8 JSON of one conversation's records, remembering texts and turns by identity.

    Valid while the records do not change, which holds for records being written.
    """

    def __init__(self) -> None:
        self._seen: dict[int, tuple[object, bytes]] = {}  # holds the value, so its id stays its own

    def record(self, record: dict) -> bytes:
        if "training_pairs" in record:
            pairs = b", ".join(self.record(pair) for pair in record["training_pairs"])
            return self._fill({**record, "training_pairs": _MARKS["training_pairs"]},
                              {"training_pairs": b"[" + pairs + b"]"})
        history = b", ".join(self._turn(turn) for turn in record["conversation_history"])
        skeleton = {**record, "conversation_history": _MARKS["conversation_history"]}
        values = {"conversation_history": b"[" + history + b"]"}
        for name in _PAIR_TEXTS:
            if isinstance(record.get(name), str):
                skeleton[name] = _MARKS[name]
                values[name] = self._text(record[name])
        return self._fill(skeleton, values)

    def _turn(self, turn: dict) -> bytes:
        hit = self._seen.get(id(turn))
        if hit is None:
            data = self._fill({**turn, "content": _MARKS["content"]}, {"content": self._text(turn["content"])})
            hit = self._seen[id(turn)] = (turn, data)
        return hit[1]

    def _text(self, text: str) -> bytes:
        hit = self._seen.get(id(text))
        if hit is None:
            hit = self._seen[id(text)] = (text, _one_line(json_text(text)).encode())
        return hit[1]

    @staticmethod
    def _fill(skeleton: dict, values: dict[str, bytes]) -> bytes:
        data = _one_line(json_text(skeleton)).encode()
        for name, value in values.items():
            data = data.replace(_MARK_BYTES[name], value, 1)
        return data


_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}


def _one_line(text: str) -> str:
    """JSON text with the characters some readers take as line ends escaped (still the same JSON)."""
    for raw, escaped in _LINE_BREAKS.items():
        if raw in text:
            text = text.replace(raw, escaped)
    return text


# --- checks ----------------------------------------------------------------------------------


def check_pairs(records: list[dict]) -> str | None:
    return pairs_problem(records, FULL)


def check_conversation_objects(records: list[dict]) -> str | None:
    for record in records:
        problem = envelope(FULL, "conversation_object")(record) or pairs_problem(
            record["training_pairs"], FULL, "$.training_pairs")
        if problem:
            return problem
    return None


def check_individual_files(records: list[dict]) -> str | None:
    for record in records:
        problem = envelope(INDIVIDUAL)(record) or pairs_problem(record["training_pairs"], INDIVIDUAL, "$.training_pairs")
        if problem:
            return problem
    return None


def _one_check(check_all: Callable[[list[dict]], str | None]) -> Callable[[dict], str | None]:
    return lambda record: check_all([record])


def _pairs_in_objects(records: list[dict]) -> list[dict]:
    return [pair for record in records for pair in record["training_pairs"]]


def _entry_name(record: dict) -> str:
    return f"{record['dataset_metadata']['dataset_name']}.json"


_COMMON = {"leave_out": leave_out_reason, "needs_catalog": True, "reads": frozenset({"metadata", "annotations"})}

AGGREGATED = ExportFormat(
    "lora-v4", ".json", "json-summary", aggregated_records, _one_check(check_conversation_objects),
    "brightrun-lora-v4 training file: the pipeline's aggregated JSON", list_key="conversations",
    summary_head=_aggregated_head, encode=encode_v4, check_all=check_conversation_objects,
    summary=lambda: Summary(_pairs_in_objects), **_COMMON)
JSONL = ExportFormat(
    "lora-v4-jsonl", ".jsonl", "jsonl-summary", lora_v4_pairs, _one_check(check_pairs),
    "brightrun-lora-v4 JSONL: a _meta line, then one training pair a line",
    summary_head=_jsonl_head, encode=encode_v4, check_all=check_pairs,
    summary=lambda: Summary(lambda records: records), **_COMMON)
INDIVIDUAL_FILES = ExportFormat(
    "lora-v4-individual", ".zip", "zip", individual_records, _one_check(check_individual_files),
    "brightrun-lora-v4 individual files: a zip of one enriched JSON per conversation",
    encode=encode_v4, check_all=check_individual_files, entry_name=_entry_name, **_COMMON)

FORMATS = (AGGREGATED, JSONL, INDIVIDUAL_FILES)
