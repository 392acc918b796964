"""Reading console-era seed files (`training_pairs`) into ConversationRecords.

A console-era file carries `training_pairs`, one per advisor reply. Pairs are grouped by
conversation_id and ordered by turn_number; each gives a user turn (current_user_input) and an
assistant turn (target_response). Every annotation is kept in the record's metadata, except
conversation_history, which only repeats or summarises the earlier pairs. The dimensions are
derived from the annotations (client persona, tone, emotions, the notes' topic) unless the file
states them outright.

Pure parsing, like `seedfiles`, which hands these files over and checks the records' metadata.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from brightrun_gen.domain.models import CONVERSATION_TURNS_MAX, KEY_MAX, NAME_MAX, ConversationRecord, Dimensions, Turn
from brightrun_gen.domain.seedjson import json_type, loc_path, nonblank_text, short, typed_field, typed_lookup
from brightrun_gen.errors import SeedFileError

UNSPECIFIED = "unspecified"

# Keys of a pair that become turns (or repeat them) rather than metadata.
_TURN_KEYS = ("current_user_input", "target_response", "conversation_history")
_CONSOLE_FILE_KEYS = ("dataset_metadata", "consultant_profile", "training_pairs")
_TEXT_DIMENSIONS = ("topic", "content_category", "topic_cluster", "intent", "tone", "outcome_type")
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


# --- reading the pairs -----------------------------------------------------------------------


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


def parse_console(document: dict, name: str) -> list[ConversationRecord]:
    """The conversations of one console-era file, a JSON object already checked for storable values."""
    if "training_pairs" not in document:
        raise SeedFileError(name, "training_pairs", "missing: expected a list of training pairs")
    raw_pairs = typed_field(document, "training_pairs", list, "", name, required=True)
    if not raw_pairs:
        raise SeedFileError(name, "training_pairs", "empty: the file holds no training pairs")
    pairs = [_read_pair(raw, index, name) for index, raw in enumerate(raw_pairs)]
    groups = _group_by_conversation(pairs, name)
    _check_turn_counts(groups, name)
    file = _ConsoleFile(
        name=name,
        dataset_metadata=typed_field(document, "dataset_metadata", dict, "", name) or {},
        consultant_profile=typed_field(document, "consultant_profile", dict, "", name) or {},
        other={k: v for k, v in document.items() if k not in _CONSOLE_FILE_KEYS},
        single_conversation=len(groups) == 1,
    )
    return [_console_record(key, group, file) for key, group in groups.items()]


def _check_turn_counts(groups: dict[str, list[_Pair]], name: str) -> None:
    """Refuse a conversation longer than the store takes before building any of its turns."""
    limit = CONVERSATION_TURNS_MAX // 2
    for key, group in groups.items():
        if len(group) > limit:
            raise SeedFileError(
                name, "training_pairs",
                f"conversation {short(key)} has {len(group)} training pairs ({2 * len(group)} turns); "
                f"at most {limit} pairs ({CONVERSATION_TURNS_MAX} turns) per conversation can be imported",
            )


def _read_pair(raw: Any, index: int, name: str) -> _Pair:
    where = f"training_pairs[{index}]"
    if not isinstance(raw, dict):
        raise SeedFileError(name, where, f"expected an object, got {json_type(raw)}")
    turn_number = typed_field(raw, "turn_number", int, where, name, required=True)
    if turn_number < 1:
        raise SeedFileError(name, f"{where}.turn_number", f"expected 1 or more, got {turn_number}")
    return _Pair(
        where=where,
        conversation_id=nonblank_text(raw, "conversation_id", where, name),
        turn_number=turn_number,
        user=nonblank_text(raw, "current_user_input", where, name),
        assistant=nonblank_text(raw, "target_response", where, name),
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


# --- building the record ---------------------------------------------------------------------


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
    got = f" (got {short(problem['input'])})" if isinstance(problem.get("input"), str) else ""
    what = f"dimension {loc_path(loc)}" if error.title == "Dimensions" else loc_path(loc)
    return SeedFileError(name, f"conversation {short(key)}", f"{what}: {problem['msg']}{got}")


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
        raise SeedFileError(name, where, f"expected the client's name, got {short(label)}")
    if len(person) > NAME_MAX or len(archetype) > NAME_MAX or len(key) > KEY_MAX:
        raise SeedFileError(name, where, f"the client's name and archetype may be at most {NAME_MAX} characters "
                                         f"each (got {short(label)})")
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
        in_file = typed_lookup(file.dataset_metadata, (dim,), str, "dataset_metadata", file.name)
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
        tier = typed_lookup(file.dataset_metadata, ("tier",), int, "dataset_metadata", file.name)
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
    notes = typed_lookup(file.dataset_metadata, ("notes",), str, "dataset_metadata", file.name)
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


# --- reading the annotations -----------------------------------------------------------------


def _pair_value(pair: _Pair, keys: tuple[str, ...], name: str, kind: type = str) -> Any:
    return typed_lookup(pair.annotations, keys, kind, pair.where, name)


def _first(pairs: list[_Pair], keys: tuple[str, ...], name: str) -> str | None:
    """The first non-empty string at keys among the pairs, in turn order."""
    for pair in pairs:
        value = _pair_value(pair, keys, name)
        if value and value.strip():
            return value.strip()
    return None


def _slug(text: str) -> str:
    """'Marcus Thompson' -> 'marcus_thompson'; "doesn't" -> 'doesnt'."""
    text = re.sub(r"['’]", "", text)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")


def _slug_or_none(text: str | None) -> str | None:
    return (_slug(text) or None) if text else None
