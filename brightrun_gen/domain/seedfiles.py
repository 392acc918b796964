"""Reading seed files into ConversationRecords: our `brightrun` format and console-era files.

Pure parsing, no database: text in, records out. Every problem becomes one SeedFileError that
names the file and the place (`line 3, column 7`, `training_pairs[2].turn_number`) so the
person holding the file can fix it.

A console-era file carries `training_pairs`, one per advisor reply. Pairs are grouped by
conversation_id and ordered by turn_number; each gives a user turn (current_user_input) and an
assistant turn (target_response). Every annotation is kept in the record's metadata, except
conversation_history, which only repeats or summarises the earlier pairs.
"""

from __future__ import annotations

import codecs
import copy
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from brightrun_gen.domain.models import BrightRunFile, ConversationRecord, Dimensions, Turn
from brightrun_gen.errors import SeedFileError

UNSPECIFIED = "unspecified"

# Keys of a pair that become turns (or repeat them) rather than metadata.
_TURN_KEYS = ("current_user_input", "target_response", "conversation_history")
_CONSOLE_FILE_KEYS = ("dataset_metadata", "consultant_profile", "training_pairs")
_TEXT_DIMENSIONS = ("topic", "content_category", "topic_cluster", "intent", "tone", "outcome_type")

_EXPECTED = {str: "a string", int: "an integer", dict: "an object", list: "a list"}
_JSON_TYPES = {
    dict: "object",
    list: "list",
    str: "string",
    bool: "boolean",
    int: "int",
    float: "float",
    type(None): "null",
}
# Paths inside a training pair that the dimensions are derived from.
_CLIENT_PERSONA = ("conversation_metadata", "client_persona")
_CLIENT_BACKGROUND = ("conversation_metadata", "client_background")
_CONVERSATION_PHASE = ("conversation_metadata", "conversation_phase")
_EXPECTED_OUTCOME = ("conversation_metadata", "expected_outcome")
_TONE_SELECTION = ("response_strategy", "tone_selection")
_PRIMARY_EMOTION = ("emotional_context", "detected_emotions", "primary")
_PROGRESSION_TARGET = ("training_metadata", "emotional_progression_target")
_ARROW = re.compile(r"→|->")
_LABEL_SEPARATOR = re.compile(r"\s+[-–—]\s+")


def parse_seed_file(path: Path) -> list[ConversationRecord]:
    """Read one seed file (our format or a console-era file) into conversation records."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SeedFileError(path.name, "", f"cannot be read: {error.strerror or error}") from None
    return parse_seed_text(_decode_utf8(data, path.name), path.name)


def parse_seed_text(text: str, name: str) -> list[ConversationRecord]:
    """Parse the text of a seed file; `name` is how error messages refer to the file."""
    document = _load_json(text.removeprefix("\ufeff"), name)
    if not isinstance(document, dict):
        raise SeedFileError(
            name,
            "top level",
            f"expected a JSON object (with training_pairs, or a brightrun file), "
            f"got {_json_type(document)}",
        )
    if document.get("format") == "brightrun":
        return _parse_brightrun(document, name)
    if "format" in document and "training_pairs" not in document:
        raise SeedFileError(
            name,
            "format",
            f"unknown format {_short(document['format'])}: "
            "expected 'brightrun' or a console file with training_pairs",
        )
    return _parse_console(document, name)


# --- text and JSON ---------------------------------------------------------------------------


def _decode_utf8(data: bytes, name: str) -> str:
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = start + error.start
        line = data.count(b"\n", 0, offset) + 1
        raise SeedFileError(
            name,
            f"byte {offset}",
            f"not UTF-8 text (0x{data[offset]:02x} on line {line}); save the file as UTF-8",
        ) from None


class _NonStandardNumber(Exception):
    pass


def _reject_constant(constant: str) -> Any:
    raise _NonStandardNumber(constant)


def _load_json(text: str, name: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise SeedFileError(name, f"line {error.lineno}, column {error.colno}", error.msg) from None
    except _NonStandardNumber as error:
        # The databases store metadata as JSON, which has no NaN or Infinity.
        raise SeedFileError(name, "", f"{error} is not valid JSON: use null or a number") from None


# --- our format ------------------------------------------------------------------------------


def _parse_brightrun(document: dict, name: str) -> list[ConversationRecord]:
    try:
        return list(BrightRunFile.model_validate(document).conversations)
    except ValidationError as error:
        raise _validation_error(error, name) from None


def _validation_error(error: ValidationError, name: str) -> SeedFileError:
    """The first problem pydantic found, at its field path, plus how many more there are."""
    problem = error.errors()[0]
    reason = problem["msg"]
    if problem["type"] != "missing" and isinstance(problem.get("input"), (str, int, float)):
        reason += f" (got {_short(problem['input'])})"
    more = error.error_count() - 1
    if more:
        reason += f"; {more} more problem{'s' if more > 1 else ''} after this one"
    return SeedFileError(name, _loc_path(problem["loc"]), reason)


def _loc_path(loc: tuple) -> str:
    """('conversations', 0, 'turns', 3, 'role') -> 'conversations[0].turns[3].role'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "top level"


# --- console-era files: reading --------------------------------------------------------------


@dataclass(frozen=True)
class _Pair:
    """One training pair: where it sits in the file, its two turns and its annotations."""

    where: str
    conversation_id: str
    turn_number: int
    user: str
    assistant: str
    annotations: dict


@dataclass(frozen=True)
class _ConsoleFile:
    """What every conversation of one console file shares."""

    name: str
    dataset_metadata: dict
    consultant_profile: dict
    other: dict
    single_conversation: bool


@dataclass(frozen=True)
class _PersonaSummary:
    label: str
    key: str
    name: str
    archetype: str
    background: str


def _parse_console(document: dict, name: str) -> list[ConversationRecord]:
    if "training_pairs" not in document:
        raise SeedFileError(name, "training_pairs", "missing: expected a list of training pairs")
    raw_pairs = _field(document, "training_pairs", list, "", name, required=True)
    if not raw_pairs:
        raise SeedFileError(name, "training_pairs", "empty: the file holds no training pairs")
    pairs = [_read_pair(raw, index, name) for index, raw in enumerate(raw_pairs)]
    groups = _group_by_conversation(pairs, name)
    file = _ConsoleFile(
        name=name,
        dataset_metadata=_field(document, "dataset_metadata", dict, "", name) or {},
        consultant_profile=_field(document, "consultant_profile", dict, "", name) or {},
        other={k: v for k, v in document.items() if k not in _CONSOLE_FILE_KEYS},
        single_conversation=len(groups) == 1,
    )
    return [_console_record(key, group, file) for key, group in groups.items()]


def _read_pair(raw: Any, index: int, name: str) -> _Pair:
    where = f"training_pairs[{index}]"
    if not isinstance(raw, dict):
        raise SeedFileError(name, where, f"expected an object, got {_json_type(raw)}")
    turn_number = _field(raw, "turn_number", int, where, name, required=True)
    if turn_number < 1:
        raise SeedFileError(name, f"{where}.turn_number", f"expected 1 or more, got {turn_number}")
    return _Pair(
        where=where,
        conversation_id=_text(raw, "conversation_id", where, name),
        turn_number=turn_number,
        user=_text(raw, "current_user_input", where, name),
        assistant=_text(raw, "target_response", where, name),
        annotations={k: v for k, v in raw.items() if k not in _TURN_KEYS},
    )


def _group_by_conversation(pairs: list[_Pair], name: str) -> dict[str, list[_Pair]]:
    """Pairs per conversation_id (in order of first appearance), each sorted by turn_number."""
    groups: dict[str, list[_Pair]] = {}
    for pair in pairs:
        groups.setdefault(pair.conversation_id, []).append(pair)
    for group in groups.values():
        _check_unique_turns(group, name)
        group.sort(key=lambda pair: pair.turn_number)
    return groups


def _check_unique_turns(group: list[_Pair], name: str) -> None:
    seen: dict[int, _Pair] = {}
    for pair in group:
        earlier = seen.setdefault(pair.turn_number, pair)
        if earlier is not pair:
            raise SeedFileError(
                name,
                f"{pair.where}.turn_number",
                f"duplicate: turn {pair.turn_number} of conversation {pair.conversation_id} "
                f"is already {earlier.where}",
            )


# --- console-era files: building the record --------------------------------------------------


def _console_record(key: str, pairs: list[_Pair], file: _ConsoleFile) -> ConversationRecord:
    persona = _persona(pairs, file.name)
    turns = []
    for pair in pairs:
        turns.append(Turn(role="user", content=pair.user))
        turns.append(Turn(role="assistant", content=pair.assistant))
    return ConversationRecord(
        key=key,
        source="seed",
        dimensions=_console_dimensions(key, pairs, persona, file),
        turns=turns,
        metadata=_console_metadata(pairs, persona, file),
    )


def _persona(pairs: list[_Pair], name: str) -> _PersonaSummary:
    """The client, from the first 'Name - Archetype' label among the pairs."""
    label = _first(pairs, _CLIENT_PERSONA, name)
    where = f"{pairs[0].where}.{'.'.join(_CLIENT_PERSONA)}"
    if label is None:
        example = '"Marcus Thompson - The Overwhelmed Avoider"'
        raise SeedFileError(name, where, f"missing: expected the client, e.g. {example}")
    parts = _LABEL_SEPARATOR.split(label, maxsplit=1)
    person, archetype = parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")
    key = _slug(person)
    if not key:
        raise SeedFileError(name, where, f"expected the client's name, got {_short(label)}")
    background = _first(pairs, _CLIENT_BACKGROUND, name) or ""
    return _PersonaSummary(label, key, person, archetype, background)


def _console_dimensions(
    key: str, pairs: list[_Pair], persona: _PersonaSummary, file: _ConsoleFile
) -> Dimensions:
    name = file.name
    derived = {
        "topic": _topic_from_notes(key, file),
        "intent": _slug_or_none(_first(pairs, _CONVERSATION_PHASE, name)),
        "tone": _slug_or_none(_first(pairs, _TONE_SELECTION, name)),
        "outcome_type": _outcome_type(_first(pairs, _EXPECTED_OUTCOME, name)),
    }
    declared = _declared_dimensions(pairs[0], file)
    text = {dim: declared.get(dim) or derived.get(dim) or UNSPECIFIED for dim in _TEXT_DIMENSIONS}
    return Dimensions(
        tier=_tier(pairs[0], file),
        persona=persona.key,
        emotion_start=_emotion_start(pairs[0], name),
        emotion_end=_emotion_end(pairs[-1], name),
        **text,
    )


def _declared_dimensions(first: _Pair, file: _ConsoleFile) -> dict[str, str]:
    """Dimensions a file states outright, under their own names, beat derived ones."""
    declared = {}
    for dim in _TEXT_DIMENSIONS:
        in_file = _lookup(file.dataset_metadata, (dim,), str, "dataset_metadata", file.name)
        in_pair = _pair_value(first, ("conversation_metadata", dim), file.name)
        value = (in_pair or in_file or "").strip()
        if value:
            declared[dim] = value
    return declared


def _tier(first: _Pair, file: _ConsoleFile) -> int:
    """1 unless the first pair's conversation_metadata or the dataset_metadata says otherwise."""
    tier = _pair_value(first, ("conversation_metadata", "tier"), file.name, int)
    where = f"{first.where}.conversation_metadata.tier"
    if tier is None:
        tier = _lookup(file.dataset_metadata, ("tier",), int, "dataset_metadata", file.name)
        where = "dataset_metadata.tier"
    if tier is None:
        return 1
    if tier not in (1, 2, 3):
        raise SeedFileError(file.name, where, f"expected 1, 2 or 3, got {tier}")
    return tier


def _emotion_start(first: _Pair, name: str) -> str:
    """The first pair's primary emotion, else the left side of its progression target."""
    primary = _slug_or_none(_pair_value(first, _PRIMARY_EMOTION, name))
    sides = _progression(_pair_value(first, _PROGRESSION_TARGET, name))
    return primary or (sides and _lead_emotion(sides[0])) or UNSPECIFIED


def _emotion_end(last: _Pair, name: str) -> str:
    """Where the last pair aims to leave the client, else the emotion that pair starts from."""
    sides = _progression(_pair_value(last, _PROGRESSION_TARGET, name))
    primary = _slug_or_none(_pair_value(last, _PRIMARY_EMOTION, name))
    return (sides and _lead_emotion(sides[1])) or primary or UNSPECIFIED


def _progression(target: str | None) -> tuple[str, str] | None:
    """The two sides of 'overwhelm(0.80) + shame(0.70) → relief(0.60)'; None without an arrow."""
    parts = _ARROW.split(target) if target else []
    return (parts[0], parts[-1]) if len(parts) >= 2 else None


def _lead_emotion(side: str) -> str | None:
    """'validated_fear(0.65) + curiosity(0.50)' -> 'validated_fear'."""
    return _slug_or_none(re.split(r"[(+]", side, maxsplit=1)[0])


def _topic_from_notes(key: str, file: _ConsoleFile) -> str | None:
    """'fp_marcus_004 - Inheritance guilt (merged from two source files)' -> 'inheritance_guilt'.

    Notes name one conversation, so in a file holding several they count only for the
    conversation whose id they start with.
    """
    notes = _lookup(file.dataset_metadata, ("notes",), str, "dataset_metadata", file.name)
    head, separator, rest = (notes or "").partition(" - ")
    if not separator or (head.strip() != key and not file.single_conversation):
        return None
    phrase = re.sub(r"\([^)]*\)", " ", rest.split(" - ")[0])
    phrase = re.sub(r"\s+conversation\s*$", "", phrase.strip(), flags=re.IGNORECASE)
    return _slug_or_none(phrase)


def _outcome_type(expected_outcome: str | None) -> str | None:
    """'reduce overwhelm, normalize confusion, …' -> 'reduce_overwhelm' (the first aim)."""
    if not expected_outcome:
        return None
    return _slug_or_none(re.split(r"[,;]", expected_outcome, maxsplit=1)[0])


def _console_metadata(pairs: list[_Pair], persona: _PersonaSummary, file: _ConsoleFile) -> dict:
    metadata = {
        "format": "console",
        "source_file": file.name,
        "dataset_metadata": copy.deepcopy(file.dataset_metadata),
        "consultant_profile": copy.deepcopy(file.consultant_profile),
        "persona_label": persona.label,
        "client_background": persona.background,
        "persona": {
            "key": persona.key,
            "name": persona.name,
            "archetype": persona.archetype,
            "background": persona.background,
        },
        "pairs": [_pair_metadata(pair) for pair in pairs],
    }
    if file.other:
        metadata["other"] = copy.deepcopy(file.other)
    return metadata


def _pair_metadata(pair: _Pair) -> dict:
    """Every annotation of the pair, turn_number and id first."""
    ordered: dict = {"turn_number": pair.turn_number}
    if "id" in pair.annotations:
        ordered["id"] = pair.annotations["id"]
    ordered.update(pair.annotations)
    return ordered


# --- typed access to parsed JSON -------------------------------------------------------------


def _field(
    obj: dict, key: str, kind: type, where: str, name: str, *, required: bool = False
) -> Any:
    """obj[key] checked against kind; None when an optional field is absent or null."""
    path = f"{where}.{key}" if where else key
    if key not in obj or (obj[key] is None and not required):
        if required:
            raise SeedFileError(name, path, f"missing: expected {_EXPECTED[kind]}")
        return None
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SeedFileError(name, path, f"expected {_EXPECTED[kind]}, got {_json_type(value)}")
    return value


def _text(obj: dict, key: str, where: str, name: str) -> str:
    """A required string that holds more than whitespace."""
    value = _field(obj, key, str, where, name, required=True)
    if not value.strip():
        raise SeedFileError(name, f"{where}.{key}", "empty")
    return value


def _lookup(obj: dict, keys: tuple[str, ...], kind: type, where: str, name: str) -> Any:
    """obj[k1][k2]… checked against kind; None when any level is absent or null."""
    for key in keys[:-1]:
        obj = _field(obj, key, dict, where, name)
        if obj is None:
            return None
        where = f"{where}.{key}" if where else key
    return _field(obj, keys[-1], kind, where, name)


def _pair_value(pair: _Pair, keys: tuple[str, ...], name: str, kind: type = str) -> Any:
    return _lookup(pair.annotations, keys, kind, pair.where, name)


def _first(pairs: list[_Pair], keys: tuple[str, ...], name: str) -> str | None:
    """The first non-empty string at keys among the pairs, in turn order."""
    for pair in pairs:
        value = _pair_value(pair, keys, name)
        if value and value.strip():
            return value.strip()
    return None


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slug(text: str) -> str:
    """'Marcus Thompson' -> 'marcus_thompson'; "doesn't" -> 'doesnt'."""
    text = re.sub(r"['’]", "", text)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")


def _slug_or_none(text: str | None) -> str | None:
    return (_slug(text) or None) if text else None
