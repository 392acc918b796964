"""Answers as they go on the wire: JSON errors with the API's headers, and server-sent events."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any, NamedTuple

ERROR_MESSAGES = {
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit (fake).",
    "overloaded_error": "Overloaded",
    "api_error": "Internal server error",
    "not_found_error": "Not found",
    "invalid_request_error": "Invalid request",
    "authentication_error": "invalid x-api-key",
}


class Reply(NamedTuple):
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict = {}


def now() -> datetime:
    return datetime.now(timezone.utc)


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_bytes(obj: Any) -> bytes:
    return json.dumps(obj).encode("utf-8")


def request_id() -> str:
    return f"req_fake{uuid.uuid4().hex[:20]}"


def json_reply(obj: Any) -> Reply:
    return Reply(200, json_bytes(obj))


def error_reply(status: int, error_type: str, message: str | None, retry_after: float) -> Reply:
    """An error as the API sends it; 429 and 5xx carry `retry-after` (the fake's configured limits add
    their rate-limit headers to every answer, refusals included)."""
    rid = request_id()
    payload = {
        "type": "error",
        "error": {"type": error_type, "message": message or ERROR_MESSAGES.get(error_type, error_type)},
        "request_id": rid,
    }
    headers = {"request-id": rid}
    if status == 429 or status >= 500:
        headers["retry-after"] = repr(retry_after)
    return Reply(status, json_bytes(payload), "application/json", headers)


def sse(message: dict) -> bytes:
    """A message as the stream of events `stream: true` asks for, in 200-character text deltas."""

    def event(name: str, data: dict) -> str:
        return f"event: {name}\ndata: {json.dumps(data)}\n\n"

    text = message["content"][0]["text"]
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None, "stop_details": None}
    start["usage"] = {**usage, "output_tokens": 1}
    chunks = [text[i : i + 200] for i in range(0, len(text), 200)] or [""]
    out = [event("message_start", {"type": "message_start", "message": start})]
    out.append(
        event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
    )
    for chunk in chunks:
        out.append(
            event(
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": chunk}},
            )
        )
    out.append(event("content_block_stop", {"type": "content_block_stop", "index": 0}))
    out.append(
        event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": message["stop_reason"],
                    "stop_sequence": None,
                    "stop_details": message.get("stop_details"),
                },
                "usage": {"output_tokens": usage["output_tokens"]},
            },
        )
    )
    out.append(event("message_stop", {"type": "message_stop"}))
    return "".join(out).encode("utf-8")

