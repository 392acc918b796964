"""The client-side buckets that mirror the API's rate limits, and the runner's window: pure, no clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from brightrun_gen.domain.ratelimits import Bucket, LimitState, Reading, read_headers
from brightrun_gen.services.pacing import Window

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
T0 = 1_000_000.0  # seconds since the epoch, as the runner passes them


def output_state(*, per_minute: int = 60_000, capacity: float = 2000, level: float = 2000,
                 average: float | None = 1000) -> LimitState:
    """Limits known: output tokens only, 1,000 a second, and an average answer of `average` tokens."""
    state = LimitState(buckets={"output_tokens": Bucket(per_minute, capacity, level, T0)}, reported=True)
    if average is not None:
        state.averages["output_tokens"] = (average, 5)
    return state


def test_headers_are_read_per_kind_and_bad_values_are_skipped():
    headers = {
        "anthropic-ratelimit-requests-limit": "50", "anthropic-ratelimit-requests-remaining": "49",
        "anthropic-ratelimit-requests-reset": (NOW + timedelta(seconds=1.2)).isoformat().replace("+00:00", "Z"),
        "anthropic-ratelimit-output-tokens-limit": "8000", "anthropic-ratelimit-output-tokens-remaining": "7000",
        "anthropic-ratelimit-output-tokens-reset": "not a time",
        "anthropic-ratelimit-input-tokens-limit": "lots", "anthropic-ratelimit-input-tokens-remaining": "3",
    }
    readings = read_headers(headers, NOW)
    assert set(readings) == {"requests", "output_tokens"}
    assert readings["requests"] == Reading(50, 49, pytest.approx(1.2))
    assert readings["output_tokens"] == Reading(8000, 7000, None)
    assert read_headers({"content-type": "application/json"}, NOW) == {}


def test_the_bucket_size_is_what_is_left_plus_what_refills_until_the_reset():
    bucket = Bucket.from_reading(Reading(60_000, 500, 1.5), T0)  # 1,000 a second, full in 1.5 s
    assert (bucket.capacity, bucket.level) == (2000, 500)
    assert bucket.level_at(T0 + 1.0) == 1500 and bucket.level_at(T0 + 10) == 2000
    assert Bucket.from_reading(Reading(60_000, 500, None), T0).capacity == 60_000  # no reset: a minute's worth
    assert Bucket.from_reading(Reading(60_000, 500, 600.0), T0).capacity == 60_000  # never more than a minute


def test_calls_start_while_their_expected_tokens_fit_and_each_takes_max_tokens():
    state = output_state(capacity=9000, level=9000)
    granted, taken, wait = state.admit(8, state.demand(max_tokens=4000), T0, probe_seconds=30)
    # 9,000 left: the first takes 4,000 (5,000 left), the second too (1,000 left, still one expected answer).
    assert (granted, taken, wait) == (3, {"output_tokens": 4000}, 0.0)
    assert state.buckets["output_tokens"].level == -3000


def test_when_nothing_fits_the_wait_is_until_an_expected_answer_fits():
    state = output_state(level=-500)
    granted, taken, wait = state.admit(4, state.demand(max_tokens=4000), T0, probe_seconds=30)
    assert (granted, taken) == (0, {})
    assert wait == pytest.approx(1.5)  # from -500 to the 1,000 an answer is expected to use, at 1,000 a second
    assert state.admit(4, state.demand(4000), T0 + 1.5, probe_seconds=30)[0] == 1


def test_before_any_answer_one_call_learns_the_limits_and_the_others_wait_for_it():
    state = LimitState()
    demand = state.demand(max_tokens=4000)
    assert state.admit(8, demand, T0, probe_seconds=30)[0] == 1
    granted, _, wait = state.admit(8, demand, T0 + 0.1, probe_seconds=30)
    assert granted == 0 and 0 < wait <= 0.25
    state.settle({}, {"requests": 1, "input_tokens": 300, "output_tokens": 1200}, T0 + 0.5)
    state.observe({"output_tokens": Reading(60_000, 2000, 0.0)}, T0 + 0.5, answered=True)
    assert state.reported is True and state.expected("output_tokens") == 1200
    assert state.admit(8, state.demand(4000), T0 + 0.5, probe_seconds=30)[0] == 1  # 2,000 holds one of 4,000


def test_a_probe_that_failed_lets_the_next_call_probe():
    state = LimitState()
    state.admit(1, state.demand(4000), T0, probe_seconds=30)
    state.observe({}, T0 + 1, answered=False)
    assert state.admit(1, state.demand(4000), T0 + 1, probe_seconds=30)[0] == 1


def test_answers_without_rate_limit_headers_mean_nothing_to_pace():
    state = LimitState()
    state.admit(1, state.demand(4000), T0, probe_seconds=30)
    state.observe({}, T0 + 0.5, answered=True)
    assert state.reported is False
    assert state.admit(16, state.demand(4000), T0 + 0.5, probe_seconds=30) == (16, {}, 0.0)


def test_a_call_gives_back_what_it_did_not_use_and_the_api_has_the_last_word():
    state = output_state(level=2000)
    _, taken, _ = state.admit(1, state.demand(max_tokens=4000), T0, probe_seconds=30)
    state.settle(taken, {"requests": 1, "input_tokens": 100, "output_tokens": 1500}, T0)
    assert state.buckets["output_tokens"].level == 500  # 2,000 - 4,000 + (4,000 - 1,500)
    assert state.expected("output_tokens") == pytest.approx(1000 + (1500 - 1000) / 6)
    state.observe({"output_tokens": Reading(60_000, 200, 1.8)}, T0, answered=True)
    assert state.buckets["output_tokens"].level == 200  # another client used some: take the API's word
    state.observe({"output_tokens": Reading(60_000, 1900, 0.1)}, T0, answered=True)
    assert state.buckets["output_tokens"].level == 200  # never more than our own count


def test_a_failed_call_gives_back_all_it_took():
    state = output_state(capacity=9000, level=5000)
    _, taken, _ = state.admit(1, state.demand(max_tokens=4000), T0, probe_seconds=30)
    state.settle(taken, None, T0)
    assert state.buckets["output_tokens"].level == 5000


def test_the_slowest_limit_decides_how_long_calls_take():
    state = output_state(level=2000, average=1000)
    state.buckets["requests"] = Bucket(600, 10, 10, T0)  # 10 a second
    seconds, kind = state.seconds_for(30, T0)
    assert kind == "output_tokens" and seconds == pytest.approx((30 * 1000 - 2000) / 1000)
    assert state.limit_text(kind) == "60,000 output tokens a minute"
    assert LimitState().seconds_for(30, T0) == (0.0, None)


def test_the_state_survives_its_json_form():
    state = output_state(level=-250.5)
    state.probe_until = T0 + 3
    again = LimitState.from_json(state.to_json())
    assert again == state


def test_the_window_halves_once_per_refusal_wave_and_grows_back_by_answers():
    window = Window(8)
    epoch = window.epoch
    window.refused(epoch)
    window.refused(epoch)  # a second call sent before the decrease: not halved again
    assert window.slots() == 4
    answers = 0
    while window.slots() < 8:
        window.answered()
        answers += 1
    assert answers == 4 + 5 + 6 + 7  # one more slot per window of answers
    window.answered()
    assert window.slots() == 8  # never above the runner's concurrency
    window.refused(window.epoch)
    window.refused(window.epoch)
    assert window.slots() == 2
