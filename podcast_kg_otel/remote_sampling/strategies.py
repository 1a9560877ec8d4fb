"""Jaeger sampling strategies: the sampling endpoint's answer, parsed, and the deciders
that apply it the way Jaeger's own clients do.

Jaeger v2 answers ``GET /?service=NAME`` with the Thrift-shaped JSON (``strategyType`` as
the enum number 0 or 1); its ``/sampling`` route and the v1 agent answer with the
protobuf-shaped JSON (``strategyType`` as ``"PROBABILISTIC"`` or ``"RATE_LIMITING"``, zero
values left out). Both are accepted. As in Jaeger's Go client, ``operationSampling``, when
present, wins over the service-level strategy.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import Decision, SamplingResult
from opentelemetry.trace import get_current_span
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from podcast_kg_otel.remote_sampling.token_bucket import TokenBucket

PROBABILISTIC = "probabilistic"
RATE_LIMITING = "ratelimiting"
PER_OPERATION = "per-operation"
LOWER_BOUND = "lowerbound"
#: Span attributes Jaeger's adaptive sampling reads from root spans to measure throughput.
SAMPLER_TYPE = "sampler.type"
SAMPLER_PARAM = "sampler.param"
#: Operations tracked with their own lower-bound bucket, as in Jaeger's clients.
MAX_OPERATIONS = 2000
_STRATEGY_TYPES: dict[object, str] = {
    0: PROBABILISTIC,
    1: RATE_LIMITING,
    "PROBABILISTIC": PROBABILISTIC,
    "RATE_LIMITING": RATE_LIMITING,
}
_TRACE_ID_LOW_BITS = (1 << 64) - 1


class StrategyError(ValueError):
    """The endpoint's answer is not a strategy this sampler can apply."""


@dataclass(frozen=True)
class Strategy:
    """One service's strategy. ``rate`` is the probability (probabilistic) or the traces
    per second (rate limiting); per-operation strategies fill the ``default_*`` fields and
    ``operations`` (name, probability)."""

    kind: str
    rate: float = 0.0
    lower_bound: float = 0.0
    operations: tuple[tuple[str, float], ...] = ()

    def describe(self) -> str:
        if self.kind == PROBABILISTIC:
            return f"probabilistic(samplingRate={self.rate:g})"
        if self.kind == RATE_LIMITING:
            return f"ratelimiting(maxTracesPerSecond={self.rate:g})"
        return (
            f"per-operation(defaultSamplingProbability={self.rate:g}, "
            f"defaultLowerBoundTracesPerSecond={self.lower_bound:g}, "
            f"operations={len(self.operations)})"
        )


def _number(obj: Mapping[str, Any], key: str, where: str, maximum: float | None) -> float:
    """A non-negative finite number; absent means 0 (protobuf JSON leaves zeros out)."""
    value = obj.get(key, 0)
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
        or (maximum is not None and value > maximum)
    ):
        bound = f"0..{maximum:g}" if maximum is not None else ">= 0"
        raise StrategyError(f"{where}.{key}={value!r} is not a number {bound}")
    return float(value)


def _object(obj: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise StrategyError(f"{key} is not an object")
    return value


def _probability(obj: Mapping[str, Any] | None, where: str) -> float:
    if obj is None:
        raise StrategyError(f"{where} has no probabilisticSampling")
    return _number(obj, "samplingRate", f"{where}.probabilisticSampling", 1.0)


def _operations(sampling: Mapping[str, Any]) -> Strategy:
    default = _number(sampling, "defaultSamplingProbability", "operationSampling", 1.0)
    lower = _number(sampling, "defaultLowerBoundTracesPerSecond", "operationSampling", None)
    entries = sampling.get("perOperationStrategies")
    entries = [] if entries is None else entries
    if not isinstance(entries, list):
        raise StrategyError("operationSampling.perOperationStrategies is not a list")
    operations: dict[str, float] = {}
    for index, entry in enumerate(entries):
        where = f"perOperationStrategies[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("operation"), str):
            raise StrategyError(f"{where} has no operation name")
        operations[entry["operation"]] = _probability(
            _object(entry, "probabilisticSampling"), where
        )
    return Strategy(PER_OPERATION, default, lower, tuple(operations.items()))


def parse_strategy(body: bytes | str) -> Strategy:
    """The strategy in a sampling endpoint's JSON answer; StrategyError when unusable."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise StrategyError(f"not JSON ({error})") from None
    if not isinstance(data, dict):
        raise StrategyError("not a JSON object")
    raw_type = data.get("strategyType", 0)
    kind = _STRATEGY_TYPES.get(raw_type) if not isinstance(raw_type, bool) else None
    if kind is None:
        raise StrategyError(f"unknown strategyType {raw_type!r}")
    operation_sampling = _object(data, "operationSampling")
    if operation_sampling is not None:
        return _operations(operation_sampling)
    if kind == PROBABILISTIC:
        return Strategy(
            PROBABILISTIC, _probability(_object(data, "probabilisticSampling"), "strategy")
        )
    limits = _object(data, "rateLimitingSampling")
    if limits is None:
        raise StrategyError("RATE_LIMITING strategy has no rateLimitingSampling")
    return Strategy(
        RATE_LIMITING, _number(limits, "maxTracesPerSecond", "rateLimitingSampling", None)
    )


# Deciders ------------------------------------------------------------------------------


def parent_trace_state(parent_context: Context | None) -> TraceState | None:
    """The parent's trace state, carried over like ``TraceIdRatioBased`` does."""
    span_context = get_current_span(parent_context).get_span_context()
    return span_context.trace_state if span_context.is_valid else None


class Decider(Protocol):
    """A strategy in force: decides sampler calls and, under tail sampling, healthy traces."""

    strategy: Strategy

    def sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        attributes: Attributes = None,
    ) -> SamplingResult: ...

    def keeps(self, trace_id: int, name: str) -> bool: ...

    def reset_after_fork(self) -> None: ...


def _results(sampler_type: str, param: float) -> tuple[dict[str, Any], SamplingResult]:
    attributes = {SAMPLER_TYPE: sampler_type, SAMPLER_PARAM: param}
    return attributes, SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)


_DROPPED = SamplingResult(Decision.DROP)


def _result(
    keep: bool,
    tags: Mapping[str, Any],
    kept: SamplingResult,
    state: TraceState | None,
    attributes: Attributes,
) -> SamplingResult:
    """A kept span gets its own attributes plus the sampler tags (the SDK starts the span
    with the result's attributes). The shared result objects serve the usual root: no
    attributes, no trace state to carry."""
    if not keep:
        return _DROPPED if state is None else SamplingResult(Decision.DROP, None, state)
    if state is None and not attributes:
        return kept
    return SamplingResult(
        Decision.RECORD_AND_SAMPLE, {**attributes, **tags} if attributes else tags, state
    )


class Probabilistic:
    """Keeps a trace when its id's low 64 bits fall under ``rate`` of the range: the
    rule of ``TraceIdRatioBased`` and of our tail sampling, so Python services agree."""

    __slots__ = ("_attributes", "_kept", "bound", "strategy")

    def __init__(self, rate: float, sampler_type: str = PROBABILISTIC) -> None:
        self.strategy = Strategy(PROBABILISTIC, rate)
        self.bound = round(rate * (_TRACE_ID_LOW_BITS + 1))
        self._attributes, self._kept = _results(sampler_type, rate)

    def keeps(self, trace_id: int, name: str = "") -> bool:
        return trace_id & _TRACE_ID_LOW_BITS < self.bound

    def sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        attributes: Attributes = None,
    ) -> SamplingResult:
        keep = trace_id & _TRACE_ID_LOW_BITS < self.bound
        state = parent_trace_state(parent_context)
        return _result(keep, self._attributes, self._kept, state, attributes)

    def reset_after_fork(self) -> None:
        pass


class RateLimiting:
    """At most ``maxTracesPerSecond`` traces a second (bursts up to max(rate, 1))."""

    __slots__ = ("_attributes", "_kept", "bucket", "strategy")

    def __init__(self, strategy: Strategy, previous: object = None) -> None:
        self.strategy = strategy
        balance = max(strategy.rate, 1.0)
        if isinstance(previous, RateLimiting):
            self.bucket = previous.bucket
            self.bucket.update(strategy.rate, balance)
        else:
            self.bucket = TokenBucket(strategy.rate, balance)
        self._attributes, self._kept = _results(RATE_LIMITING, strategy.rate)

    def keeps(self, trace_id: int, name: str = "") -> bool:
        return self.bucket.take()

    def sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        attributes: Attributes = None,
    ) -> SamplingResult:
        keep = self.bucket.take()
        state = parent_trace_state(parent_context)
        return _result(keep, self._attributes, self._kept, state, attributes)

    def reset_after_fork(self) -> None:
        self.bucket.reset_after_fork()


_DROP, _BY_PROBABILITY, _BY_LOWER_BOUND = range(3)


class GuaranteedThroughput:
    """Jaeger's guaranteed-throughput sampler for one operation: probabilistic, plus a
    lower bound of ``lower_bound`` traces a second kept whatever the probability. A
    probabilistic keep spends a lower-bound credit too, so the bound only adds traces
    when the probability alone keeps fewer. A lower bound of 0 adds nothing."""

    __slots__ = ("_attributes", "_kept", "lower", "probabilistic")

    def __init__(
        self, rate: float, lower_bound: float, previous: GuaranteedThroughput | None
    ) -> None:
        self.probabilistic = Probabilistic(rate)
        self.lower: TokenBucket | None = None
        if lower_bound > 0:
            balance = max(lower_bound, 1.0)
            if previous is not None and previous.lower is not None:
                self.lower = previous.lower
                self.lower.update(lower_bound, balance)
            else:
                self.lower = TokenBucket(lower_bound, balance)
        self._attributes, self._kept = _results(LOWER_BOUND, rate)

    def decide(self, trace_id: int) -> int:
        """_BY_PROBABILITY, _BY_LOWER_BOUND or _DROP."""
        if trace_id & _TRACE_ID_LOW_BITS < self.probabilistic.bound:
            if self.lower is not None:
                self.lower.take()
            return _BY_PROBABILITY
        return _BY_LOWER_BOUND if self.lower is not None and self.lower.take() else _DROP

    def sample(
        self, parent_context: Context | None, trace_id: int, attributes: Attributes
    ) -> SamplingResult:
        how = self.decide(trace_id)
        if how == _BY_PROBABILITY:
            return self.probabilistic.sample(parent_context, trace_id, "", attributes)
        state = parent_trace_state(parent_context)
        return _result(how == _BY_LOWER_BOUND, self._attributes, self._kept, state, attributes)


class PerOperation:
    """One guaranteed-throughput sampler per operation (the root span's name); operations
    the strategy does not list get ``defaultSamplingProbability``. Past
    ``MAX_OPERATIONS`` names, new ones share the default probability without a bound."""

    __slots__ = ("_default", "_lock", "_samplers", "strategy")

    def __init__(self, strategy: Strategy, previous: object = None) -> None:
        self.strategy = strategy
        self._lock = threading.Lock()
        old = previous._samplers if isinstance(previous, PerOperation) else {}
        rates = dict(strategy.operations)
        # Operations seen before keep their lower-bound balance, at the new rates.
        names = list(rates) + [name for name in old if name not in rates]
        self._samplers: dict[str, GuaranteedThroughput] = {
            name: GuaranteedThroughput(
                rates.get(name, strategy.rate), strategy.lower_bound, old.get(name)
            )
            for name in names[: max(MAX_OPERATIONS, len(rates))]
            if name in rates or strategy.lower_bound > 0
        }
        self._default = GuaranteedThroughput(strategy.rate, 0.0, None)

    def _sampler(self, name: str) -> GuaranteedThroughput:
        sampler = self._samplers.get(name)
        if sampler is not None:
            return sampler
        if self.strategy.lower_bound <= 0 or len(self._samplers) >= MAX_OPERATIONS:
            return self._default
        with self._lock:
            return self._samplers.setdefault(
                name, GuaranteedThroughput(self.strategy.rate, self.strategy.lower_bound, None)
            )

    def keeps(self, trace_id: int, name: str) -> bool:
        return self._sampler(name).decide(trace_id) != _DROP

    def sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        attributes: Attributes = None,
    ) -> SamplingResult:
        return self._sampler(name).sample(parent_context, trace_id, attributes)

    def reset_after_fork(self) -> None:
        self._lock = threading.Lock()
        for sampler in self._samplers.values():
            if sampler.lower is not None:
                sampler.lower.reset_after_fork()


def build_decider(strategy: Strategy, previous: object = None) -> Decider:
    """The decider for `strategy`; token balances carry over from `previous`."""
    if strategy.kind == PROBABILISTIC:
        return Probabilistic(strategy.rate)
    if strategy.kind == RATE_LIMITING:
        return RateLimiting(strategy, previous)
    return PerOperation(strategy, previous)
