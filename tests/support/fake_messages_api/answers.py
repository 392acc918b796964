"""What each behaviour answers, before it goes on the wire: a message (with usage), an error, a batch result."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from tests.support.fake_messages_api.behaviours import Behaviour
from tests.support.fake_messages_api.conversations import (
    bad_quality_conversation,
    default_conversation,
    default_verdict,
    prose,
    wrong_roles_conversation,
)
from tests.support.fake_messages_api.request_body import (
    cache_prefixes,
    extract_persona_topic,
    is_judge_request,
    request_text,
)

# The API caches a prefix only from this many tokens on (Sonnet and Opus models).
MIN_CACHEABLE_TOKENS = 1024


@dataclass
class Outcome:
    """What a behaviour produces, before it is put on the wire (HTTP answer or batch line)."""

    kind: str  # message | error | malformed | expired | canceled
    message: dict | None = None
    status: int = 200
    error_type: str = ""
    error_message: str = ""


class Answers:
    """Writes the outcome of a behaviour for a request body. Thread-safe: it counts conversations
    (so each "ok" differs) and remembers cached prompt prefixes (so a repeat reads the cache)."""

    def __init__(self, model_id: str, conversation_factory: Callable[[dict], dict] | None,
                 judge_factory: Callable[[dict], dict] | None = None) -> None:
        self.model_id = model_id
        self.conversation_factory = conversation_factory
        self.judge_factory = judge_factory
        self._lock = threading.Lock()
        self._conversation_counter = 0
        self._cache_keys: set[tuple] = set()

    def clear(self) -> None:
        """Forget the cached prefixes."""
        with self._lock:
            self._cache_keys.clear()

    def outcome(self, behaviour: Behaviour, body: dict, *, service_tier: str) -> Outcome:
        name = behaviour.name

        def message(text: str, stop_reason: str = "end_turn", output_tokens: int | None = None, **extra: Any) -> Outcome:
            return Outcome("message", self.message(body, text, stop_reason, output_tokens, service_tier=service_tier,
                                                   **extra))

        if name in ("ok", "slow") or (name in ("expired", "canceled") and service_tier != "batch"):
            return message(self._ok_text(body))
        if name in ("expired", "canceled"):
            return Outcome(name)
        if name == "429":
            return Outcome("error", status=429, error_type="rate_limit_error")
        if name == "529":
            return Outcome("error", status=529, error_type="overloaded_error")
        if name == "500":
            return Outcome("error", status=500, error_type="api_error")
        if name == "error":
            status, error_type, *msg = behaviour.args
            return Outcome("error", status=int(status), error_type=str(error_type), error_message=msg[0] if msg else "")
        if name == "malformed":
            return Outcome("malformed")
        if name == "text":
            text, *stop = behaviour.args
            return message(text, stop[0] if stop else "end_turn")
        if name == "json":
            return message(json.dumps(behaviour.args[0]))
        persona, topic, n = self._conversation_inputs(body)
        if name == "prose":
            return message(prose(persona, topic))
        if name == "truncated":
            full = json.dumps(default_conversation(persona, topic, n))
            return message(full[: len(full) // 2], "max_tokens", output_tokens=int(body["max_tokens"]))
        if name == "bad_quality":
            return message(json.dumps(bad_quality_conversation(persona, topic, n)))
        if name == "wrong_roles":
            return message(json.dumps(wrong_roles_conversation(persona, topic, n)))
        if name == "refusal":
            return message(
                "I can't help with that request.",
                "refusal",
                stop_details={"type": "refusal", "category": None, "explanation": None},
            )
        raise ValueError(f"unhandled behaviour {behaviour!r}")  # pragma: no cover

    def message(self, body: dict, text: str, stop_reason: str, output_tokens: int | None, *, service_tier: str,
                stop_details: dict | None = None) -> dict:
        """A Messages API message object answering `body` with `text`."""
        return {
            "id": f"msg_fake{uuid.uuid4().hex[:20]}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model") or self.model_id,
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "stop_details": stop_details,
            "usage": self._usage(body, text, output_tokens, service_tier),
        }

    def _conversation_inputs(self, body: dict) -> tuple[str, str, int]:
        persona, topic = extract_persona_topic(request_text(body))
        with self._lock:
            n = self._conversation_counter
            self._conversation_counter += 1
        return persona, topic, n

    def _ok_text(self, body: dict) -> str:
        if is_judge_request(body):
            return json.dumps((self.judge_factory or default_verdict)(body))
        if self.conversation_factory is not None:
            with self._lock:
                self._conversation_counter += 1
            return json.dumps(self.conversation_factory(body))
        persona, topic, n = self._conversation_inputs(body)
        return json.dumps(default_conversation(persona, topic, n))

    def _usage(self, body: dict, output_text: str, output_tokens: int | None, service_tier: str) -> dict:
        """Tokens as the API counts them with prompt caching (about a quarter of the characters).

        Each cache breakpoint ends a prefix; prefixes under MIN_CACHEABLE_TOKENS are not cached.
        The longest prefix seen before (same model) is read from the cache; the longer cacheable
        prefixes are written; everything after the last cacheable prefix is plain input.
        """
        total = max(1, len(request_text(body)) // 4)
        cacheable = [p for p in cache_prefixes(body) if len(p) // 4 >= MIN_CACHEABLE_TOKENS]
        with self._lock:
            hits = [p for p in cacheable if (body.get("model"), p) in self._cache_keys]
            self._cache_keys.update((body.get("model"), p) for p in cacheable)
        read = len(hits[-1]) // 4 if hits else 0
        written = len(cacheable[-1]) // 4 if cacheable else 0
        creation = max(0, written - read)
        return {
            "input_tokens": max(1, total - read - creation),
            "output_tokens": output_tokens if output_tokens is not None else max(1, len(output_text) // 4),
            "cache_creation_input_tokens": creation,
            "cache_read_input_tokens": read,
            "service_tier": service_tier,
        }
