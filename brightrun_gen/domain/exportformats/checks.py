"""Checks shared by every format: text that is not empty, roles that alternate, chat records.

Each returns why a conversation or record cannot be training data, or None.
"""

from __future__ import annotations

from typing import Any, Sequence

from brightrun_gen.domain.exportformats.base import ExportConversation


def conversation_problem(conv: ExportConversation) -> str | None:
    """Why these turns cannot be training data, or None: empty text, roles out of order."""
    for i, turn in enumerate(conv.turns):
        if text_problem(turn.content):
            return f"turn {i + 1} ({turn.role}): empty content"
    return order_problem([turn.role for turn in conv.turns], ("user", "assistant"), "turn {}", 1)


def order_problem(roles: Sequence[str], pair: tuple[str, str], where: str, base: int) -> str | None:
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


def text_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"expected text, got {type(value).__name__}"
    return "empty text" if not value or value.isspace() else None


def messages_problem(record: dict, list_key: str, role_key: str, text_key: str,
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
        problem = text_problem(message[text_key])
        if problem:
            return f"{list_key}[{i}].{text_key}: {problem}"
    system, user, assistant = roles
    offset = 1 if messages[0][role_key] == system else 0
    return order_problem([m[role_key] for m in messages[offset:]], (user, assistant), f"{list_key}[{{}}]", offset)
