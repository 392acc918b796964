"""Export formats: pure builders from stored conversations to the records trainers load.

Each format turns one `ExportConversation` into records (a JSONL line, an element of a JSON
document's list, or a CSV row) and has a check that every record must pass before the service
writes it, so a file that leaves Bright Run loads in its consumer as it is. No I/O here: the
store hands over `ExportConversation`s, `services/exporting.py` streams records to disk.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Callable, Iterable, Literal, Mapping, NamedTuple, Sequence

from pydantic import ValidationError

from brightrun_gen.domain.models import DECISIONS, Advisor, ConversationRecord, Dimensions
from brightrun_gen.errors import BrightRunError, InputError

OFFLINE_MODEL = "offline"
# Keys of a brightrun record's metadata that hold facts the store keeps about the conversation.
STORE_FACTS = ("generation", "quality", "review", "judgement")
DIMENSION_NAMES = tuple(Dimensions.model_fields)
# What a conversation carries beyond its row and turns; a format reads only the parts it writes.
PARTS = frozenset(("metadata", "quality", "usage", "reviews", "judgement"))


class InvalidExportRecord(BrightRunError):
    """A conversation that would make an invalid file; the message names it and the reason."""


# --- what the store hands over ---------------------------------------------------------------


class ExportTurn(NamedTuple):
    """A stored turn as exports read it: 120,000 of these cost a tenth of as many pydantic Turns.

    Not validated on the way in: the export's checks name the conversation and the turn instead.
    """

    role: str
    content: str


@dataclass(frozen=True)
class Usage:
    """Tokens and cost over every generation attempt logged for the conversation."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class Generation:
    """How the current version was written."""

    version: int
    model: str | None = None
    template_name: str | None = None
    template_hash: str | None = None
    log_id: int | None = None


@dataclass(frozen=True)
class ReviewEvent:
    version: int
    action: str
    reviewer: str
    notes: str | None
    at: str

    def as_dict(self) -> dict:
        return {"action": self.action, "at": self.at, "notes": self.notes,
                "reviewer": self.reviewer, "version": self.version}


@dataclass(frozen=True)
class ExportConversation:
    """One stored conversation at its current version, with everything any format needs."""

    id: int
    key: str
    source: str
    status: str
    dimensions: Dimensions
    turns: tuple[ExportTurn, ...]
    metadata: dict
    quality: dict | None
    quality_score: float | None
    reviewer_notes: str | None
    generation: Generation
    usage: Usage = Usage()
    review_events: tuple[ReviewEvent, ...] = ()
    judgement: dict | None = None  # the judge's view of the current version: criteria, per-turn scores, verdict


@dataclass(frozen=True)
class ExportContext:
    """What every record of one export shares."""

    advisor: Advisor | None
    include_system: bool = True
    persona_labels: Mapping[str, str] = field(default_factory=dict)
    dataset_name: str = "brightrun_export"
    description: str = ""
    created_on: str = ""

    @cached_property
    def system_prompt(self) -> str | None:
        if not self.include_system or self.advisor is None:
            return None
        return advisor_system_prompt(self.advisor)


@dataclass(frozen=True)
class FileTotals:
    conversations: int
    turns: int


Records = Callable[[ExportConversation, ExportContext], list[dict]]
Check = Callable[[dict], "str | None"]
Head = Callable[[ExportContext, FileTotals], dict]
Encode = Callable[[list[dict]], list[bytes]]


# json.dumps with options builds a new encoder per call; millions of small values make that count.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
_SORTED_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True)


def json_text(value: Any) -> str:
    """The one JSON encoding of every export: UTF-8 text as it is, NaN and Infinity refused."""
    return _ENCODER.encode(value)


def encode_records(records: list[dict]) -> list[bytes]:
    """UTF-8 JSON of each record (raises ValueError on NaN or Infinity)."""
    return [json_text(record).encode() for record in records]


@dataclass(frozen=True)
class ExportFormat:
    """A format: how to build and check its records and how its file is laid out."""

    name: str
    suffix: str
    layout: Literal["jsonl", "json", "csv"]
    records: Records
    check: Check
    description: str
    head: Head | None = None  # json layout: the document's keys before its list
    list_key: str = ""  # json layout: the key of the list the records go in
    columns: tuple[str, ...] = ()  # csv layout
    carries_turns: bool = True  # False: the turns are not in the file, so their order does not matter
    reads: frozenset[str] = frozenset()  # of PARTS: what to load beyond the row and the turns
    encode: Encode = encode_records  # jsonl and json layouts: the records of one conversation to bytes


# --- the advisor's system prompt -------------------------------------------------------------


def advisor_system_prompt(advisor: Advisor) -> str:
    """One paragraph that puts the model in Elena's place, built from the advisor profile."""
    principles = " ".join(f"({i}) {_sentence(p)}" for i, p in enumerate(advisor.core_philosophy, 1))
    return " ".join([
        f"You are {advisor.name} of {advisor.business}, with {advisor.years_experience} years "
        f"of experience in {_lower_first(advisor.expertise).rstrip('.')}.",
        "You talk with a client in a chat, one reply at a time.",
        f"Your principles: {principles}",
        f"Your tone: {_lower_first(_sentence(advisor.tone))}",
        # The techniques are left to the training conversations, which show them turn by turn.
        f"Never: {'; '.join(_lower_first(a) for a in advisor.avoid)}.",
    ])


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _lower_first(text: str) -> str:
    """'Use the client's numbers' -> 'use the client's numbers'; 'CFP rules' stays."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


# --- checks shared by every format -----------------------------------------------------------


def conversation_problem(conv: ExportConversation) -> str | None:
    """Why these turns cannot be training data, or None: empty text, roles out of order."""
    for i, turn in enumerate(conv.turns):
        if _text_problem(turn.content):
            return f"turn {i + 1} ({turn.role}): empty content"
    return _order_problem([turn.role for turn in conv.turns], ("user", "assistant"), "turn {}", 1)


def _order_problem(roles: Sequence[str], pair: tuple[str, str], where: str, base: int) -> str | None:
    """Roles alternate pair[0]/pair[1], starting with pair[0] and ending with pair[1].

    `where` names a position, e.g. "turn {}" or "messages[{}]"; `base` is the number of the first.
    """
    first, second = pair
    if len(roles) < 2:
        return f"needs at least one {first} and one {second} turn, got {len(roles)} turn(s)"
    for i, role in enumerate(roles):
        expected = pair[i % 2]
        if role != expected:
            return f"{where.format(i + base)}: expected role {expected!r}, got {role!r} (roles alternate, {first} first)"
    if roles[-1] != second:
        return f"{where.format(len(roles) - 1 + base)}: the last turn must be {second!r}, got {roles[-1]!r}"
    return None


def _text_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"expected text, got {type(value).__name__}"
    return "empty text" if not value or value.isspace() else None


def _messages_problem(record: dict, list_key: str, role_key: str, text_key: str,
                      roles: tuple[str, str, str]) -> str | None:
    """A chat record: only `list_key`; system (optional, first), then user/assistant alternating."""
    if set(record) != {list_key}:
        return f"expected exactly the key {list_key!r}, got {sorted(record)}"
    messages = record[list_key]
    if not isinstance(messages, list) or not messages:
        return f"{list_key}: expected a non-empty list"
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or set(message) != {role_key, text_key}:
            return f"{list_key}[{i}]: expected exactly the keys {role_key!r} and {text_key!r}"
        if message[role_key] not in roles:
            return f"{list_key}[{i}].{role_key}: {message[role_key]!r} is not one of {', '.join(roles)}"
        problem = _text_problem(message[text_key])
        if problem:
            return f"{list_key}[{i}].{text_key}: {problem}"
    system, user, assistant = roles
    offset = 1 if messages[0][role_key] == system else 0
    return _order_problem([m[role_key] for m in messages[offset:]], (user, assistant), f"{list_key}[{{}}]", offset)


# --- openai / TRL conversational -------------------------------------------------------------


def openai_records(conv: ExportConversation, ctx: ExportContext) -> list[dict]:
    system = [{"role": "system", "content": ctx.system_prompt}] if ctx.system_prompt else []
    return [{"messages": system + [{"role": t.role, "content": t.content} for t in conv.turns]}]


def check_openai(record: dict) -> str | None:
    return _messages_problem(record, "messages", "role", "content", ("system", "user", "assistant"))


# --- ShareGPT --------------------------------------------------------------------------------

_SHAREGPT_FROM = {"user": "human", "assistant": "gpt"}


def sharegpt_records(conv: ExportConversation, ctx: ExportContext) -> list[dict]:
    system = [{"from": "system", "value": ctx.system_prompt}] if ctx.system_prompt else []
    return [{"conversations": system + [{"from": _SHAREGPT_FROM[t.role], "value": t.content} for t in conv.turns]}]


def check_sharegpt(record: dict) -> str | None:
    return _messages_problem(record, "conversations", "from", "value", ("system", "human", "gpt"))


# --- brightrun: our own full record ----------------------------------------------------------


def brightrun_head(ctx: ExportContext, totals: FileTotals) -> dict:
    head: dict = {
        "format": "brightrun",
        "version": 1,
        "dataset": {"name": ctx.dataset_name, "description": ctx.description, "created_at": ctx.created_on},
    }
    if ctx.advisor is not None:
        head["advisor"] = ctx.advisor.model_dump()
    return head


def brightrun_records(conv: ExportConversation, ctx: ExportContext) -> list[dict]:
    return [{
        "key": conv.key,
        "source": conv.source,
        "dimensions": conv.dimensions.model_dump(exclude_none=True),
        "turns": [{"role": t.role, "content": t.content} for t in conv.turns],
        "metadata": brightrun_metadata(conv),
    }]


def brightrun_metadata(conv: ExportConversation) -> dict:
    """The stored annotations plus the store's facts: generation, quality, review."""
    annotations = {k: v for k, v in conv.metadata.items() if k not in STORE_FACTS}
    facts = {"generation": _generation_facts(conv), "quality": conv.quality, "review": _review_facts(conv)}
    judgement = conv.judgement if conv.judgement is not None else _carried(conv, "judgement")
    if judgement:
        facts["judgement"] = judgement
    return {**annotations, **facts}


def encode_brightrun(records: list[dict]) -> list[bytes]:
    """Like `encode_records`, with the metadata's keys sorted at every level.

    Stores give metadata back in their own key order (PostgreSQL's JSONB reorders keys), so
    sorting makes the same facts the same bytes whichever database they were read from.
    """
    encoded = []
    for record in records:
        if "metadata" not in record:
            encoded.append(json_text(record).encode())
            continue
        rest = json_text({k: v for k, v in record.items() if k != "metadata"})
        metadata = _SORTED_ENCODER.encode(record["metadata"])
        encoded.append(f'{rest[:-1]}{", " if len(rest) > 2 else ""}"metadata": {metadata}}}'.encode())
    return encoded


def _carried(conv: ExportConversation, name: str) -> dict:
    """Facts an imported brightrun file brought; they describe its text, version 1 here.

    The importer does not replay reviews or generation logs, so without these an export of an
    imported conversation would lose them.
    """
    value = conv.metadata.get(name)
    return value if conv.generation.version == 1 and isinstance(value, dict) else {}


def _generation_facts(conv: ExportConversation) -> dict:
    """What the store knows about how the text was written wins over what a file carried."""
    g, usage = conv.generation, conv.usage
    facts = {"model": None, "template_name": None, "template_hash": None, "log_id": None,
             "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0, **_carried(conv, "generation")}
    known = {"model": g.model, "template_name": g.template_name, "template_hash": g.template_hash, "log_id": g.log_id}
    facts.update({k: v for k, v in known.items() if v is not None})
    if usage.calls:
        facts.update(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens, cost_usd=usage.cost_usd)
    # Carried numbers come back from SQLite's NUMERIC-affinity JSON column as 0 for 0.0: fix the types.
    facts.update(input_tokens=int(facts["input_tokens"] or 0), output_tokens=int(facts["output_tokens"] or 0),
                 cost_usd=round(float(facts["cost_usd"] or 0), 6))
    return facts


def _review_facts(conv: ExportConversation) -> dict:
    """This store's review decision; a carried one only while nobody here has decided."""
    events = [event.as_dict() for event in conv.review_events]
    decided = bool(events) or conv.reviewer_notes is not None or conv.status in DECISIONS
    carried = _carried(conv, "review")
    if carried and not decided:
        return carried
    return {"status": conv.status, "notes": conv.reviewer_notes, "events": events}


def check_brightrun(record: dict) -> str | None:
    try:
        parsed = ConversationRecord.model_validate(record)
    except ValidationError as error:
        problem = error.errors()[0]
        return f"{'.'.join(str(p) for p in problem['loc']) or 'record'}: {problem['msg']}"
    for i, turn in enumerate(parsed.turns):
        if _text_problem(turn.content):
            return f"turns[{i}].content: empty text"
    return _order_problem([t.role for t in parsed.turns], ("user", "assistant"), "turns[{}]", 0)


# --- training pairs: the console-era shape ---------------------------------------------------

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


def _training_pair(conv: ExportConversation, ctx: ExportContext, n: int, pair: tuple[ExportTurn, ExportTurn],
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
        if _text_problem(record[key]):
            return f"{key}: {_text_problem(record[key])}"
    number = record.get("turn_number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        return f"turn_number: expected an integer of 1 or more, got {number!r}"
    if "system_prompt" in record and _text_problem(record["system_prompt"]):
        return f"system_prompt: {_text_problem(record['system_prompt'])}"
    return _history_problem(record.get("conversation_history"))


def _history_problem(history: Any) -> str | None:
    if not isinstance(history, list):
        return "conversation_history: expected a list"
    for i, turn in enumerate(history):
        if not isinstance(turn, dict) or turn.get("role") not in _CHAT_ROLES:
            return f"conversation_history[{i}]: expected a user or assistant turn"
        content = turn.get("content")
        # Inline rather than _text_problem: a 12-turn conversation's pairs hold 30 history turns.
        if not isinstance(content, str) or not content or content.isspace():
            return f"conversation_history[{i}].content: {_text_problem(content)}"
    return None


# --- CSV: one row per conversation -----------------------------------------------------------

CSV_COLUMNS = (
    "id", "key", "status", "source", "model", "version", *DIMENSION_NAMES, "quality_score",
    "turns", "input_tokens", "output_tokens", "cost_usd", "reviewer_notes",
)
_CSV_REQUIRED = ("id", "key", "status", "source", "tier", "persona", "emotion_start", "emotion_end", "topic")


def csv_records(conv: ExportConversation, ctx: ExportContext) -> list[dict]:
    usage = conv.usage
    return [{
        "id": conv.id,
        "key": conv.key,
        "status": conv.status,
        "source": conv.source,
        "model": conv.generation.model,
        "version": conv.generation.version,
        **conv.dimensions.model_dump(),
        "quality_score": conv.quality_score,
        "turns": len(conv.turns),
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cost_usd": round(usage.cost_usd, 6),
        "reviewer_notes": conv.reviewer_notes,
    }]


def check_csv(record: dict) -> str | None:
    if tuple(record) != CSV_COLUMNS:
        return f"expected the columns {', '.join(CSV_COLUMNS)}"
    for column in _CSV_REQUIRED:
        if record[column] is None or str(record[column]).strip() == "":
            return f"{column}: empty"
    return None


# --- the formats -----------------------------------------------------------------------------

FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("openai", ".jsonl", "jsonl", openai_records, check_openai,
                     "OpenAI / TRL conversational JSONL: {\"messages\": [{role, content}, …]}"),
        ExportFormat("sharegpt", ".jsonl", "jsonl", sharegpt_records, check_sharegpt,
                     "ShareGPT JSONL: {\"conversations\": [{from, value}, …]}"),
        ExportFormat("brightrun", ".json", "json", brightrun_records, check_brightrun,
                     "Bright Run JSON: the full record, re-importable with import-seeds",
                     head=brightrun_head, list_key="conversations", encode=encode_brightrun, reads=PARTS),
        ExportFormat("training-pairs", ".json", "json", training_pair_records, check_training_pair,
                     "console-era training pairs, one per advisor reply",
                     head=training_pairs_head, list_key="training_pairs", encode=encode_training_pairs,
                     reads=frozenset({"metadata"})),
        ExportFormat("csv", ".csv", "csv", csv_records, check_csv,
                     "CSV metadata: one row per conversation", columns=CSV_COLUMNS, carries_turns=False,
                     reads=frozenset({"usage"})),
    )
}


def get_format(name: str) -> ExportFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise InputError(f"export format {name!r} is unknown; use one of {', '.join(FORMATS)}") from None


# --- deterministic train/validation split ----------------------------------------------------


def assign_splits(keys_and_tiers: Iterable[tuple[str, int]], ratio: float, seed: int) -> dict[str, str]:
    """'train' or 'val' for each key: per tier, keys ordered by sha256(seed:key), the first
    round(ratio × n) train. The same keys, ratio and seed always give the same assignment."""
    if not 0 < ratio < 1 or math.isnan(ratio):
        raise InputError(f"split ratio {ratio}: expected a number between 0 and 1 (the share for train), e.g. 0.9")
    by_tier: dict[int, list[str]] = defaultdict(list)
    for key, tier in sorted(keys_and_tiers):
        by_tier[tier].append(key)
    assignment: dict[str, str] = {}
    for keys in by_tier.values():
        ordered = sorted(keys, key=lambda key: hashlib.sha256(f"{seed}:{key}".encode()).hexdigest())
        train = math.floor(len(ordered) * ratio + 0.5)
        assignment.update({key: "train" if i < train else "val" for i, key in enumerate(ordered)})
    return assignment
