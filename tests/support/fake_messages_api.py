"""A local fake of the Anthropic Messages API, for tests that drive the real `anthropic` SDK.

Standard library only: `http.server.ThreadingHTTPServer` on 127.0.0.1 (random free port) in a
daemon thread. Point the SDK at it with `anthropic.Anthropic(api_key=..., base_url=fake.base_url)`.

    with FakeMessagesAPI() as fake:
        fake.enqueue("429", "429")            # next two POST /v1/messages calls are rate limited,
        client.messages.create(...)           # ... the SDK retries and the third call answers "ok"
        assert fake.count() == 3

Endpoints (wire shapes as anthropic 2.14 sends / parses them):

* POST   /v1/messages                       scripted behaviours, see `BEHAVIOURS`; `stream: true`
                                            is answered with server-sent events
* POST   /v1/messages/count_tokens          {"input_tokens": N}
* GET    /v1/models, /v1/models/{id}         one model (`model_id`)
* POST   /v1/messages/batches               create; each request consumes one queued behaviour
* GET    /v1/messages/batches               list (one page)
* GET    /v1/messages/batches/{id}          retrieve; "ended" after `batch_polls_until_done` GETs
* DELETE /v1/messages/batches/{id}          delete an ended batch
* POST   /v1/messages/batches/{id}/cancel   cancel: every request becomes "canceled"
* GET    /v1/messages/batches/{id}/results  JSONL, one MessageBatchIndividualResponse a line
* anything else                             404 not_found_error JSON

Behaviours (consumed one per POST /v1/messages call, or one per batch request; when the queue is
empty the constructor's `default` is used):

    "ok"           200, text = JSON {"turns": [...]}: 10 alternating turns, user first
    "429"          429 rate_limit_error, retry-after + anthropic-ratelimit-requests-* headers
    "529"          529 overloaded_error, retry-after
    "500"          500 api_error, retry-after
    ("slow", s)    sleep s seconds in the handler thread, then "ok"     (also: slow(s))
    "prose"        200, English prose instead of JSON
    "truncated"    200, the "ok" JSON cut in the middle, stop_reason "max_tokens"
    "bad_quality"  200, schema-valid JSON breaking quality rules (4 turns, 5-word answer, "As an AI")
    "refusal"      200, stop_reason "refusal", short text
    "malformed"    200, body "{not json" with content-type application/json
    "wrong_roles"  200, JSON conversation starting with assistant, roles not alternating
    "expired", "canceled"      batch-only results (answered like "ok" on /v1/messages)
    ("text", text[, stop_reason])       200 with this exact text
    ("json", obj)                       200 with json.dumps(obj) as the text
    ("error", status, error_type[, message])   any error status / error type

Errors carry `retry-after` (seconds, `retry_after`) so the SDK's own retries stay fast: the SDK
honours retry-after without a cap, and with no (or a zero) retry-after it backs off 0.5 s, 1 s, ...
"""

from __future__ import annotations

import json
import random
import re
import socket
import threading
import time
import traceback
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, NamedTuple
from urllib.parse import unquote, urlsplit

__all__ = [
    "BEHAVIOURS",
    "DEFAULT_MODEL_ID",
    "FakeMessagesAPI",
    "RecordedRequest",
    "default_conversation",
    "extract_persona_topic",
    "request_text",
    "slow",
]

DEFAULT_MODEL_ID = "claude-sonnet-5-5"

BEHAVIOURS = frozenset(
    {
        "ok",
        "429",
        "529",
        "500",
        "slow",
        "prose",
        "truncated",
        "bad_quality",
        "refusal",
        "malformed",
        "wrong_roles",
        "expired",
        "canceled",
        "text",
        "json",
        "error",
    }
)

# Sub-resources of /v1/messages that `count("/v1/messages")` does not include.
_SEPARATE_ENDPOINTS = ("/v1/messages/batches", "/v1/messages/count_tokens")

_ERROR_MESSAGES = {
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit (fake).",
    "overloaded_error": "Overloaded",
    "api_error": "Internal server error",
    "not_found_error": "Not found",
    "invalid_request_error": "Invalid request",
    "authentication_error": "invalid x-api-key",
}


def slow(seconds: float) -> tuple[str, float]:
    """The behaviour ("slow", seconds): sleep server-side, then answer "ok"."""
    return ("slow", float(seconds))


# --- records ---------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One HTTP request as the server received it.

    `headers` has lower-cased names (x-api-key, authorization, anthropic-version, ...), values
    as sent. `body` is the parsed JSON object, or None. `time` is `time.monotonic()` at arrival.
    `status` and `behaviour` are filled in once the server has decided how to answer.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: dict | None
    time: float
    query: str = ""
    raw_body: bytes = b""
    status: int | None = None
    behaviour: str | None = None

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


class _Behaviour(NamedTuple):
    name: str
    args: tuple = ()


class _Reply(NamedTuple):
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict = {}


@dataclass
class _Batch:
    id: str
    created_at: datetime
    results: list[dict]  # one MessageBatchIndividualResponse dict per request, in request order
    status: str = "in_progress"  # in_progress | canceling | ended
    polls: int = 0
    ended_at: datetime | None = None
    cancel_initiated_at: datetime | None = None


@dataclass
class _Outcome:
    """What a behaviour produces, before it is put on the wire (HTTP answer or batch line)."""

    kind: str  # message | error | malformed | expired | canceled
    message: dict | None = None
    status: int = 200
    error_type: str = ""
    error_message: str = ""
    extra: dict = field(default_factory=dict)


# --- request text helpers --------------------------------------------------------------------


def _block_text(block: Any) -> list[str]:
    if isinstance(block, str):
        return [block]
    if isinstance(block, list):
        out: list[str] = []
        for item in block:
            out.extend(_block_text(item))
        return out
    if isinstance(block, dict):
        out = []
        if isinstance(block.get("text"), str):
            out.append(block["text"])
        if "content" in block:  # tool_result and friends
            out.extend(_block_text(block["content"]))
        return out
    return []


def _system_text(body: dict) -> str:
    return "\n".join(_block_text(body.get("system") or []))


def request_text(body: dict | None) -> str:
    """System text plus the text of every message, joined by newlines."""
    if not isinstance(body, dict):
        return ""
    parts = [_system_text(body)] if body.get("system") else []
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            parts.extend(_block_text(message.get("content")))
    return "\n".join(p for p in parts if p)


def _has_cache_control(body: dict) -> bool:
    if body.get("cache_control"):
        return True

    def walk(node: Any) -> bool:
        if isinstance(node, dict):
            return bool(node.get("cache_control")) or any(walk(v) for v in node.values())
        if isinstance(node, list):
            return any(walk(v) for v in node)
        return False

    return walk(body.get("system")) or walk(body.get("messages"))


_PERSONA_RE = re.compile(r"Client persona: (.+)")
_TOPIC_RE = re.compile(r"Topic: (.+)")


def extract_persona_topic(text: str) -> tuple[str, str]:
    """(persona, topic) from `Client persona: ...` / `Topic: ...` lines, with fallbacks."""
    persona_match = _PERSONA_RE.search(text)
    topic_match = _TOPIC_RE.search(text)
    persona = persona_match.group(1).strip() if persona_match else ""
    topic = topic_match.group(1).strip() if topic_match else ""
    return persona or "the client", topic or "their finances"


def _first_name(persona: str) -> str:
    """The persona's first word ("Marcus Chen (The Anxious Planner)" -> "Marcus")."""
    if persona == "the client":  # the fallback: no "Client persona:" line in the request
        return "there"
    for word in persona.split():
        word = word.strip(" \t\"'()[]{}.,;:!?*_-")
        if word:
            return word
    return "there"


def _short_topic(topic: str) -> str:
    words = topic.strip().rstrip(".!?;:,").split()
    return " ".join(words[:8]) if words else "their finances"


# --- the "ok" conversation -------------------------------------------------------------------

_USER_FLAVOURS = (
    "My sister keeps telling me I overthink everything, and she might be right.",
    "I also just started a new job, so my paychecks look a bit different now.",
    "Honestly, I lose sleep over this more often than I would like to admit.",
    "A friend suggested I talk to someone instead of reading random articles online.",
    "I keep a spreadsheet, but I stopped updating it a few months ago.",
    "My car is getting older too, so a big repair bill is always in the back of my mind.",
    "I tried a budgeting app last year, but its categories never matched how I actually live.",
)

_ASSISTANT_FLAVOURS = (
    "Many people in a similar position find that simply writing the numbers down eases the worry.",
    "There is no single right answer here, only a plan that fits your priorities and comfort with risk.",
    "It is worth remembering that small, steady steps add up surprisingly quickly over a year or two.",
    "Keep in mind that the goal is a system you trust, not a perfect spreadsheet.",
    "If any of this starts to feel heavy, we can slow down and take it one piece at a time.",
    "It also helps to celebrate small milestones, because motivation matters as much as arithmetic.",
    "General guidance like this works best once we adapt it to the details of your own situation.",
)

_USER_TURNS = (
    "Hi, I have been putting this off for a while, but I really want to get a handle on {topic}. "
    "{flavour} Right now I have about ${amount} left over each month after the bills, and I honestly "
    "do not know whether I should be saving it, investing it, or putting it toward what I owe. "
    "Where would you even start?",
    "That makes sense, thank you. To give you a fuller picture, my income is steady but my spending "
    "jumps around a lot from month to month, especially around holidays and birthdays. {flavour} "
    "When it comes to {topic}, is there a simple rule I can follow so I stop second guessing "
    "every decision?",
    "Okay, I like the idea of automating some of it. I am a little nervous though, because the last "
    "time I tried a strict budget I gave up after about {weeks} weeks and felt worse than before. "
    "{flavour} How do I keep this from turning into another plan that falls apart?",
    "I think I can manage that. One more worry: my partner and I do not always agree about money, "
    "and {topic} has become a touchy subject at home. {flavour} How would you suggest we talk "
    "about it without it turning into an argument?",
    "This has been really helpful, and I feel calmer about {topic} than I have in months. "
    "{flavour} If I do just one thing this week to get started, what should it be?",
)

_ASSISTANT_TURNS = (
    "Hi {name}, thank you for reaching out, and please know that putting this off is far more "
    "common than you might think. Before we decide where the ${amount} should go, let us get clear "
    "on three things: what you owe and at what interest rates, how much cash you could reach in a "
    "genuine emergency, and what you want your money to do for you over the next few years. "
    "{flavour} Once those numbers are in front of us, the choice between saving, investing and "
    "paying down balances usually becomes much less mysterious. Could you start by listing your "
    "debts with their rates and telling me roughly how many months of expenses you have set aside?",
    "A simple rule can take a lot of the pressure off, {name}. One approach many people find "
    "workable is to split every spare dollar the same way each month: build a starter emergency "
    "fund first, then send most of the extra toward the most expensive debt, and keep a small "
    "slice for things you enjoy so the plan feels livable. {flavour} Because your spending varies, "
    "it also helps to look at a twelve month average rather than any single month, and to set "
    "aside a little every month for predictable spikes like holidays and birthdays. That way those "
    "months stop feeling like emergencies and start feeling like part of the plan.",
    "That worry is completely understandable, and it tells me something useful: the last plan was "
    "probably too tight for real life. This time, let us build in some breathing room. Automate "
    "the essentials on payday, such as the transfer to savings and the extra debt payment, and "
    "leave a modest amount you can spend without tracking every coffee. {flavour} Plan a short "
    "check in every {weeks} weeks where you look at what worked and adjust the numbers instead of "
    "judging yourself. Progress tends to come from consistency over many months, not from "
    "perfection in the first few weeks, so a plan you can keep is worth more than an ideal one.",
    "Money conversations between partners are often less about numbers and more about what "
    "security and freedom mean to each person, {name}. It can help to pick a calm moment rather "
    "than right after a big purchase, and to open by sharing what you each hope your finances will "
    "make possible. {flavour} From there, agree on a few shared goals, decide on an amount each of "
    "you can spend without checking in, and schedule a regular money date so these talks become "
    "routine rather than tense. If you keep returning to the same disagreement, a neutral third "
    "party such as a planner or counselor can make the conversation feel safer for both of you.",
    "I am really glad to hear that, {name}. For this week, choose one concrete step: set up an "
    "automatic transfer of part of the ${amount} into a separate savings account on the day you "
    "are paid. {flavour} It is small enough to start right away, and it builds the habit that "
    "everything else depends on. Next week, gather your statements so we can list every balance "
    "and rate in one place and decide where the extra should go. You have already done the hardest "
    "part by deciding to face this rather than avoid it, and that matters far more than getting "
    "every detail right on the first try.",
)


def default_conversation(persona: str, topic: str, n: int = 0) -> dict:
    """The "ok" answer: 10 alternating turns, user first; user 30-100 words, assistant 80-180.

    `n` (a request counter) varies amounts and sentences so conversations are not identical.
    """
    name = _first_name(persona)
    topic = _short_topic(topic)
    values = {"name": name, "topic": topic, "amount": 200 + 50 * (n % 13), "weeks": 3 + n % 9}
    turns = []
    for i in range(5):
        user_flavour = _USER_FLAVOURS[(n + i) % len(_USER_FLAVOURS)]
        assistant_flavour = _ASSISTANT_FLAVOURS[(n + 3 * i) % len(_ASSISTANT_FLAVOURS)]
        turns.append({"role": "user", "content": _USER_TURNS[i].format(flavour=user_flavour, **values)})
        turns.append(
            {"role": "assistant", "content": _ASSISTANT_TURNS[i].format(flavour=assistant_flavour, **values)}
        )
    return {"turns": turns}


def _bad_quality_conversation(persona: str, topic: str, n: int) -> dict:
    good = default_conversation(persona, topic, n)["turns"]
    return {
        "turns": [
            good[0],
            {
                "role": "assistant",
                "content": "As an AI language model, I cannot give personal financial advice, but in "
                "general it is wise to spend less than you earn. Please consult a professional.",
            },
            good[2],
            {"role": "assistant", "content": "Just keep saving more money."},
        ]
    }


def _wrong_roles_conversation(persona: str, topic: str, n: int) -> dict:
    good = default_conversation(persona, topic, n)["turns"]
    roles = ["assistant", "user", "user", "assistant", "assistant", "user", "assistant", "user", "user", "assistant"]
    return {"turns": [{"role": role, "content": turn["content"]} for role, turn in zip(roles, good)]}


def _prose(persona: str, topic: str) -> str:
    name = _first_name(persona)
    return (
        f"Here is how the conversation could go. {name} opens by explaining that they feel stuck "
        f"with {_short_topic(topic)} and are not sure where to begin. The advisor listens, asks a few "
        "gentle questions about income, spending and debts, and then suggests building a small "
        "emergency fund before tackling the most expensive balance. Over the next few exchanges "
        f"{name} grows calmer and leaves with one concrete step to take this week."
    )


# --- helpers ---------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj).encode("utf-8")


def _request_id() -> str:
    return f"req_fake{uuid.uuid4().hex[:20]}"


def _normalise(behaviour: Any) -> _Behaviour:
    if isinstance(behaviour, _Behaviour):
        return behaviour
    if isinstance(behaviour, int) and not isinstance(behaviour, bool):
        behaviour = str(behaviour)
    if isinstance(behaviour, str):
        if behaviour == "slow":
            raise ValueError('"slow" needs a duration: use ("slow", seconds) or slow(seconds)')
        if behaviour not in BEHAVIOURS or behaviour in ("text", "json", "error"):
            raise ValueError(f"unknown behaviour {behaviour!r}; known: {sorted(BEHAVIOURS)}")
        return _Behaviour(behaviour)
    if isinstance(behaviour, (tuple, list)) and behaviour and behaviour[0] in BEHAVIOURS:
        name, *args = behaviour
        if name == "slow" and (len(args) != 1 or not isinstance(args[0], (int, float))):
            raise ValueError('use ("slow", seconds)')
        if name == "text" and not (1 <= len(args) <= 2 and isinstance(args[0], str)):
            raise ValueError('use ("text", text) or ("text", text, stop_reason)')
        if name == "json" and len(args) != 1:
            raise ValueError('use ("json", obj)')
        if name == "error" and not (2 <= len(args) <= 3 and isinstance(args[0], int)):
            raise ValueError('use ("error", status, error_type) or ("error", status, error_type, message)')
        return _Behaviour(name, tuple(args))
    raise ValueError(f"unknown behaviour {behaviour!r}")


def _path_matches(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/") or "/"
    if path == prefix:
        return True
    if not path.startswith(prefix.rstrip("/") + "/"):
        return False
    for sub in _SEPARATE_ENDPOINTS:
        path_under_sub = path == sub or path.startswith(sub + "/")
        prefix_under_sub = prefix == sub or prefix.startswith(sub + "/")
        if path_under_sub and not prefix_under_sub:
            return False
    return True


# --- HTTP plumbing ---------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # benchmarks open many connections at once
    fake: "FakeMessagesAPI"

    def process_request(self, request, client_address):
        self.fake._track(request, add=True)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        self.fake._track(request, add=False)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):  # quiet about clients that hung up
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeMessagesAPI/1.0"
    disable_nagle_algorithm = True  # else headers and body in two writes cost ~40 ms a response
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.fake._handle(self.command, self.path, headers, raw)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
            self.wfile.flush()
        except OSError:  # the client timed out and hung up while we were "thinking"
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


# --- the fake --------------------------------------------------------------------------------


class FakeMessagesAPI:
    """A scripted Anthropic API on 127.0.0.1. Thread-safe; see the module docstring."""

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
        model_id: str = DEFAULT_MODEL_ID,
        require_api_key: bool = True,
        autostart: bool = True,
    ) -> None:
        if not 0.0 <= rate_limit_fraction <= 1.0:
            raise ValueError("rate_limit_fraction must be within [0, 1]")
        if retry_after <= 0:
            raise ValueError("retry_after must be > 0 (with 0 the SDK falls back to 0.5 s+ backoff)")
        self.default = _normalise(default)
        self.latency = float(latency)
        self.rate_limit_fraction = float(rate_limit_fraction)
        self.retry_after = float(retry_after)
        self.batch_polls_until_done = int(batch_polls_until_done)
        self.conversation_factory = conversation_factory
        self.model_id = model_id
        self.require_api_key = require_api_key

        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._queue: deque[_Behaviour] = deque()
        self._requests: list[RecordedRequest] = []
        self._errors: list[str] = []
        self._conversation_counter = 0
        self._cache_keys: set[tuple] = set()
        self._batches: dict[str, _Batch] = {}
        self._connections: set[socket.socket] = set()
        self._stop_event = threading.Event()
        self._server: _Server | None = None
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
            server = _Server(("127.0.0.1", 0), _Handler)
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
        normalised = [_normalise(b) for b in behaviours]
        with self._lock:
            self._queue.extend(normalised)

    def set_default(self, behaviour: Any) -> None:
        """Answer with `behaviour` from now on, whenever nothing is queued."""
        normalised = _normalise(behaviour)
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
            self._cache_keys.clear()
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
                if _path_matches(r.path, path_prefix) and (method is None or r.method == method.upper())
            ]

    def count(self, path_prefix: str = "/v1/messages", method: str | None = None) -> int:
        """Number of requests under `path_prefix` (see `requests_to`)."""
        return len(self.requests_to(path_prefix, method))

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

    # -- internals --

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stop_event.wait(seconds)

    def _handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> _Reply:
        split = urlsplit(target)
        path = unquote(split.path)
        body = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            body = parsed if isinstance(parsed, dict) else None
        record = RecordedRequest(
            method=method,
            path=path,
            headers=headers,
            body=body,
            time=time.monotonic(),
            query=split.query,
            raw_body=raw,
        )
        with self._lock:
            self._requests.append(record)
        try:
            reply = self._route(method, path, headers, body, raw, record)
        except Exception:  # a bug in the fake: say so loudly but keep serving
            tb = traceback.format_exc()
            with self._lock:
                self._errors.append(tb)
            reply = self._error(500, "api_error", f"fake server bug: {tb.splitlines()[-1]}")
        record.status = reply.status
        if "request-id" not in reply.headers:
            reply = reply._replace(headers={**reply.headers, "request-id": _request_id()})
        return reply

    def _route(
        self, method: str, path: str, headers: dict, body: dict | None, raw: bytes, record: RecordedRequest
    ) -> _Reply:
        if self.require_api_key and not (headers.get("x-api-key") or headers.get("authorization")):
            return self._error(401, "authentication_error", "x-api-key header is required")
        parts = [p for p in path.split("/") if p]
        if parts[:1] != ["v1"]:
            return self._not_found(method, path)
        rest = parts[1:]
        if rest == ["messages"] and method == "POST":
            return self._messages(body, raw, record)
        if rest == ["messages", "count_tokens"] and method == "POST":
            if body is None:
                return self._error(400, "invalid_request_error", "body must be a JSON object")
            return _Reply(200, _json_bytes({"input_tokens": max(1, len(request_text(body)) // 4)}))
        if rest == ["models"] and method == "GET":
            info = self._model_info()
            return _Reply(200, _json_bytes({"data": [info], "has_more": False, "first_id": info["id"], "last_id": info["id"]}))
        if len(rest) == 2 and rest[0] == "models" and method == "GET":
            if rest[1] != self.model_id:
                return self._error(404, "not_found_error", f"model: {rest[1]}")
            return _Reply(200, _json_bytes(self._model_info()))
        if rest[:2] == ["messages", "batches"]:
            return self._batches_route(method, rest[2:], body)
        return self._not_found(method, path)

    def _not_found(self, method: str, path: str) -> _Reply:
        return self._error(404, "not_found_error", f"no route for {method} {path}")

    def _model_info(self) -> dict:
        return {
            "type": "model",
            "id": self.model_id,
            "display_name": f"{self.model_id} (fake)",
            "created_at": "2025-01-01T00:00:00Z",
            "lifecycle": "active",
        }

    # -- errors --

    def _error(self, status: int, error_type: str, message: str | None = None, headers: dict | None = None) -> _Reply:
        request_id = _request_id()
        payload = {
            "type": "error",
            "error": {"type": error_type, "message": message or _ERROR_MESSAGES.get(error_type, error_type)},
            "request_id": request_id,
        }
        all_headers = {"request-id": request_id}
        if status == 429 or status >= 500:
            all_headers["retry-after"] = repr(self.retry_after)
        if status == 429:
            reset = _now() + timedelta(seconds=self.retry_after)
            all_headers.update(
                {
                    "anthropic-ratelimit-requests-limit": "50",
                    "anthropic-ratelimit-requests-remaining": "0",
                    "anthropic-ratelimit-requests-reset": _rfc3339(reset),
                }
            )
        all_headers.update(headers or {})
        return _Reply(status, _json_bytes(payload), "application/json", all_headers)

    # -- /v1/messages --

    @staticmethod
    def _validate(body: dict | None, *, where: str = "") -> str | None:
        if body is None:
            return f"{where}body must be a JSON object"
        if not isinstance(body.get("model"), str) or not body["model"]:
            return f"{where}model: Field required"
        max_tokens = body.get("max_tokens")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            return f"{where}max_tokens: Field required (integer >= 1)"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return f"{where}messages: at least one message is required"
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
                return f"{where}messages.{i}.role: must be 'user' or 'assistant'"
            if "content" not in message:
                return f"{where}messages.{i}.content: Field required"
        return None

    def _next_behaviour(self, *, allow_rate_limit: bool) -> _Behaviour:
        with self._lock:
            if allow_rate_limit and self.rate_limit_fraction > 0 and self._rng.random() < self.rate_limit_fraction:
                return _Behaviour("429", ("random",))
            return self._queue.popleft() if self._queue else self.default

    def _messages(self, body: dict | None, raw: bytes, record: RecordedRequest) -> _Reply:
        problem = self._validate(body)
        if problem:
            return self._error(400, "invalid_request_error", problem)
        assert body is not None
        self._sleep(self.latency)
        behaviour = self._next_behaviour(allow_rate_limit=True)
        record.behaviour = behaviour.name
        if behaviour.name == "slow":
            self._sleep(float(behaviour.args[0]))
        outcome = self._outcome(behaviour, body, service_tier="standard")
        if outcome.kind == "malformed":
            if body.get("stream"):
                return _Reply(200, b"event: message_start\ndata: {not json\n\n", "text/event-stream")
            return _Reply(200, b"{not json", "application/json")
        if outcome.kind == "error":
            return self._error(outcome.status, outcome.error_type, outcome.error_message or None)
        assert outcome.message is not None
        if body.get("stream"):
            return _Reply(200, self._sse(outcome.message), "text/event-stream", {"cache-control": "no-cache"})
        return _Reply(200, _json_bytes(outcome.message))

    def _conversation_inputs(self, body: dict) -> tuple[str, str, int]:
        persona, topic = extract_persona_topic(request_text(body))
        with self._lock:
            n = self._conversation_counter
            self._conversation_counter += 1
        return persona, topic, n

    def _ok_text(self, body: dict) -> str:
        if self.conversation_factory is not None:
            with self._lock:
                self._conversation_counter += 1
            return json.dumps(self.conversation_factory(body))
        persona, topic, n = self._conversation_inputs(body)
        return json.dumps(default_conversation(persona, topic, n))

    def _outcome(self, behaviour: _Behaviour, body: dict, *, service_tier: str) -> _Outcome:
        name = behaviour.name

        def message(text: str, stop_reason: str = "end_turn", output_tokens: int | None = None, **extra: Any) -> _Outcome:
            return _Outcome(
                "message", self._message(body, text, stop_reason, output_tokens, service_tier=service_tier, **extra)
            )

        if name in ("ok", "slow") or (name in ("expired", "canceled") and service_tier != "batch"):
            return message(self._ok_text(body))
        if name in ("expired", "canceled"):
            return _Outcome(name)
        if name == "429":
            return _Outcome("error", status=429, error_type="rate_limit_error")
        if name == "529":
            return _Outcome("error", status=529, error_type="overloaded_error")
        if name == "500":
            return _Outcome("error", status=500, error_type="api_error")
        if name == "error":
            status, error_type, *msg = behaviour.args
            return _Outcome("error", status=int(status), error_type=str(error_type), error_message=msg[0] if msg else "")
        if name == "malformed":
            return _Outcome("malformed")
        if name == "text":
            text, *stop = behaviour.args
            return message(text, stop[0] if stop else "end_turn")
        if name == "json":
            return message(json.dumps(behaviour.args[0]))
        persona, topic, n = self._conversation_inputs(body)
        if name == "prose":
            return message(_prose(persona, topic))
        if name == "truncated":
            full = json.dumps(default_conversation(persona, topic, n))
            return message(full[: len(full) // 2], "max_tokens", output_tokens=int(body["max_tokens"]))
        if name == "bad_quality":
            return message(json.dumps(_bad_quality_conversation(persona, topic, n)))
        if name == "wrong_roles":
            return message(json.dumps(_wrong_roles_conversation(persona, topic, n)))
        if name == "refusal":
            return message(
                "I can't help with that request.",
                "refusal",
                stop_details={"type": "refusal", "category": None, "explanation": None},
            )
        raise ValueError(f"unhandled behaviour {behaviour!r}")  # pragma: no cover

    def _usage(self, body: dict, output_text: str, output_tokens: int | None, service_tier: str) -> dict:
        total = max(1, len(request_text(body)) // 4)
        creation = read = 0
        if _has_cache_control(body):
            prefix = _system_text(body)
            if not prefix:
                first = (body.get("messages") or [{}])[0]
                prefix = "\n".join(_block_text(first.get("content") if isinstance(first, dict) else None))
            cached = min(total, max(1, len(prefix) // 4))
            key = (body.get("model"), prefix)
            with self._lock:
                seen = key in self._cache_keys
                self._cache_keys.add(key)
            if seen:
                read = cached
            else:
                creation = cached
            total = max(1, total - cached)
        return {
            "input_tokens": total,
            "output_tokens": output_tokens if output_tokens is not None else max(1, len(output_text) // 4),
            "cache_creation_input_tokens": creation,
            "cache_read_input_tokens": read,
            "service_tier": service_tier,
        }

    def _message(
        self,
        body: dict,
        text: str,
        stop_reason: str,
        output_tokens: int | None,
        *,
        service_tier: str,
        stop_details: dict | None = None,
    ) -> dict:
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

    @staticmethod
    def _sse(message: dict) -> bytes:
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

    # -- /v1/messages/batches --

    def _batches_route(self, method: str, rest: list[str], body: dict | None) -> _Reply:
        if not rest:
            if method == "POST":
                return self._batch_create(body)
            if method == "GET":
                with self._lock:
                    batches = sorted(self._batches.values(), key=lambda b: b.created_at, reverse=True)
                    data = [self._batch_json(b) for b in batches]
                return _Reply(
                    200,
                    _json_bytes(
                        {
                            "data": data,
                            "has_more": False,
                            "first_id": data[0]["id"] if data else None,
                            "last_id": data[-1]["id"] if data else None,
                        }
                    ),
                )
            return self._not_found(method, "/v1/messages/batches")
        batch_id, action = rest[0], rest[1:]
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None:
                return self._error(404, "not_found_error", f"message batch {batch_id} not found")
            if not action and method == "GET":
                batch.polls += 1
                if batch.status == "canceling" or (
                    batch.status == "in_progress" and batch.polls >= self.batch_polls_until_done
                ):
                    self._end(batch)
                return _Reply(200, _json_bytes(self._batch_json(batch)))
            if not action and method == "DELETE":
                if batch.status != "ended":
                    return self._error(400, "invalid_request_error", "a batch must end before it can be deleted")
                del self._batches[batch_id]
                return _Reply(200, _json_bytes({"id": batch_id, "type": "message_batch_deleted"}))
            if action == ["cancel"] and method == "POST":
                if batch.status == "in_progress":
                    batch.status = "canceling"
                    batch.cancel_initiated_at = _now()
                    batch.results = [{"custom_id": r["custom_id"], "result": {"type": "canceled"}} for r in batch.results]
                return _Reply(200, _json_bytes(self._batch_json(batch)))
            if action == ["results"] and method == "GET":
                if batch.status != "ended":
                    return self._error(404, "not_found_error", "results are available once the batch has ended")
                lines = "".join(json.dumps(r) + "\n" for r in batch.results)
                return _Reply(200, lines.encode("utf-8"), "application/binary")
        return self._not_found(method, "/v1/messages/batches/" + "/".join(rest))

    def _batch_create(self, body: dict | None) -> _Reply:
        requests = (body or {}).get("requests")
        if not isinstance(requests, list) or not requests:
            return self._error(400, "invalid_request_error", "requests: at least one request is required")
        custom_ids = [r.get("custom_id") if isinstance(r, dict) else None for r in requests]
        if any(not isinstance(c, str) or not c for c in custom_ids):
            return self._error(400, "invalid_request_error", "requests.*.custom_id: Field required")
        if len(set(custom_ids)) != len(custom_ids):
            return self._error(400, "invalid_request_error", "requests.*.custom_id must be unique")
        for i, r in enumerate(requests):
            problem = self._validate(r.get("params"), where=f"requests.{i}.params.")
            if problem:
                return self._error(400, "invalid_request_error", problem)
        results = []
        for custom_id, r in zip(custom_ids, requests):
            behaviour = self._next_behaviour(allow_rate_limit=False)
            outcome = self._outcome(behaviour, r["params"], service_tier="batch")
            results.append({"custom_id": custom_id, "result": self._batch_result(outcome)})
        batch = _Batch(id=f"msgbatch_fake{uuid.uuid4().hex[:20]}", created_at=_now(), results=results)
        with self._lock:
            if self.batch_polls_until_done <= 0:
                self._end(batch)
            self._batches[batch.id] = batch
            return _Reply(200, _json_bytes(self._batch_json(batch)))

    @staticmethod
    def _batch_result(outcome: _Outcome) -> dict:
        if outcome.kind == "message":
            return {"type": "succeeded", "message": outcome.message}
        if outcome.kind in ("expired", "canceled"):
            return {"type": outcome.kind}
        error_type = outcome.error_type if outcome.kind == "error" else "api_error"
        message = outcome.error_message or _ERROR_MESSAGES.get(error_type, error_type)
        return {"type": "errored", "error": {"type": "error", "error": {"type": error_type, "message": message}}}

    @staticmethod
    def _end(batch: _Batch) -> None:
        batch.status = "ended"
        batch.ended_at = _now()

    def _batch_json(self, batch: _Batch) -> dict:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if batch.status == "ended":
            for line in batch.results:
                counts[line["result"]["type"]] += 1
        else:
            counts["processing"] = len(batch.results)
        ended = batch.status == "ended"
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status,
            "request_counts": counts,
            "created_at": _rfc3339(batch.created_at),
            "expires_at": _rfc3339(batch.created_at + timedelta(hours=24)),
            "ended_at": _rfc3339(batch.ended_at),
            "cancel_initiated_at": _rfc3339(batch.cancel_initiated_at),
            "archived_at": None,
            "results_url": f"{self.base_url}/v1/messages/batches/{batch.id}/results" if ended else None,
        }
