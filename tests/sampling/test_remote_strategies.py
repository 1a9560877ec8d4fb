"""Parsing every shape of strategy Jaeger serves, rejecting malformed ones, and the
deciders: probabilistic, rate limiting (token bucket) and per operation."""

from __future__ import annotations

import math
import time

import pytest
from opentelemetry.sdk.trace.sampling import Decision, TraceIdRatioBased

from podcast_kg_otel.remote_sampling.strategies import (
    MAX_OPERATIONS,
    PER_OPERATION,
    PROBABILISTIC,
    RATE_LIMITING,
    SAMPLER_PARAM,
    SAMPLER_TYPE,
    PerOperation,
    Probabilistic,
    RateLimiting,
    Strategy,
    StrategyError,
    build_decider,
    parse_strategy,
)
from podcast_kg_otel.remote_sampling.token_bucket import TokenBucket

from .conftest import random_trace_ids, within_binomial

PER_OPERATION_BODY = {
    "strategyType": 0,
    "probabilisticSampling": {"samplingRate": 0.2},
    "operationSampling": {
        "defaultSamplingProbability": 0.2,
        "defaultLowerBoundTracesPerSecond": 0,
        "perOperationStrategies": [
            {"operation": "always-kept", "probabilisticSampling": {"samplingRate": 1}}
        ],
    },
}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Jaeger v2 "/" (Thrift JSON, enum numbers), as the file provider builds them.
        (
            {"strategyType": 0, "probabilisticSampling": {"samplingRate": 0.2}},
            Strategy(PROBABILISTIC, 0.2),
        ),
        (
            {"strategyType": 1, "rateLimitingSampling": {"maxTracesPerSecond": 5}},
            Strategy(RATE_LIMITING, 5.0),
        ),
        (PER_OPERATION_BODY, Strategy(PER_OPERATION, 0.2, 0.0, (("always-kept", 1.0),))),
        # Adaptive strategies: per operation with lower and upper bounds.
        (
            {
                "strategyType": 0,
                "operationSampling": {
                    "defaultSamplingProbability": 0.001,
                    "defaultLowerBoundTracesPerSecond": 0.0166,
                    "defaultUpperBoundTracesPerSecond": 1,
                    "perOperationStrategies": [
                        {"operation": "GET", "probabilisticSampling": {"samplingRate": 0.5}},
                        {"operation": "SET", "probabilisticSampling": {"samplingRate": 0.25}},
                    ],
                },
            },
            Strategy(PER_OPERATION, 0.001, 0.0166, (("GET", 0.5), ("SET", 0.25))),
        ),
        # Protobuf JSON (the /sampling route, the v1 agent): enum names, zeros left out.
        (
            {"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 0.5}},
            Strategy(PROBABILISTIC, 0.5),
        ),
        ({"probabilisticSampling": {}}, Strategy(PROBABILISTIC, 0.0)),
        (
            {"strategyType": "RATE_LIMITING", "rateLimitingSampling": {"maxTracesPerSecond": 3}},
            Strategy(RATE_LIMITING, 3.0),
        ),
        ({"strategyType": "RATE_LIMITING", "rateLimitingSampling": {}}, Strategy(RATE_LIMITING)),
        ({"operationSampling": {}}, Strategy(PER_OPERATION)),
        # A rate-limited service that inherits the default's operations: per operation
        # wins, as in Jaeger's clients.
        (
            {
                "strategyType": 1,
                "rateLimitingSampling": {"maxTracesPerSecond": 2},
                "operationSampling": {
                    "defaultSamplingProbability": 0.3,
                    "perOperationStrategies": [
                        {"operation": "x", "probabilisticSampling": {"samplingRate": 0.9}}
                    ],
                },
            },
            Strategy(PER_OPERATION, 0.3, 0.0, (("x", 0.9),)),
        ),
    ],
)
def test_every_shape_jaeger_serves(body: dict, expected: Strategy) -> None:
    import json

    assert parse_strategy(json.dumps(body)) == expected
    assert parse_strategy(json.dumps(body).encode()) == expected


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "not JSON"),
        (b"\xff\xfe{", "not JSON"),
        pytest.param("[" * 100_000, "not JSON", id="deeply-nested"),
        ("[]", "not a JSON object"),
        ("null", "not a JSON object"),
        ('{"strategyType": 7, "probabilisticSampling": {"samplingRate": 1}}', "strategyType"),
        ('{"strategyType": "ADAPTIVE"}', "strategyType"),
        ('{"strategyType": true}', "strategyType"),
        ('{"strategyType": 0}', "probabilisticSampling"),
        ('{"strategyType": 1}', "rateLimitingSampling"),
        ('{"probabilisticSampling": {"samplingRate": 1.5}}', "samplingRate=1.5"),
        ('{"probabilisticSampling": {"samplingRate": -0.1}}', "samplingRate=-0.1"),
        ('{"probabilisticSampling": {"samplingRate": "0.5"}}', "samplingRate='0.5'"),
        ('{"probabilisticSampling": {"samplingRate": NaN}}', "samplingRate=nan"),
        ('{"probabilisticSampling": 0.5}', "not an object"),
        ('{"strategyType": 1, "rateLimitingSampling": {"maxTracesPerSecond": -1}}', "-1"),
        ('{"operationSampling": {"perOperationStrategies": {}}}', "not a list"),
        ('{"operationSampling": {"perOperationStrategies": [{"x": 1}]}}', "operation name"),
        (
            '{"operationSampling": {"perOperationStrategies": [{"operation": "a"}]}}',
            "no probabilisticSampling",
        ),
        ('{"operationSampling": {"defaultSamplingProbability": 2}}', "defaultSampling"),
    ],
)
def test_malformed_strategies_are_rejected_with_the_reason(body: str | bytes, reason: str) -> None:
    with pytest.raises(StrategyError, match=reason.replace("(", r"\(").replace("[", r"\[")):
        parse_strategy(body)


def test_probabilistic_decides_like_trace_id_ratio_based() -> None:
    reference = TraceIdRatioBased(0.2)
    decider = Probabilistic(0.2)
    for trace_id in random_trace_ids(2000):
        expected = reference.should_sample(None, trace_id, "x").decision
        result = decider.sample(None, trace_id, "x")
        assert result.decision is expected
        assert decider.keeps(trace_id, "x") == (expected is Decision.RECORD_AND_SAMPLE)
        if result.decision is Decision.RECORD_AND_SAMPLE:
            assert dict(result.attributes) == {SAMPLER_TYPE: "probabilistic", SAMPLER_PARAM: 0.2}


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_starts_full_refills_at_its_rate_and_caps_the_balance() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, 2.0, clock)
    assert [bucket.take() for _ in range(3)] == [True, True, False]
    clock.now += 0.5  # one credit
    assert [bucket.take() for _ in range(2)] == [True, False]
    clock.now += 60  # capped at max_balance
    assert sum(bucket.take() for _ in range(10)) == 2


def test_token_bucket_update_keeps_the_balance_share() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4.0, 4.0, clock)
    assert bucket.take() and bucket.take()  # half full
    bucket.update(10.0, 10.0)
    assert sum(bucket.take() for _ in range(20)) == 5


def test_rate_limiting_keeps_at_most_its_rate() -> None:
    decider = RateLimiting(Strategy(RATE_LIMITING, 5.0))
    started = time.monotonic()
    kept = [decider.sample(None, trace_id, "x") for trace_id in random_trace_ids(5000)]
    elapsed = time.monotonic() - started
    sampled = [r for r in kept if r.decision is Decision.RECORD_AND_SAMPLE]
    # A full bucket of 5, then 5 a second.
    assert 5 <= len(sampled) <= 5 + math.ceil(5 * elapsed)
    assert dict(sampled[0].attributes) == {SAMPLER_TYPE: "ratelimiting", SAMPLER_PARAM: 5.0}


def test_rate_limiting_update_reuses_the_bucket() -> None:
    first = RateLimiting(Strategy(RATE_LIMITING, 3.0))
    while first.keeps(0, ""):
        pass
    second = build_decider(Strategy(RATE_LIMITING, 6.0), first)
    assert isinstance(second, RateLimiting) and second.bucket is first.bucket
    assert second.bucket.credits_per_second == 6.0
    assert not second.keeps(0, "")  # still empty: an update is no free burst


def test_per_operation_rates_and_the_default_for_unknown_operations() -> None:
    decider = build_decider(parse_strategy(__import__("json").dumps(PER_OPERATION_BODY)))
    ids = random_trace_ids(4000)
    assert all(decider.keeps(trace_id, "always-kept") for trace_id in ids)
    kept_other = sum(decider.keeps(trace_id, "other") for trace_id in ids)
    assert within_binomial(kept_other, len(ids), 0.2)
    result = decider.sample(None, ids[0], "always-kept")
    assert dict(result.attributes) == {SAMPLER_TYPE: "probabilistic", SAMPLER_PARAM: 1.0}


def test_lower_bound_keeps_traces_the_probability_would_drop() -> None:
    decider = PerOperation(Strategy(PER_OPERATION, 0.0, 2.0, (("rare", 0.0),)))
    started = time.monotonic()
    results = [decider.sample(None, trace_id, "rare") for trace_id in random_trace_ids(3000)]
    elapsed = time.monotonic() - started
    kept = [r for r in results if r.decision is Decision.RECORD_AND_SAMPLE]
    assert 2 <= len(kept) <= 2 + math.ceil(2 * elapsed)
    assert dict(kept[0].attributes) == {SAMPLER_TYPE: "lowerbound", SAMPLER_PARAM: 0.0}
    # Unknown operations get their own lower bound too.
    assert decider.keeps(1, "new-operation") and decider.keeps(2, "new-operation")


def test_probabilistic_keeps_spend_lower_bound_credits() -> None:
    decider = PerOperation(Strategy(PER_OPERATION, 0.0, 1.0, (("busy", 1.0),)))
    for trace_id in random_trace_ids(50):
        assert decider.keeps(trace_id, "busy")
    switched = build_decider(Strategy(PER_OPERATION, 0.0, 1.0, (("busy", 0.0),)), decider)
    # The bucket was emptied by the probabilistic keeps and carried over.
    assert not switched.keeps(3, "busy")


def test_without_a_lower_bound_unknown_operations_are_not_tracked() -> None:
    decider = PerOperation(Strategy(PER_OPERATION, 0.5, 0.0, (("a", 1.0),)))
    for index in range(MAX_OPERATIONS + 10):
        decider.keeps(index, f"op-{index}")
    assert list(decider._samplers) == ["a"]


def test_operations_past_the_cap_share_the_default_probability() -> None:
    decider = PerOperation(Strategy(PER_OPERATION, 0.0, 1.0))
    for index in range(MAX_OPERATIONS + 10):
        decider.keeps(index, f"op-{index}")
    assert len(decider._samplers) == MAX_OPERATIONS
    assert not decider.keeps(5, "one-more")  # probability 0, no lower bound left


def test_parent_trace_state_is_carried_like_trace_id_ratio_based() -> None:
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
    from opentelemetry.trace.span import TraceState

    state = TraceState([("vendor", "value")])
    parent = NonRecordingSpan(SpanContext(1, 2, True, TraceFlags(1), state))
    context = trace.set_span_in_context(parent)
    for decider in (
        Probabilistic(1.0),
        Probabilistic(0.0),
        RateLimiting(Strategy(RATE_LIMITING, 1)),
    ):
        assert decider.sample(context, 5, "x").trace_state is state
        assert decider.sample(None, 5, "x").trace_state is None
