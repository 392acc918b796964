"""Training pairs: the console-era shape, one record per advisor reply.

Pair n carries the turns before it as conversation_history, the annotations a console-era
import kept for it (or ones derived from the conversation), and the dimensions in its
conversation_metadata, so a re-import (`consolefiles`) gets the same conversation back.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from brightrun_gen.domain.exportformats.base import (
    ExportContext, ExportConversation, ExportFormat, FileTotals, json_text,
)
from brightrun_gen.domain.exportformats.checks import text_problem
from brightrun_gen.domain.models import Advisor
from brightrun_gen.domain.stored import StoredTurn

_CHAT_ROLES = frozenset(("user", "assistant"))
# Keys a pair gets from the conversation itself; every other stored annotation is kept as it is.
_OWN_PAIR_KEYS = ("id", "conversation_id", "turn_number", "conversation_metadata", "system_prompt",
                  "conversation_history", "current_user_input", "target_response")
# Annotations in the places console files put them: around the user input and the response.
_BEFORE_RESPONSE = ("emotional_context", "response_strategy")
_AFTER_RESPONSE = ("response_breakdown", "expected_user_response_patterns", "training_metadata")
_PAIR_TEXT_DIMENSIONS = ("topic", "content_category", "topic_cluster", "intent", "tone", "outcome_type",
                         "arc", "scenario", "edge_case")


def training_pairs_head(ctx: ExportContext, totals: FileTotals) -> dict:
    advisor = ctx.advisor
    metadata = {
        "dataset_name": ctx.dataset_name,
        "version": "1.0.0",
        "created_date": ctx.created_on,
        "vertical": "financial_planning_consultant",
        "consultant_persona": f"{advisor.name} - {advisor.business}" if advisor else "",
        "target_use": "LoRA fine-tuning for emotionally intelligent chatbot",
        "conversation_source": "brightrun_export",
        "total_conversations": totals.conversations,
        "total_turns": totals.turns // 2,
    }
    return {"dataset_metadata": metadata, "consultant_profile": consultant_profile(advisor) if advisor else {}}


def consultant_profile(advisor: Advisor) -> dict:
    """The advisor as console files describe the consultant."""
    return {
        "name": advisor.name,
        "business": advisor.business,
        "expertise": advisor.expertise,
        "years_experience": advisor.years_experience,
        "core_philosophy": {f"principle_{i}": p for i, p in enumerate(advisor.core_philosophy, 1)},
        "communication_style": {"tone": advisor.tone, "techniques": list(advisor.techniques),
                                "avoid": list(advisor.avoid)},
    }


def training_pair_records(conv: ExportConversation, ctx: ExportContext) -> list[dict]:
    """One pair per advisor reply, with the turns before it as conversation_history."""
    stored = conv.metadata.get("pairs")
    annotations = stored if isinstance(stored, list) else []
    shared_metadata = _pair_conversation_metadata(conv, ctx, {})
    records, history = [], []
    for n, (user, assistant) in enumerate(zip(conv.turns[0::2], conv.turns[1::2]), start=1):
        notes = annotations[n - 1] if n <= len(annotations) and isinstance(annotations[n - 1], dict) else {}
        metadata = _pair_conversation_metadata(conv, ctx, notes) if notes else shared_metadata
        records.append(_training_pair(conv, ctx, n, (user, assistant), list(history), notes, metadata))
        history += [{"turn": n, "role": "user", "content": user.content},
                    {"turn": n, "role": "assistant", "content": assistant.content}]
    return records


def _training_pair(conv: ExportConversation, ctx: ExportContext, n: int, pair: tuple[StoredTurn, StoredTurn],
                   history: list[dict], notes: dict, metadata: dict) -> dict:
    """One pair in console key order: stored annotations where we have them, derived ones if not."""
    annotations = notes or _derived_annotations(conv, n)
    record = {
        "id": notes.get("id") or f"{conv.key}_turn{n}",
        "conversation_id": conv.key,
        "turn_number": n,
        "conversation_metadata": metadata,
    }
    system_prompt = (notes.get("system_prompt") or ctx.system_prompt) if ctx.include_system else None
    if system_prompt:
        record["system_prompt"] = system_prompt
    record["conversation_history"] = history
    record["current_user_input"] = pair[0].content
    record.update({k: annotations[k] for k in _BEFORE_RESPONSE if k in annotations})
    record["target_response"] = pair[1].content
    record.update({k: annotations[k] for k in _AFTER_RESPONSE if k in annotations})
    record.update({k: v for k, v in annotations.items() if k not in record and k not in _OWN_PAIR_KEYS})
    return record


def _pair_conversation_metadata(conv: ExportConversation, ctx: ExportContext, notes: dict) -> dict:
    """The pair's own conversation_metadata plus the dimensions, so a re-import keeps them."""
    d = conv.dimensions
    stored = notes.get("conversation_metadata")
    metadata = dict(stored) if isinstance(stored, dict) else {}
    metadata.setdefault("client_persona", ctx.persona_labels.get(d.persona, d.persona))
    metadata.setdefault("tier", d.tier)
    for name in _PAIR_TEXT_DIMENSIONS:
        value = getattr(d, name)
        if value is not None:
            metadata.setdefault(name, value)
    return metadata


def _derived_annotations(conv: ExportConversation, n: int) -> dict:
    """For a conversation without pair annotations: what the conversation-level facts say."""
    d = conv.dimensions
    derived: dict = {}
    if n == 1:
        derived["emotional_context"] = {"detected_emotions": {"primary": d.emotion_start}}
    training = {"conversation_turn": n, "emotional_progression_target": f"{d.emotion_start} → {d.emotion_end}",
                "human_reviewed": conv.status == "approved"}
    if conv.reviewer_notes:
        training["reviewer_notes"] = conv.reviewer_notes
    derived["training_metadata"] = training
    return derived


def encode_training_pairs(records: list[dict]) -> list[bytes]:
    """The pairs of one conversation, each byte for byte what `encode_records` gives.

    Pair n repeats every exchange before it in conversation_history, so the pairs hold the
    conversation's text about n/2 times over. They share the objects (turn dicts, texts, the
    prompt), so each is encoded once and its bytes copied: a quarter less time at 12 turns.
    """
    once = _EncodedOnce()
    return [once.value(record) for record in records]


class _EncodedOnce:
    """UTF-8 JSON of values, remembering strings and dicts by identity.

    Valid while the values do not change, which holds for records being written.
    """

    def __init__(self) -> None:
        self._seen: dict[int, tuple[Any, bytes]] = {}  # holds the value, so its id stays its own

    def value(self, value: Any) -> bytes:
        hit = self._seen.get(id(value))
        if hit is not None:
            return hit[1]
        if isinstance(value, list):  # each pair's history is a new list of shared turns
            return b"[" + b", ".join([self.value(item) for item in value]) + b"]"
        if isinstance(value, dict) and all(isinstance(key, str) for key in value):
            data = b"{" + b", ".join([_key_json(key) + self.value(item) for key, item in value.items()]) + b"}"
        else:
            data = json_text(value).encode()
        self._seen[id(value)] = (value, data)
        return data


@lru_cache(maxsize=4096)
def _key_json(key: str) -> bytes:
    """b'"key": ', kept: pairs repeat the same few keys tens of thousands of times."""
    return json_text(key).encode() + b": "


def check_training_pair(record: dict) -> str | None:
    for key in ("id", "conversation_id", "current_user_input", "target_response"):
        if key not in record:
            return f"{key}: missing"
        if text_problem(record[key]):
            return f"{key}: {text_problem(record[key])}"
    number = record.get("turn_number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        return f"turn_number: expected an integer of 1 or more, got {number!r}"
    if "system_prompt" in record and text_problem(record["system_prompt"]):
        return f"system_prompt: {text_problem(record['system_prompt'])}"
    return _history_problem(record.get("conversation_history"))


def _history_problem(history: Any) -> str | None:
    if not isinstance(history, list):
        return "conversation_history: expected a list"
    for i, turn in enumerate(history):
        if not isinstance(turn, dict) or turn.get("role") not in _CHAT_ROLES:
            return f"conversation_history[{i}]: expected a user or assistant turn"
        content = turn.get("content")
        # Inline rather than text_problem: a 12-turn conversation's pairs hold 30 history turns.
        if not isinstance(content, str) or not content or content.isspace():
            return f"conversation_history[{i}].content: {text_problem(content)}"
    return None


FORMAT = ExportFormat("training-pairs", ".json", "json", training_pair_records, check_training_pair,
                      "console-era training pairs, one per advisor reply",
                      head=training_pairs_head, list_key="training_pairs", encode=encode_training_pairs,
                      reads=frozenset({"metadata"}), system_prompt=True)
