"""Turning the model's raw text into a validated conversation, or a reason why not."""

from __future__ import annotations

import json
import re

from pydantic import ValidationError

from brightrun_gen.domain.models import GeneratedConversation
from brightrun_gen.errors import InvalidAnswer

_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*)\n\s*```\s*$", re.DOTALL)
# Text no database column can hold: NUL (PostgreSQL refuses it) and unpaired surrogates
# (not encodable as UTF-8, so neither driver can send them).
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def parse_answer(text: str, stop_reason: str | None) -> GeneratedConversation:
    """Validate with the same pydantic model whose schema was sent; roles must alternate from the user."""
    if stop_reason == "max_tokens":
        raise InvalidAnswer("the answer was cut off at max_tokens before the conversation ended", stop_reason=stop_reason)
    if stop_reason == "refusal":
        raise InvalidAnswer("the model refused to write this conversation", stop_reason=stop_reason)
    fenced = _FENCE.match(text)
    body = fenced.group(1) if fenced else text
    data = _load_json(body, stop_reason)
    try:
        conversation = GeneratedConversation.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise InvalidAnswer(f"the answer does not match the conversation schema: {where}: {first['msg']}",
                            stop_reason=stop_reason) from None
    for i, turn in enumerate(conversation.turns):
        expected = "user" if i % 2 == 0 else "assistant"
        if turn.role != expected:
            raise InvalidAnswer(f"turn {i + 1} is {turn.role!r} but should be {expected!r}: roles must alternate, client first",
                                stop_reason=stop_reason)
        if not turn.content.strip():
            raise InvalidAnswer(f"turn {i + 1} is empty", stop_reason=stop_reason)
        if _UNSTORABLE.search(turn.content):
            raise InvalidAnswer(f"turn {i + 1} holds a NUL character or an unpaired surrogate, which cannot be stored",
                                stop_reason=stop_reason)
    return conversation


def _load_json(body: str, stop_reason: str | None):
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise InvalidAnswer(f"the answer is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                            stop_reason=stop_reason) from None
    except RecursionError:
        raise InvalidAnswer("the answer is JSON nested far too deeply to be a conversation",
                            stop_reason=stop_reason) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise InvalidAnswer(f"the answer is not usable JSON: {exc}", stop_reason=stop_reason) from None


def storable_text(text: str | None) -> str | None:
    """The raw answer as the log can keep it: unstorable characters become U+FFFD."""
    if text is None:
        return None
    return _UNSTORABLE.sub("\ufffd", text)
