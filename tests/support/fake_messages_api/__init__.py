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

    "ok"           200, text = JSON {"turns": [...]}: 10 alternating turns, user first; a judge request
                   (its output schema has "criteria") gets `default_verdict` (or `judge_factory`'s answer)
    "429"          429 rate_limit_error, retry-after
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

An output-token limit (`output_tokens_per_minute=`, `bucket_seconds=`): a token bucket holding that
many seconds of the rate, as the API keeps one. A call arriving while it is empty is refused (429,
retry-after: until it holds tokens again; behaviour "output_limit" in the log); else its max_tokens
is taken as it starts and what the answer did not use is given back as it goes out. Every answer
then carries anthropic-ratelimit-output-tokens-limit/-remaining/-reset (`fake.output_limit`).

Errors carry `retry-after` (seconds, `retry_after`) so the SDK's own retries stay fast: the SDK
honours retry-after without a cap, and with no (or a zero) retry-after it backs off 0.5 s, 1 s, ...

Every request is recorded (`fake.requests`) with when it arrived, when its answer was sent and the
output tokens it answered with,
so a test proves parallel calls by overlapping requests (`fake.max_in_flight()`), not by the clock.

Modules: `fake` (the server object tests hold), `server` (HTTP plumbing), `behaviours` (the
script), `request_body` (reading what the SDK sent), `answers` and `conversations` (what each
behaviour answers), `replies` (wire shapes), `batches` (the Message Batches API), `ratelimits`
(the output-token limit), `records`.
"""

from tests.support.fake_messages_api.behaviours import BEHAVIOURS, slow
from tests.support.fake_messages_api.answers import MIN_CACHEABLE_TOKENS
from tests.support.fake_messages_api.conversations import default_conversation, default_verdict
from tests.support.fake_messages_api.fake import DEFAULT_MODEL_ID, FakeMessagesAPI
from tests.support.fake_messages_api.records import RecordedRequest, max_in_flight
from tests.support.fake_messages_api.request_body import extract_persona_topic, request_text

__all__ = [
    "BEHAVIOURS",
    "DEFAULT_MODEL_ID",
    "FakeMessagesAPI",
    "MIN_CACHEABLE_TOKENS",
    "RecordedRequest",
    "default_conversation",
    "default_verdict",
    "extract_persona_topic",
    "max_in_flight",
    "request_text",
    "slow",
]
