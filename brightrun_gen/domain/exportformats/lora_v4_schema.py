"""The training pipeline's brightrun-lora-v4 JSON Schemas, compiled once, for exports and imports.

The schemas are the pipeline's published contracts (../shared/formats), kept here byte for byte
(a test compares them). They are JSON Schema 2020-12, but use only keywords that mean the same
in draft 7 (type, required, properties, enum, const, pattern, bounds, items, $ref into $defs),
so fastjsonschema compiles them to Python code: validating 60,000 training pairs then takes
seconds, where an interpreting validator takes over a minute. The tests validate every
exported file with the `jsonschema` library as well, and check that both agree on bad records.

A training pair repeats every earlier turn in its conversation_history, so the pairs of one
conversation hold the same turn objects many times: `pairs_problem` validates each pair without
its history items, and each distinct history item once, which is the same check done once.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib import resources
from typing import Any, Callable

import fastjsonschema

FULL = "lora-v4-full.schema.json"
INDIVIDUAL = "lora-v4-individual.schema.json"
_DRAFT7 = "http://json-schema.org/draft-07/schema#"
# Format assertions the pipeline relies on (fastjsonschema has no "uuid" of its own).
_FORMATS = {"uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"}

Validate = Callable[[Any], "str | None"]


def schema(name: str) -> dict:
    """One of the two schemas as published (a fresh copy)."""
    return json.loads(resources.files(__package__).joinpath("schemas", name).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def validator(name: str, part: str = "") -> Validate:
    """A compiled check of the whole schema `name`, or of one part: a $defs entry or a top-level
    property. It returns None, or the first problem as 'PATH: what is wrong' ('$' is the record)."""
    document = schema(name)
    target = _part(document, part) if part else document
    target = {**target, "$defs": document["$defs"], "$schema": _DRAFT7}
    return _compiled(target)


@lru_cache(maxsize=None)
def _shallow_pair(name: str) -> Validate:
    """The training pair check without its history items (checked once each, by `pairs_problem`)."""
    document = schema(name)
    pair = copy.deepcopy(document["$defs"]["training_pair"])
    pair["properties"]["conversation_history"] = {"type": "array"}
    return _compiled({**pair, "$defs": document["$defs"], "$schema": _DRAFT7})


@lru_cache(maxsize=None)
def envelope(name: str, part: str = "") -> Validate:
    """A conversation object (`part`) or a whole individual file, its training_pairs only
    counted: `pairs_problem` checks the pairs themselves."""
    document = schema(name)
    target = copy.deepcopy(_part(document, part) if part else document)
    target["properties"]["training_pairs"] = {"type": "array", "minItems": 1}
    return _compiled({**target, "$defs": document["$defs"], "$schema": _DRAFT7})


def pairs_problem(pairs: list[dict], name: str = FULL, where: str = "$") -> str | None:
    """The first problem of a conversation's training pairs, named by its path, or None."""
    check_pair, check_turn = _shallow_pair(name), validator(name, "history_turn")
    seen: set[int] = set()
    for i, pair in enumerate(pairs):
        problem = check_pair(pair)
        if problem:
            return _at(f"{where}[{i}]", problem)
        for j, turn in enumerate(pair["conversation_history"]):
            if id(turn) in seen:
                continue
            problem = check_turn(turn)
            if problem:
                return _at(f"{where}[{i}].conversation_history[{j}]", problem)
            seen.add(id(turn))
    return None


def _part(document: dict, part: str) -> dict:
    if part in document["$defs"]:
        return document["$defs"][part]
    return document["properties"][part]


def _compiled(target: dict) -> Validate:
    check = fastjsonschema.compile(target, formats=_FORMATS)

    def problem(value: Any) -> str | None:
        try:
            check(value)
        except fastjsonschema.JsonSchemaValueException as error:
            return _message(error)
        return None

    return problem


def _message(error: fastjsonschema.JsonSchemaValueException) -> str:
    """'$.training_pairs[2].turn_number: must be integer' from fastjsonschema's 'data.… must be …'."""
    path = "$" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in error.path[1:])
    if error.rule == "required" and isinstance(error.value, dict):
        missing = [key for key in error.rule_definition if key not in error.value]
        return f"{path}: missing {', '.join(missing)}"
    text = error.message
    prefix = error.name or "data"
    what = text[len(prefix):].strip() if text.startswith(prefix) else text
    return f"{path}: {what}"


def _at(where: str, problem: str) -> str:
    """A problem found inside a part, with the part's place in front: '$' becomes `where`."""
    return where + problem[1:] if problem.startswith("$") else f"{where}: {problem}"
