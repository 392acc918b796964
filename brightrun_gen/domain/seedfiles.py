"""Reading seed files into ConversationRecords: our `brightrun` format and console-era files.

Pure parsing, no database: text in, records out. Every problem becomes one SeedFileError that
names the file and the place (`line 3, column 7`, `training_pairs[2].turn_number`) so the
person holding the file can fix it.

A console-era file carries `training_pairs`, one per advisor reply. Pairs are grouped by
conversation_id and ordered by turn_number; each gives a user turn (current_user_input) and an
assistant turn (target_response). Every annotation is kept in the record's metadata, except
conversation_history, which only repeats or summarises the earlier pairs.

Files come from people and other tools, so the parser bounds what it accepts before anything
reaches the store: the file's size, how deeply its JSON nests, the turns of one conversation,
and values no database column can hold (NUL characters, lone surrogates, infinite numbers).
"""

from __future__ import annotations

import codecs
import copy
import json
import math
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from brightrun_gen.domain.models import (
    CONVERSATION_TURNS_MAX,
    KEY_MAX,
    NAME_MAX,
    BrightRunFile,
    ConversationRecord,
    Dimensions,
    Turn,
)
from brightrun_gen.errors import SeedFileError

UNSPECIFIED = "unspecified"

# Our seed files are tens of kilobytes; an export of thousands of conversations a few MB.
MAX_FILE_BYTES = 25 * 1024 * 1024
# Real files nest about six levels deep; the limit keeps every later recursive walk
# (validation, flattening the metadata) far from Python's recursion limit.
MAX_NESTING = 32
# The store's conversation_metadata.key column: metadata is stored as dotted paths.
METADATA_KEY_MAX = 300
# The store's model columns (the importer takes metadata.generation.model as the author).
MODEL_NAME_MAX = 80

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
        _check_file(path)
        data = path.read_bytes()
    except OSError as error:
        raise SeedFileError(path.name, "", f"cannot be read: {error.strerror or error}") from None
    return parse_seed_text(_decode_utf8(data, path.name), path.name)


def parse_seed_text(text: str, name: str) -> list[ConversationRecord]:
    """Parse the text of a seed file; `name` is how error messages refer to the file."""
    if len(text) > MAX_FILE_BYTES:
        raise SeedFileError(name, "", f"is {_megabytes(len(text))}; a seed file may be at most "
                                      f"{_megabytes(MAX_FILE_BYTES)}: split it into smaller files")
    document = _load_json(text.removeprefix("\ufeff"), name)
    _check_values(document, name)
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

# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_OTHER_ENCODINGS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _check_file(path: Path) -> None:
    """A regular file no bigger than MAX_FILE_BYTES, checked before a byte is read."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise SeedFileError(path.name, "", "is not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise SeedFileError(path.name, "", f"is {_megabytes(info.st_size)}; a seed file may be at most "
                                           f"{_megabytes(MAX_FILE_BYTES)}: split it into smaller files")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _decode_utf8(data: bytes, name: str) -> str:
    for bom, encoding in _OTHER_ENCODINGS:
        if data.startswith(bom):
            raise SeedFileError(name, "byte 0", f"{encoding} text (it starts with a {encoding} byte order mark); "
                                                "save the file as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        # JSON text never holds a NUL byte, in or out of strings; UTF-16 text is full of them.
        line = data.count(b"\n", 0, nul) + 1
        raise SeedFileError(name, f"byte {nul}", f"a NUL byte (line {line}): not JSON text, perhaps UTF-16 "
                                                 "without a byte order mark; save the file as UTF-8")
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
    except RecursionError:
        raise SeedFileError(name, "", f"nested too deeply: at most {MAX_NESTING} levels of arrays and objects") from None
    except ValueError as error:  # an integer with more digits than Python converts
        raise SeedFileError(name, "", f"a value cannot be read: {error}") from None


def _check_values(document: Any, name: str) -> None:
    """Every value fits the store: bounded nesting, storable text, finite numbers.

    Iterative, so a hostile file cannot exhaust the stack here either.
    """
    stack: list[tuple[Any, tuple, int]] = [(document, (), 1)]
    while stack:
        value, loc, depth = stack.pop()
        if isinstance(value, (dict, list)) and depth > MAX_NESTING:
            raise SeedFileError(name, _loc_path(loc), f"nested too deeply: at most {MAX_NESTING} levels "
                                                      "of arrays and objects")
        # Children are pushed in reverse so the first problem in file order is the one reported.
        if isinstance(value, dict):
            for key in value:
                _check_text(key, loc, name, f"key {_short(key)}")
            stack.extend((item, loc + (key,), depth + 1) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((value[i], loc + (i,), depth + 1) for i in reversed(range(len(value))))
        elif isinstance(value, str):
            _check_text(value, loc, name, "text")
        elif isinstance(value, float) and not math.isfinite(value):
            raise SeedFileError(name, _loc_path(loc), "number too large to store: use a smaller number or a string")


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _check_text(text: str, loc: tuple, name: str, what: str) -> None:
    if "\x00" in text:
        raise SeedFileError(name, _loc_path(loc), f"the {what} holds a NUL character (\\u0000), "
                                                  "which the database cannot store; remove it")
    if _SURROGATE.search(text):
        raise SeedFileError(name, _loc_path(loc), f"the {what} holds an unpaired surrogate (\\ud800-\\udfff), "
                                                  "which is not valid Unicode; remove it")


# --- our format ------------------------------------------------------------------------------


def _parse_brightrun(document: dict, name: str) -> list[ConversationRecord]:
    try:
        records = list(BrightRunFile.model_validate(document).conversations)
    except ValidationError as error:
        raise _validation_error(error, name) from None
    first_with_key: dict[str, int] = {}
    for index, record in enumerate(records):
        earlier = first_with_key.setdefault(record.key, index)
        if earlier != index:
            raise SeedFileError(name, f"conversations[{index}].key",
                                f"duplicate: {_short(record.key)} is already conversations[{earlier}]")
        _check_metadata(record.metadata, f"conversations[{index}].metadata", name)
    return records


def _check_metadata(metadata: dict, where: str, name: str) -> None:
    """What the importer reads from metadata has the right shape, and every key fits its column."""
    persona = metadata.get("persona")
    if persona is not None:
        if not isinstance(persona, dict):
            raise SeedFileError(name, f"{where}.persona", f"expected an object, got {_json_type(persona)}")
        limits = {"key": KEY_MAX, "name": NAME_MAX, "archetype": NAME_MAX, "background": None}
        for field, limit in limits.items():
            _bounded_text(persona, field, limit, f"{where}.persona", name)
    generation = metadata.get("generation")
    if generation is not None:
        if not isinstance(generation, dict):
            raise SeedFileError(name, f"{where}.generation", f"expected an object, got {_json_type(generation)}")
        _bounded_text(generation, "model", MODEL_NAME_MAX, f"{where}.generation", name)
    _check_metadata_keys(metadata, where, name)


def _bounded_text(obj: dict, key: str, limit: int | None, where: str, name: str) -> None:
    value = _field(obj, key, str, where, name)
    if value is not None and limit is not None and len(value) > limit:
        raise SeedFileError(name, f"{where}.{key}", f"{len(value)} characters; at most {limit} are allowed")


def _check_metadata_keys(metadata: dict, where: str, name: str) -> None:
    """The dotted paths the store flattens metadata into fit its key column, once each.

    Mirrors store.conversations.flatten: objects always nest, lists only when they hold
    objects or lists (a list of plain values is stored whole). Two annotations can meet on
    one path when a key holds a dot: {"a.b": 1, "a": {"b": 2}}.
    """
    seen: set[str] = set()
    stack: list[tuple[Any, str]] = [(metadata, "")]
    while stack:
        value, prefix = stack.pop()
        if isinstance(value, dict) and value:
            stack.extend((item, f"{prefix}.{key}" if prefix else str(key)) for key, item in value.items())
        elif isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
            stack.extend((item, f"{prefix}.{i}" if prefix else str(i)) for i, item in enumerate(value))
        else:
            path = prefix or "value"
            if len(path) > METADATA_KEY_MAX:
                raise SeedFileError(name, where, f"the annotation path {_short(path)} is {len(path)} characters "
                                                 f"long; at most {METADATA_KEY_MAX} can be stored")
            if path in seen:
                raise SeedFileError(name, where, f"two annotations have the path {_short(path)}; "
                                                 "rename the key that holds a dot")
            seen.add(path)


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
    _check_turn_counts(groups, name)
    file = _ConsoleFile(
        name=name,
        dataset_metadata=_field(document, "dataset_metadata", dict, "", name) or {},
        consultant_profile=_field(document, "consultant_profile", dict, "", name) or {},
        other={k: v for k, v in document.items() if k not in _CONSOLE_FILE_KEYS},
        single_conversation=len(groups) == 1,
    )
    records = [_console_record(key, group, file) for key, group in groups.items()]
    for record in records:
        _check_metadata(record.metadata, f"conversation {_short(record.key)}", name)
    return records


def _check_turn_counts(groups: dict[str, list[_Pair]], name: str) -> None:
    """Refuse a conversation longer than the store takes before building any of its turns."""
    limit = CONVERSATION_TURNS_MAX // 2
    for key, group in groups.items():
        if len(group) > limit:
            raise SeedFileError(
                name, "training_pairs",
                f"conversation {_short(key)} has {len(group)} training pairs ({2 * len(group)} turns); "
                f"at most {limit} pairs ({CONVERSATION_TURNS_MAX} turns) per conversation can be imported",
            )


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
        turns.append(_turn("user", pair.user, f"{pair.where}.current_user_input", file.name))
        turns.append(_turn("assistant", pair.assistant, f"{pair.where}.target_response", file.name))
    try:
        return ConversationRecord(
            key=key,
            source="seed",
            dimensions=_console_dimensions(key, pairs, persona, file),
            turns=turns,
            metadata=_console_metadata(pairs, persona, file),
        )
    except ValidationError as error:
        raise _console_validation_error(error, key, pairs, file.name) from None


def _turn(role: str, content: str, where: str, name: str) -> Turn:
    try:
        return Turn(role=role, content=content)
    except ValidationError as error:
        raise SeedFileError(name, where, error.errors()[0]["msg"]) from None


def _console_validation_error(error: ValidationError, key: str, pairs: list[_Pair], name: str) -> SeedFileError:
    """A key or derived dimension too long for the store, named where the file holds it."""
    problem = error.errors()[0]
    loc = problem["loc"]
    if loc[0] == "key":
        return SeedFileError(name, f"{pairs[0].where}.conversation_id", problem["msg"])
    got = f" (got {_short(problem['input'])})" if isinstance(problem.get("input"), str) else ""
    what = f"dimension {_loc_path(loc)}" if error.title == "Dimensions" else _loc_path(loc)
    return SeedFileError(name, f"conversation {_short(key)}", f"{what}: {problem['msg']}{got}")


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
    if len(person) > NAME_MAX or len(archetype) > NAME_MAX or len(key) > KEY_MAX:
        raise SeedFileError(name, where, f"the client's name and archetype may be at most {NAME_MAX} characters "
                                         f"each (got {_short(label)})")
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
