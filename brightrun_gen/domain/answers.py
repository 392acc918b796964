"""Turning the model's raw text into a validated conversation, or a reason why not."""

from __future__ import annotations

import json
import re

from pydantic import ValidationError

from brightrun_gen.domain.models import GeneratedConversation
from brightrun_gen.errors import InvalidAnswer

_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*)\n\s*```\s*$", re.DOTALL)


def parse_answer(text: str, stop_reason: str | None) -> GeneratedConversation:
    """Validate with the same pydantic model whose schema was sent; roles must alternate from the user."""
    if stop_reason == "max_tokens":
        raise InvalidAnswer("the answer was cut off at max_tokens before the conversation ended", stop_reason=stop_reason)
    if stop_reason == "refusal":
        raise InvalidAnswer("the model refused to write this conversation", stop_reason=stop_reason)
    fenced = _FENCE.match(text)
    body = fenced.group(1) if fenced else text
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise InvalidAnswer(f"the answer is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                            stop_reason=stop_reason) from None
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
    return conversation
