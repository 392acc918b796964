"""The fake tests hold: start and stop it, script its answers, read what it received."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
import traceback
from collections import deque
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

from tests.support.fake_messages_api.answers import Answers
from tests.support.fake_messages_api.batches import Batches
from tests.support.fake_messages_api.behaviours import Behaviour, normalise
from tests.support.fake_messages_api.ratelimits import OutputTokenBucket
from tests.support.fake_messages_api.records import RecordedRequest, max_in_flight, path_matches
from tests.support.fake_messages_api.replies import Reply, error_reply, json_bytes, json_reply, request_id, sse
from tests.support.fake_messages_api.request_body import request_text, validate
from tests.support.fake_messages_api.server import Handler, Server

DEFAULT_MODEL_ID = "claude-sonnet-5-5"


class FakeMessagesAPI:
    """A scripted Anthropic API on 127.0.0.1. Thread-safe; see the package docstring."""

    def __init__(
        self,
        default: Any = "ok",
        *,
        latency: float = 0.0,
        rate_limit_fraction: float = 0.0,
        seed: int | None = None,
        retry_after: float = 0.01,
        batch_polls_until_done: int = 1,
        conversation_factory: Callable[[dict], dict] | None = None,
        judge_factory: Callable[[dict], dict] | None = None,
        model_id: str = DEFAULT_MODEL_ID,
        require_api_key: bool = True,
        output_tokens_per_minute: int | None = None,
        bucket_seconds: float = 60.0,
        autostart: bool = True,
    ) -> None:
        if not 0.0 <= rate_limit_fraction <= 1.0:
            raise ValueError("rate_limit_fraction must be within [0, 1]")
        if retry_after <= 0:
            raise ValueError("retry_after must be > 0 (with 0 the SDK falls back to 0.5 s+ backoff)")
        self.default = normalise(default)
        self.latency = float(latency)
        self.rate_limit_fraction = float(rate_limit_fraction)
        self.retry_after = float(retry_after)
        self.batch_polls_until_done = int(batch_polls_until_done)
        self.model_id = model_id
        self.require_api_key = require_api_key

        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._queue: deque[Behaviour] = deque()
        self._requests: list[RecordedRequest] = []
        self._errors: list[str] = []
        self._answers = Answers(model_id, conversation_factory, judge_factory)
        self.output_limit = (OutputTokenBucket(output_tokens_per_minute, bucket_seconds)
                             if output_tokens_per_minute else None)
        self._batches = Batches(self)
        self._connections: set[socket.socket] = set()
        self._stop_event = threading.Event()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        if autostart:
            self.start()

    # -- lifecycle --

    def start(self) -> "FakeMessagesAPI":
        with self._lock:
            if self._stopped:
                raise RuntimeError("a stopped FakeMessagesAPI cannot be restarted; make a new one")
            if self._server is not None:
                return self
            server = Server(("127.0.0.1", 0), Handler)
            server.fake = self
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeMessagesAPI", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake sleeping handlers and drop open connections. Idempotent."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            server, thread = self._server, self._thread
            connections = list(self._connections)
        self._stop_event.set()
        if server is None:
            return
        server.shutdown()
        server.server_close()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> "FakeMessagesAPI":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- scripting --

    def enqueue(self, *behaviours: Any) -> None:
        """Queue behaviours, consumed one per POST /v1/messages call (or per batch request)."""
        normalised = [normalise(b) for b in behaviours]
        with self._lock:
            self._queue.extend(normalised)

    def set_default(self, behaviour: Any) -> None:
        """Answer with `behaviour` from now on, whenever nothing is queued."""
        normalised = normalise(behaviour)
        with self._lock:
            self.default = normalised

    @property
    def pending(self) -> int:
        """How many queued behaviours have not been consumed yet."""
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        """Forget queued behaviours, recorded requests, cache state and batches."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._errors.clear()
        self._answers.clear()
        self._batches.clear()

    # -- inspection --

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path_prefix: str = "/v1/messages", method: str | None = None) -> list[RecordedRequest]:
        """Requests under `path_prefix`. /v1/messages/batches and /v1/messages/count_tokens are
        separate endpoints: they match only a prefix that names them, so the default
        "/v1/messages" means exactly the Messages calls."""
        with self._lock:
            return [
                r
                for r in self._requests
                if path_matches(r.path, path_prefix) and (method is None or r.method == method.upper())
            ]

    def count(self, path_prefix: str = "/v1/messages", method: str | None = None) -> int:
        """Number of requests under `path_prefix` (see `requests_to`)."""
        return len(self.requests_to(path_prefix, method))

    def max_in_flight(self, path_prefix: str = "/v1/messages", method: str | None = None) -> int:
        """The most requests under `path_prefix` that the server held at one moment: the proof
        that a client ran calls in parallel, independent of how fast the machine is."""
        return max_in_flight(self.requests_to(path_prefix, method))

    def api_keys_seen(self) -> set[str]:
        """Every x-api-key value and Authorization header value the server received."""
        with self._lock:
            keys = set()
            for r in self._requests:
                for name in ("x-api-key", "authorization"):
                    if r.headers.get(name):
                        keys.add(r.headers[name])
            return keys

    @property
    def server_errors(self) -> list[str]:
        """Tracebacks of bugs inside the fake (each also answered with a 500)."""
        with self._lock:
            return list(self._errors)

    # -- internals (the server and the batches call these) --

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stop_event.wait(seconds)

    def _handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[RecordedRequest, Reply]:
        """Record a request and decide its answer; the server writes it and notes when."""
        split = urlsplit(target)
        path = unquote(split.path)
        body = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            body = parsed if isinstance(parsed, dict) else None
        record = RecordedRequest(method=method, path=path, headers=headers, body=body, time=time.monotonic(),
                                 query=split.query, raw_body=raw)
        with self._lock:
            self._requests.append(record)
        try:
            reply = self._route(method, path, headers, body, record)
        except Exception:  # a bug in the fake: say so loudly but keep serving
            tb = traceback.format_exc()
            with self._lock:
                self._errors.append(tb)
            reply = self._error(500, "api_error", f"fake server bug: {tb.splitlines()[-1]}")
        record.status = reply.status
        if "request-id" not in reply.headers:
            reply = reply._replace(headers={**reply.headers, "request-id": request_id()})
        return record, reply

    def _route(self, method: str, path: str, headers: dict, body: dict | None, record: RecordedRequest) -> Reply:
        if self.require_api_key and not (headers.get("x-api-key") or headers.get("authorization")):
            return self._error(401, "authentication_error", "x-api-key header is required")
        parts = [p for p in path.split("/") if p]
        if parts[:1] != ["v1"]:
            return self._not_found(method, path)
        rest = parts[1:]
        if rest == ["messages"] and method == "POST":
            return self._messages(body, record)
        if rest == ["messages", "count_tokens"] and method == "POST":
            if body is None:
                return self._error(400, "invalid_request_error", "body must be a JSON object")
            return json_reply({"input_tokens": max(1, len(request_text(body)) // 4)})
        if rest == ["models"] and method == "GET":
            info = self._model_info()
            return json_reply({"data": [info], "has_more": False, "first_id": info["id"], "last_id": info["id"]})
        if len(rest) == 2 and rest[0] == "models" and method == "GET":
            if rest[1] != self.model_id:
                return self._error(404, "not_found_error", f"model: {rest[1]}")
            return json_reply(self._model_info())
        if rest[:2] == ["messages", "batches"]:
            return self._batches.route(method, rest[2:], body)
        return self._not_found(method, path)

    def _not_found(self, method: str, path: str) -> Reply:
        return self._error(404, "not_found_error", f"no route for {method} {path}")

    def _error(self, status: int, error_type: str, message: str | None = None) -> Reply:
        return error_reply(status, error_type, message, self.retry_after)

    def _model_info(self) -> dict:
        return {
            "type": "model",
            "id": self.model_id,
            "display_name": f"{self.model_id} (fake)",
            "created_at": "2025-01-01T00:00:00Z",
            "lifecycle": "active",
        }

    def _next_behaviour(self, *, allow_rate_limit: bool) -> Behaviour:
        with self._lock:
            if allow_rate_limit and self.rate_limit_fraction > 0 and self._rng.random() < self.rate_limit_fraction:
                return Behaviour("429", ("random",))
            return self._queue.popleft() if self._queue else self.default

    def _messages(self, body: dict | None, record: RecordedRequest) -> Reply:
        """POST /v1/messages, through the output-token limit when there is one."""
        problem = validate(body)
        if problem:
            return self._error(400, "invalid_request_error", problem)
        assert body is not None
        limit = self.output_limit
        if limit is None:
            return self._answer(body, record)
        wait = limit.take(body["max_tokens"])
        if wait is not None:
            record.behaviour = "output_limit"
            reply = error_reply(429, "rate_limit_error", "This request would exceed the rate limit for your "
                                "organization of output tokens per minute (fake).", wait)
        else:
            reply = self._answer(body, record)
            limit.give_back(body["max_tokens"] - (record.output_tokens or 0))
        headers = limit.headers()
        record.remaining = int(headers["anthropic-ratelimit-output-tokens-remaining"])
        return reply._replace(headers={**reply.headers, **headers})

    def _answer(self, body: dict, record: RecordedRequest) -> Reply:
        """Wait `latency` (and a "slow" behaviour's seconds), then answer with the next behaviour."""
        self._sleep(self.latency)
        behaviour = self._next_behaviour(allow_rate_limit=True)
        record.behaviour = behaviour.name
        if behaviour.name == "slow":
            self._sleep(float(behaviour.args[0]))
        outcome = self._answers.outcome(behaviour, body, service_tier="standard")
        if outcome.kind == "malformed":
            if body.get("stream"):
                return Reply(200, b"event: message_start\ndata: {not json\n\n", "text/event-stream")
            return Reply(200, b"{not json", "application/json")
        if outcome.kind == "error":
            return self._error(outcome.status, outcome.error_type, outcome.error_message or None)
        assert outcome.message is not None
        record.output_tokens = outcome.message["usage"]["output_tokens"]
        if body.get("stream"):
            return Reply(200, sse(outcome.message), "text/event-stream", {"cache-control": "no-cache"})
        return Reply(200, json_bytes(outcome.message))
