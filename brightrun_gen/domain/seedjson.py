"""Typed access to a parsed seed file, and how its places and values are named in errors.

Both seed parsers (ours in `seedfiles`, the console-era one in `consolefiles`) read JSON
through these, so a wrong type or a missing field reads the same in either format:
`training_pairs[2].turn_number: expected an integer, got string`.
"""

from __future__ import annotations

from typing import Any

from brightrun_gen.errors import SeedFileError

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


def typed_field(
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
        raise SeedFileError(name, path, f"expected {_EXPECTED[kind]}, got {json_type(value)}")
    return value


def nonblank_text(obj: dict, key: str, where: str, name: str) -> str:
    """A required string that holds more than whitespace."""
    value = typed_field(obj, key, str, where, name, required=True)
    if not value.strip():
        raise SeedFileError(name, f"{where}.{key}", "empty")
    return value


def typed_lookup(obj: dict, keys: tuple[str, ...], kind: type, where: str, name: str) -> Any:
    """obj[k1][k2]… checked against kind; None when any level is absent or null."""
    for key in keys[:-1]:
        obj = typed_field(obj, key, dict, where, name)
        if obj is None:
            return None
        where = f"{where}.{key}" if where else key
    return typed_field(obj, keys[-1], kind, where, name)


def json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def loc_path(loc: tuple) -> str:
    """('conversations', 0, 'turns', 3, 'role') -> 'conversations[0].turns[3].role'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "top level"
