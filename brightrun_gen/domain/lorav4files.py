"""Reading the training pipeline's brightrun-lora-v4 files into ConversationRecords.

All three shapes: the aggregated training file (`conversations[]` of {conversation_metadata,
training_pairs}), the JSONL (a `{"_meta": …}` line, then one training pair a line) and the
individual enriched file (dataset_metadata, consultant_profile, training_pairs). Each is first
checked against the pipeline's published schema, so a wrong type is reported at its JSON path.

A conversation is rebuilt from its pairs: each pair's history, its current_user_input and its
target_response give the turns, and every pair must agree with the others on the turns they
share. Every object the file holds is kept: the pair (less its text) on the advisor turn it
answers with (`v4_pair`), each history entry (less its text) on its turn (`v4_history`), the
conversation's own metadata on the record, so a v4 export gives the file back.

Pure parsing, like `seedfiles`, which reads the text and hands the JSON over.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from brightrun_gen.domain.exportformats.lora_v4_pairs import TEXT_KEYS
from brightrun_gen.domain.exportformats.lora_v4_schema import FULL, INDIVIDUAL, validator
from brightrun_gen.domain.models import CONVERSATION_TURNS_MAX, DIMENSION_NAMES, ConversationRecord, Dimensions, Turn
from brightrun_gen.domain.seedjson import short
from brightrun_gen.errors import SeedFileError

FORMAT_SPEC = "brightrun-lora-v4"
UNSPECIFIED = "unspecified"
_V4_PAIR_KEYS = ("persona_archetype", "emotional_arc_key", "training_topic_key")


def is_v4(document: dict) -> bool:
    """An aggregated v4 file, or an individual one (its pairs carry the v4 scaffolding keys)."""
    if "training_file_metadata" in document or (
            isinstance(document.get("conversations"), list) and "format" not in document):
        return True
    pairs = document.get("training_pairs")
    first = pairs[0] if isinstance(pairs, list) and pairs and isinstance(pairs[0], dict) else {}
    metadata = first.get("conversation_metadata")
    return isinstance(metadata, dict) and any(key in metadata for key in _V4_PAIR_KEYS)


def parse_document(document: dict, name: str) -> list[ConversationRecord]:
    """The conversations of an aggregated or an individual v4 file."""
    if "training_pairs" in document and "conversations" not in document:
        _check(validator(INDIVIDUAL)(document), name)
        group = _Group(document["training_pairs"], [f"training_pairs[{i}]" for i in range(len(document["training_pairs"]))])
        return [_record(group, name, {"dataset_metadata": document["dataset_metadata"]})]
    _check(validator(FULL)(document), name)
    records = []
    for c, conversation in enumerate(document["conversations"]):
        pairs = conversation["training_pairs"]
        group = _Group(pairs, [f"conversations[{c}].training_pairs[{i}]" for i in range(len(pairs))])
        records.append(_record(group, name, {"conversation_metadata": conversation["conversation_metadata"]}))
    return _unique(records, name)


def parse_jsonl(lines: list[tuple[int, Any]], name: str) -> list[ConversationRecord]:
    """The conversations of a v4 JSONL file: (line number, parsed line), the _meta line included."""
    check = validator(FULL, "training_pair")
    groups: dict[str, _Group] = {}
    for number, value in lines:
        if isinstance(value, dict) and set(value) == {"_meta"}:
            continue
        problem = check(value)
        if problem:
            raise SeedFileError(name, f"line {number}", _path(problem))
        group = groups.setdefault(value["conversation_id"], _Group([], []))
        group.pairs.append(value)
        group.places.append(f"line {number}")
    if not groups:
        raise SeedFileError(name, "", "holds no training pairs")
    return _unique([_record(group, name, {}) for group in groups.values()], name)


def _check(problem: str | None, name: str) -> None:
    if problem:
        where, _, reason = _path(problem).partition(": ")
        raise SeedFileError(name, where, reason)


def _path(problem: str) -> str:
    """'$.conversations[0].turn_number: …' -> 'conversations[0].turn_number: …'."""
    return problem.removeprefix("$.").removeprefix("$")


def _unique(records: list[ConversationRecord], name: str) -> list[ConversationRecord]:
    seen: set[str] = set()
    for record in records:
        if record.key in seen:
            raise SeedFileError(name, "", f"conversation {short(record.key)} appears twice")
        seen.add(record.key)
    return records


# --- rebuilding one conversation -------------------------------------------------------------


@dataclass
class _Group:
    """The pairs of one conversation and where each sits in the file."""

    pairs: list[dict]
    places: list[str]


@dataclass
class _Turns:
    """Turns as the pairs reveal them, each checked against what earlier pairs said."""

    name: str
    texts: list[tuple[str, str]] = field(default_factory=list)
    annotations: dict[int, dict] = field(default_factory=dict)

    def place(self, position: int, role: str, content: str, where: str) -> None:
        expected = "user" if position % 2 == 0 else "assistant"
        if role != expected:
            raise SeedFileError(self.name, where, f"expected role {expected!r} (turns alternate, client first), "
                                                  f"got {role!r}")
        if position < len(self.texts):
            if self.texts[position] != (role, content):
                raise SeedFileError(self.name, where, f"differs from turn {position + 1} as an earlier pair gives it")
        elif position == len(self.texts):
            self.texts.append((role, content))
        else:
            raise SeedFileError(self.name, where, f"turn {position + 1} comes before turn {len(self.texts) + 1}")

    def note(self, position: int, **values: Any) -> None:
        self.annotations.setdefault(position, {"source": "import"}).update(values)


def _record(group: _Group, name: str, conversation: dict) -> ConversationRecord:
    order = sorted(range(len(group.pairs)), key=lambda i: group.pairs[i]["turn_number"])
    turns = _Turns(name)
    unanswered: dict[int, list[dict]] = {}
    for i in order:
        pair, where = group.pairs[i], group.places[i]
        position = _place_pair(turns, pair, where)
        if pair["target_response"] is None:
            unanswered.setdefault(position, []).append(_without_text(pair))
    _check_answered(turns, unanswered, group, name)
    if len(turns.texts) > CONVERSATION_TURNS_MAX:
        raise SeedFileError(name, group.places[0], f"the conversation has {len(turns.texts)} turns; at most "
                                                   f"{CONVERSATION_TURNS_MAX} can be imported")
    for position, pairs in unanswered.items():
        turns.note(position, v4_unanswered=pairs)
    first = group.pairs[order[0]]
    key = _key(first, conversation)
    lora_v4 = {"conversation_id": first["conversation_id"], **conversation}
    metadata = {"format": "lora-v4", "source_file": name, "lora_v4": lora_v4}
    dimensions, persona = _dimensions(group, order, name)
    if persona:
        metadata["persona"] = persona
    built = [Turn(role=role, content=content, annotation=turns.annotations.get(p))
             for p, (role, content) in enumerate(turns.texts)]
    try:
        return ConversationRecord(key=key, source="import", dimensions=dimensions, turns=built, metadata=metadata)
    except ValidationError as error:
        problem = error.errors()[0]
        raise SeedFileError(name, group.places[0], f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}") from None


def _place_pair(turns: _Turns, pair: dict, where: str) -> int:
    """Put the pair's turns in place; returns the position of its client turn."""
    history, text = pair["conversation_history"], pair["current_user_input"]
    # The pipeline's own pairs for advisor turns repeat the client's message as their input.
    repeats = bool(history) and history[-1]["role"] == "user" and history[-1]["content"] == text
    before = history[:-1] if repeats else history
    for j, item in enumerate(history):
        turns.place(j, item["role"], item["content"], f"{where}.conversation_history[{j}]")
        if j not in turns.annotations or "v4_history" not in turns.annotations[j]:
            turns.note(j, v4_history={k: v for k, v in item.items() if k not in ("role", "content")})
    position = len(before)
    turns.place(position, "user", text, f"{where}.current_user_input")
    detected = pair["emotional_context"]["detected_emotions"]
    turns.note(position, emotion=detected["primary"], intensity=detected["intensity"],
               confidence=detected["primary_confidence"])
    if pair["target_response"] is not None:
        if not pair["target_response"].strip():
            raise SeedFileError(turns.name, f"{where}.target_response", "empty")
        turns.place(position + 1, "assistant", pair["target_response"], f"{where}.target_response")
        turns.note(position + 1, v4_pair=_without_text(pair))
    return position


def _without_text(pair: dict) -> dict:
    return {k: v for k, v in pair.items() if k not in TEXT_KEYS}


def _check_answered(turns: _Turns, unanswered: dict[int, list[dict]], group: _Group, name: str) -> None:
    """A conversation ends with the advisor: a client turn nobody answers cannot be trained on."""
    if not turns.texts or turns.texts[-1][0] != "assistant":
        where = group.places[max(range(len(group.pairs)), key=lambda i: group.pairs[i]["turn_number"])]
        raise SeedFileError(name, f"{where}.target_response",
                            "null, and no later pair answers this input: a conversation must end with the "
                            "advisor's reply")
    for position in unanswered:
        if position + 1 >= len(turns.texts):
            raise SeedFileError(name, group.places[0], f"turn {position + 1} is never answered")


def _key(first: dict, conversation: dict) -> str:
    """Our own key when the file came from a Bright Run export, else the pipeline's conversation id."""
    for source in (first["conversation_metadata"], conversation.get("conversation_metadata") or {}):
        key = source.get("conversation_key")
        if isinstance(key, str) and key.strip():
            return key
    return first["conversation_id"]


# --- dimensions ------------------------------------------------------------------------------


def _dimensions(group: _Group, order: list[int], name: str) -> tuple[Dimensions, dict | None]:
    """The dimensions a Bright Run export wrote beside the v4 names, else derived from the v4 ones."""
    first, last = group.pairs[order[0]], group.pairs[order[-1]]
    metadata = first["conversation_metadata"]
    ours = {k: metadata[k] for k in DIMENSION_NAMES if k in metadata}
    try:
        if set(ours) >= {"tier", "persona", "emotion_start", "emotion_end", "topic"}:
            return Dimensions(**{**_unspecified(), **ours}), None
        label = metadata["client_persona"]
        person, _, archetype = label.partition(" - ")
        persona_key = _slug(person) or metadata["persona_archetype"]
        arc_end = metadata["emotional_arc_key"].rpartition("_to_")[2]
        dims = Dimensions(**{
            **_unspecified(),
            "persona": persona_key,
            "emotion_start": _slug(first["emotional_context"]["detected_emotions"]["primary"]) or UNSPECIFIED,
            "emotion_end": arc_end or _slug(last["emotional_context"]["detected_emotions"]["primary"]) or UNSPECIFIED,
            "topic": metadata["training_topic_key"] or UNSPECIFIED,
            "intent": _slug(metadata["conversation_phase"]) or UNSPECIFIED,
        })
    except ValidationError as error:
        problem = error.errors()[0]
        raise SeedFileError(name, f"{group.places[order[0]]}.conversation_metadata",
                            f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}") from None
    persona = {"key": persona_key, "name": person.strip() or persona_key,
               "archetype": archetype.strip() or metadata["persona_archetype"],
               "background": metadata["client_background"]}
    return dims, persona


def _unspecified() -> dict:
    return {"tier": 1, "topic": UNSPECIFIED, "content_category": UNSPECIFIED, "topic_cluster": UNSPECIFIED,
            "intent": UNSPECIFIED, "tone": UNSPECIFIED, "outcome_type": UNSPECIFIED}


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", re.sub(r"['’]", "", text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
