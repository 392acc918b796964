"""The local fake of the Messages API, exercised through the real `anthropic` SDK (2.14)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime

import anthropic
import pytest

from tests.support.fake_messages_api import (
    MIN_CACHEABLE_TOKENS,
    FakeMessagesAPI,
    RecordedRequest,
    default_conversation,
    max_in_flight,
    slow,
)

MODEL = "claude-sonnet-5-5"
API_KEY = "sk-test-fake"
SYSTEM = (
    "You write training conversations between a financial advisor and a client.\n"
    "Client persona: Marcus Chen (The Anxious Planner)\n"
    "Topic: Paying off credit card debt\n"
)
SCHEMA = {
    "type": "object",
    "properties": {
        "turns": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "role": {"type": "string", "enum": ["user", "assistant"]},
                    "content": {"type": "string"},
                },
                "required": ["role", "content"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["turns"],
    "additionalProperties": False,
}


@pytest.fixture
def client(fake):
    with anthropic.Anthropic(api_key=API_KEY, base_url=fake.base_url, max_retries=2) as sdk:
        yield sdk


def create(client, **overrides):
    kwargs = dict(
        model=MODEL,
        max_tokens=4000,
        system=SYSTEM,
        messages=[{"role": "user", "content": "Write the conversation as JSON."}],
    )
    kwargs.update(overrides)
    return client.messages.create(**kwargs)


def words(text: str) -> int:
    return len(text.split())


def assert_good_conversation(data: dict) -> None:
    turns = data["turns"]
    assert len(turns) == 10
    assert [t["role"] for t in turns] == ["user", "assistant"] * 5
    for turn in turns:
        low, high = (30, 100) if turn["role"] == "user" else (80, 180)
        assert low <= words(turn["content"]) <= high, turn
        assert "as an ai" not in turn["content"].lower()
    assert len({t["content"] for t in turns}) == 10


# --- plain messages ----------------------------------------------------------------------------


def test_ok_answer_is_a_ten_turn_alternating_conversation(fake, client):
    message = create(client)

    assert isinstance(message, anthropic.types.Message)
    assert message.id.startswith("msg_")
    assert message.model == MODEL
    assert message.stop_reason == "end_turn"
    assert message.stop_sequence is None
    data = json.loads(message.content[0].text)
    assert_good_conversation(data)
    assert data["turns"][1]["content"].startswith("Hi Marcus,")
    assert "Paying off credit card debt" in data["turns"][0]["content"]
    usage = message.usage
    assert usage.input_tokens == len(SYSTEM + "\n" + "Write the conversation as JSON.") // 4
    assert usage.output_tokens == len(message.content[0].text) // 4
    assert usage.cache_creation_input_tokens == 0 and usage.cache_read_input_tokens == 0
    assert fake.count() == 1


def test_fallbacks_and_variation_between_conversations(client):
    first = json.loads(create(client, system="no markers here").content[0].text)
    second = json.loads(create(client, system="no markers here").content[0].text)
    assert first["turns"][1]["content"].startswith("Hi there,")  # "the client" -> no usable name
    assert "their finances" in first["turns"][0]["content"]
    assert first != second
    for n in range(30):
        assert_good_conversation(default_conversation("Dana", "a very long topic " * 10, n))


def test_output_config_json_schema_is_accepted_and_recorded(fake, client):
    message = create(client, output_config={"format": {"type": "json_schema", "schema": SCHEMA}})

    assert_good_conversation(json.loads(message.content[0].text))
    sent = fake.requests[-1].body
    assert sent["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}
    assert sent["system"] == SYSTEM and sent["max_tokens"] == 4000


def test_request_is_recorded_with_the_key_as_the_sdk_sends_it(fake, client):
    create(client)
    (record,) = fake.requests
    assert (record.method, record.path) == ("POST", "/v1/messages")
    # anthropic 2.14 sends api_key as a Bearer token, not as x-api-key.
    assert record.header("Authorization") == f"Bearer {API_KEY}"
    assert record.header("x-api-key") is None
    assert record.headers["anthropic-version"]
    assert fake.api_keys_seen() == {f"Bearer {API_KEY}"}
    assert record.status == 200 and record.behaviour == "ok"


def test_missing_key_and_bad_body_are_rejected(fake, client):
    # The SDK itself refuses to send a request without credentials, so ask without it.
    request = urllib.request.Request(
        f"{fake.base_url}/v1/messages", data=b"{}", method="POST", headers={"content-type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 401
    assert json.loads(caught.value.read())["error"]["type"] == "authentication_error"
    with pytest.raises(anthropic.BadRequestError, match="messages"):
        create(client, messages=[])
    assert fake.count() == 2 and fake.pending == 0


def test_429_twice_then_ok_succeeds_through_sdk_retries(fake, client):
    fake.enqueue("429", "429")
    message = create(client)

    assert_good_conversation(json.loads(message.content[0].text))
    assert fake.count() == 3
    assert [r.status for r in fake.requests] == [429, 429, 200]
    assert [r.header("x-stainless-retry-count") for r in fake.requests] == ["0", "1", "2"]


def test_a_scripted_429_carries_retry_after_and_no_limits_it_does_not_keep(fake, client):
    fake.enqueue("429")
    with pytest.raises(anthropic.RateLimitError) as caught:
        client.with_options(max_retries=0).messages.create(
            model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    error = caught.value
    assert error.status_code == 429 and error.type == "rate_limit_error"
    headers = error.response.headers
    assert float(headers["retry-after"]) == fake.retry_after
    assert not [name for name in headers if name.startswith("anthropic-ratelimit-")]
    assert error.request_id and error.request_id.startswith("req_")
    assert error.body["error"]["type"] == "rate_limit_error"


def _limited_call(client, max_tokens: int = 2000):
    return client.with_options(max_retries=0).messages.with_raw_response.create(
        model=MODEL, max_tokens=max_tokens, system=SYSTEM, messages=[{"role": "user", "content": "Write it."}])


def test_the_output_limit_reports_itself_on_every_answer_and_refuses_when_the_bucket_is_empty():
    # 60,000 a minute is 1,000 a second; a 2 s bucket holds 2,000 tokens.
    with FakeMessagesAPI(output_tokens_per_minute=60_000, bucket_seconds=2.0) as fake:
        client = anthropic.Anthropic(api_key=API_KEY, base_url=fake.base_url)
        first = _limited_call(client)
        used = first.parse().usage.output_tokens
        assert first.headers["anthropic-ratelimit-output-tokens-limit"] == "60000"
        remaining = int(first.headers["anthropic-ratelimit-output-tokens-remaining"])
        # max_tokens was taken as the call started, the unused part given back as it ended.
        assert 2000 - used <= remaining <= 2000 - used + 50
        reset = datetime.fromisoformat(first.headers["anthropic-ratelimit-output-tokens-reset"])
        refill = (reset - datetime.now(reset.tzinfo)).total_seconds()
        assert abs(refill - (2000 - remaining) / 1000) < 0.2  # when the bucket is full again
        _limited_call(client)  # starts with tokens left, takes max_tokens: the bucket is now in debt
        with pytest.raises(anthropic.RateLimitError) as caught:
            _limited_call(client)
        headers = caught.value.response.headers
        assert headers["anthropic-ratelimit-output-tokens-remaining"] == "0"
        assert 0 < float(headers["retry-after"]) <= 2.0
        assert [r.status for r in fake.requests] == [200, 200, 429]
        assert [r.behaviour for r in fake.requests][-1] == "output_limit"
        assert fake.requests[0].output_tokens == used and fake.output_limit.refused == 1


def test_a_refused_call_is_answered_once_the_bucket_has_refilled():
    # 1,000 tokens a second, a 1 s bucket: the first call takes 4,000 and gives back what it did not use.
    with FakeMessagesAPI(output_tokens_per_minute=60_000, bucket_seconds=1.0) as fake:
        client = anthropic.Anthropic(api_key=API_KEY, base_url=fake.base_url)
        _limited_call(client, max_tokens=4000)
        debt = fake.requests[0].output_tokens - 1000
        assert debt > 0 and fake.requests[0].remaining == 0
        answer = client.with_options(max_retries=2).messages.with_raw_response.create(
            model=MODEL, max_tokens=4000, system=SYSTEM, messages=[{"role": "user", "content": "Write it."}])
        assert answer.status_code == 200
        refused, answered = fake.requests[1:]
        assert (refused.status, answered.status) == (429, 200)
        # The SDK waited the retry-after, which is how long the debt takes to refill.
        assert answered.time - refused.time >= debt / 1000 - 0.05


def test_529_three_times_raises_overloaded_error(fake, client):
    fake.enqueue("529", "529", "529")
    with pytest.raises(anthropic.OverloadedError) as caught:
        create(client)
    assert isinstance(caught.value, anthropic.InternalServerError)
    assert caught.value.status_code == 529 and caught.value.type == "overloaded_error"
    assert fake.count() == 3
    assert fake.pending == 0


def test_500_is_retried_then_raises_internal_server_error(fake, client):
    fake.enqueue("500", "ok")
    assert create(client).stop_reason == "end_turn"
    fake.enqueue("500", "500", "500")
    with pytest.raises(anthropic.InternalServerError) as caught:
        create(client)
    assert type(caught.value) is anthropic.InternalServerError
    assert caught.value.type == "api_error"
    assert fake.count() == 5


def test_malformed_body_raises_json_decode_error_without_retry(fake, client):
    fake.enqueue("malformed")
    # The SDK does not wrap it: a 200 whose JSON body does not parse surfaces as the
    # json module's JSONDecodeError (a ValueError), not as an anthropic.APIError.
    with pytest.raises(json.JSONDecodeError):
        create(client)
    assert fake.count() == 1


def test_slow_answer_times_out_the_client(fake, client):
    fake.enqueue(slow(5.0))
    with pytest.raises(anthropic.APITimeoutError):
        client.with_options(timeout=0.2, max_retries=0).messages.create(
            model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    started = time.monotonic()
    fake.stop()  # the handler is still "thinking": stop() wakes it instead of waiting 5 s
    assert time.monotonic() - started < 1.0


def test_timeout_is_retried_by_the_sdk(fake):
    fake.enqueue(("slow", 1.0))
    with anthropic.Anthropic(api_key=API_KEY, base_url=fake.base_url, max_retries=1, timeout=0.2) as sdk:
        message = create(sdk)
    assert message.stop_reason == "end_turn"
    assert fake.count() == 2


@pytest.mark.parametrize(
    ("behaviour", "stop_reason"),
    [("prose", "end_turn"), ("truncated", "max_tokens"), ("bad_quality", "end_turn"),
     ("refusal", "refusal"), ("wrong_roles", "end_turn")],
)
def test_bad_answers(fake, client, behaviour, stop_reason):
    fake.enqueue(behaviour)
    message = create(client)
    text = message.content[0].text
    assert message.stop_reason == stop_reason
    if behaviour == "prose":
        assert "Marcus" in text and "{" not in text
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
    elif behaviour == "truncated":
        assert text.startswith('{"turns": [')
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
        assert message.usage.output_tokens == 4000
    elif behaviour == "bad_quality":
        turns = json.loads(text)["turns"]
        assert len(turns) == 4
        assert any("As an AI" in t["content"] for t in turns)
        assert min(words(t["content"]) for t in turns if t["role"] == "assistant") == 5
    elif behaviour == "refusal":
        assert message.stop_details is not None and message.stop_details.type == "refusal"
        assert words(text) < 20
    else:
        roles = [t["role"] for t in json.loads(text)["turns"]]
        assert roles[0] == "assistant"
        assert any(a == b for a, b in zip(roles, roles[1:]))


def test_custom_text_json_and_error_behaviours(fake, client):
    fake.enqueue(("text", "hello", "stop_sequence"), ("json", {"turns": []}), ("error", 503, "api_error"))
    first = create(client)
    assert (first.content[0].text, first.stop_reason) == ("hello", "stop_sequence")
    assert json.loads(create(client).content[0].text) == {"turns": []}
    with pytest.raises(anthropic.ServiceUnavailableError):
        create(client.with_options(max_retries=0))
    with pytest.raises(ValueError):
        fake.enqueue("nonsense")
    with pytest.raises(ValueError):
        fake.enqueue("slow")


def test_conversation_factory_overrides_ok():
    seen = []

    def factory(body):
        seen.append(body["model"])
        return {"turns": [{"role": "user", "content": "custom"}]}

    with FakeMessagesAPI(conversation_factory=factory) as server:
        with anthropic.Anthropic(api_key=API_KEY, base_url=server.base_url) as sdk:
            text = create(sdk).content[0].text
    assert json.loads(text) == {"turns": [{"role": "user", "content": "custom"}]}
    assert seen == [MODEL]


def test_prompt_caching_usage(client):
    system = [{"type": "text", "text": SYSTEM * 30, "cache_control": {"type": "ephemeral"}}]
    first = create(client, system=system).usage
    second = create(client, system=system).usage
    assert first.cache_creation_input_tokens > 0 and first.cache_read_input_tokens == 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.cache_creation_input_tokens == 0
    assert second.input_tokens < len(SYSTEM * 30) // 4


def test_a_prefix_under_the_minimum_is_not_cached(client):
    """The API caches a prefix only from 1,024 tokens on (about 4 characters a token here)."""
    system = [{"type": "text", "text": SYSTEM * 20, "cache_control": {"type": "ephemeral"}}]
    assert len(SYSTEM * 20) // 4 < MIN_CACHEABLE_TOKENS
    for _ in range(2):
        usage = create(client, system=system).usage
        assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (0, 0)


def test_the_longest_prefix_seen_before_is_read_at_each_breakpoint(client):
    """System and context each end a prefix: a new context still reads the shared system."""
    shared = [{"type": "text", "text": SYSTEM * 30, "cache_control": {"type": "ephemeral"}}]

    def ask(context: str, request: str):
        content = [{"type": "text", "text": context, "cache_control": {"type": "ephemeral"}},
                   {"type": "text", "text": request}]
        return create(client, system=shared, messages=[{"role": "user", "content": content}]).usage

    first = ask("example A " * 200, "row 1")
    second = ask("example B " * 200, "row 2")
    third = ask("example A " * 200, "row 3")
    system_tokens = len(SYSTEM * 30) // 4
    assert first.cache_read_input_tokens == 0 and first.cache_creation_input_tokens > system_tokens
    assert second.cache_read_input_tokens == system_tokens
    assert second.cache_creation_input_tokens == first.cache_creation_input_tokens - system_tokens
    assert third.cache_read_input_tokens == first.cache_creation_input_tokens
    assert third.cache_creation_input_tokens == 0 and third.input_tokens < 10


def test_streaming(fake, client):
    with client.messages.stream(
        model=MODEL, max_tokens=4000, system=SYSTEM, messages=[{"role": "user", "content": "go"}]
    ) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "end_turn"
    assert_good_conversation(json.loads(final.content[0].text))
    assert fake.requests[-1].body["stream"] is True


def test_latency_is_applied_server_side():
    with FakeMessagesAPI(latency=0.1) as server:
        with anthropic.Anthropic(api_key=API_KEY, base_url=server.base_url) as sdk:
            started = time.monotonic()
            create(sdk)
            assert time.monotonic() - started >= 0.1


def test_concurrent_calls_are_all_recorded():
    with FakeMessagesAPI(latency=0.2) as server:
        with anthropic.Anthropic(api_key=API_KEY, base_url=server.base_url) as sdk:
            errors = []

            def call():
                try:
                    create(sdk)
                except Exception as exc:  # pragma: no cover - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=call) for _ in range(20)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert errors == []
        assert server.count() == 20
        assert server.max_in_flight() >= 10  # handled in parallel: at least half were in the server at once


def test_calls_one_after_the_other_are_never_in_flight_together():
    with FakeMessagesAPI(latency=0.05) as server:
        with anthropic.Anthropic(api_key=API_KEY, base_url=server.base_url) as sdk:
            for _ in range(3):
                create(sdk)
        (first, second, third) = server.requests
        assert first.time < first.answered <= second.time < second.answered <= third.time < third.answered
        assert second.answered - second.time >= 0.05
        assert server.max_in_flight() == 1


def test_max_in_flight_counts_overlapping_requests_only():
    def request(arrived: float, answered: float | None) -> RecordedRequest:
        return RecordedRequest("POST", "/v1/messages", {}, None, arrived, answered=answered)

    assert max_in_flight([]) == 0
    assert max_in_flight([request(0, 1), request(1, 2), request(2, 3)]) == 1  # each answered as the next arrives
    assert max_in_flight([request(0, 3), request(1, 2), request(1.5, 4), request(3.5, 5)]) == 3
    assert max_in_flight([request(0, 1), request(2, None), request(5, 6)]) == 2  # unanswered: still in flight


def test_random_rate_limits_are_absorbed_by_sdk_retries():
    with FakeMessagesAPI(rate_limit_fraction=0.2, seed=1) as server:
        with anthropic.Anthropic(api_key=API_KEY, base_url=server.base_url, max_retries=5) as sdk:
            for _ in range(50):
                assert create(sdk, max_tokens=100).stop_reason == "end_turn"
        statuses = [r.status for r in server.requests]
    assert len(statuses) > 50
    assert statuses.count(200) == 50
    assert set(statuses) == {200, 429}


# --- other endpoints ---------------------------------------------------------------------------


def test_count_tokens_models_and_unknown_paths(fake, client):
    counted = client.messages.count_tokens(model=MODEL, system=SYSTEM, messages=[{"role": "user", "content": "go"}])
    assert counted.input_tokens == len(SYSTEM + "\ngo") // 4
    models = client.models.list()
    assert [m.id for m in models.data] == [MODEL]
    assert client.models.retrieve(MODEL).id == MODEL
    with pytest.raises(anthropic.NotFoundError):
        client.get("/v1/nothing-here", cast_to=object)
    assert fake.count() == 0
    assert fake.count("/v1/messages/count_tokens") == 1
    assert fake.count("/v1/models") == 2


def test_batch_create_poll_and_results():
    with FakeMessagesAPI(batch_polls_until_done=2) as server:
        with anthropic.Anthropic(api_key=API_KEY, base_url=server.base_url, max_retries=2) as sdk:
            params = dict(model=MODEL, max_tokens=4000, system=SYSTEM, messages=[{"role": "user", "content": "go"}])
            batch = sdk.messages.batches.create(
                requests=[{"custom_id": f"conv-{i}", "params": params} for i in range(3)]
            )
            assert batch.id.startswith("msgbatch_")
            assert batch.processing_status == "in_progress"
            assert batch.request_counts.processing == 3 and batch.results_url is None
            statuses = []
            while batch.processing_status != "ended":
                batch = sdk.messages.batches.retrieve(batch.id)
                statuses.append(batch.processing_status)
            assert statuses == ["in_progress", "ended"]
            assert batch.request_counts.succeeded == 3 and batch.request_counts.processing == 0
            assert batch.ended_at is not None
            assert batch.results_url == f"{server.base_url}/v1/messages/batches/{batch.id}/results"

            results = list(sdk.messages.batches.results(batch.id))
            assert sorted(r.custom_id for r in results) == ["conv-0", "conv-1", "conv-2"]
            for r in results:
                assert r.result.type == "succeeded"
                assert r.result.message.usage.service_tier == "batch"
                assert_good_conversation(json.loads(r.result.message.content[0].text))
            assert [b.id for b in sdk.messages.batches.list()] == [batch.id]
            assert sdk.messages.batches.delete(batch.id).type == "message_batch_deleted"

        assert server.count() == 0  # no /v1/messages calls
        assert server.count("/v1/messages/batches", method="POST") == 1
        results_call = server.requests_to(f"/v1/messages/batches/{batch.id}/results")[0]
        assert results_call.header("accept") == "application/binary"


def test_batch_results_follow_queued_behaviours(fake, client):
    fake.enqueue("prose", "truncated", "500")
    params = dict(model=MODEL, max_tokens=4000, system=SYSTEM, messages=[{"role": "user", "content": "go"}])
    batch = client.messages.batches.create(requests=[{"custom_id": f"c{i}", "params": params} for i in range(4)])
    assert client.messages.batches.retrieve(batch.id).request_counts.errored == 1
    by_id = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}

    assert by_id["c0"].type == "succeeded" and "Marcus" in by_id["c0"].message.content[0].text
    assert by_id["c1"].type == "succeeded" and by_id["c1"].message.stop_reason == "max_tokens"
    assert by_id["c2"].type == "errored"
    assert by_id["c2"].error.type == "error" and by_id["c2"].error.error.type == "api_error"
    assert by_id["c3"].type == "succeeded"  # queue empty: default "ok"
    assert_good_conversation(json.loads(by_id["c3"].message.content[0].text))


def test_batch_cancel_and_unfinished_results():
    with FakeMessagesAPI(batch_polls_until_done=5) as server:
        with anthropic.Anthropic(api_key=API_KEY, base_url=server.base_url) as sdk:
            params = dict(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "go"}])
            batch = sdk.messages.batches.create(requests=[{"custom_id": "a", "params": params}])
            with pytest.raises(anthropic.AnthropicError, match="results_url"):
                sdk.messages.batches.results(batch.id)
            canceled = sdk.messages.batches.cancel(batch.id)
            assert canceled.processing_status == "canceling" and canceled.cancel_initiated_at is not None
            ended = sdk.messages.batches.retrieve(batch.id)
            assert ended.processing_status == "ended" and ended.request_counts.canceled == 1
            assert [r.result.type for r in sdk.messages.batches.results(batch.id)] == ["canceled"]
            with pytest.raises(anthropic.NotFoundError):
                sdk.messages.batches.retrieve("msgbatch_unknown")
