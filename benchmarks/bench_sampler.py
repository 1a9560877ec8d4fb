"""Cost of one sampling decision: the jaeger_remote sampler against ``TraceIdRatioBased``,
in one run.

Each pair decides the same pre-drawn root trace ids (no parent, as for a root span) with
``should_sample``: the baseline is ``TraceIdRatioBased(0.2)`` (``ParentBased`` of it for the
parent-based row), ours a ``JaegerRemoteSampler`` with a strategy put in force in process
(no network: polling is off the decision path). Rows: probabilistic 0.2; per-operation
(default 0.2, one listed operation at 1.0) for a listed and an unlisted operation, without
and with a lower bound; rate limiting; and probabilistic with two span attributes (a kept
span then gets a merged attribute dict). Rounds alternate the sides; figures are the median
over rounds of the mean ns per decision, the ratio ours/baseline of the medians and of the
fastest rounds (less sensitive to other load on a shared machine). Goal: <= 1.5x.

    python benchmarks/bench_sampler.py [--decisions 20000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased

from podcast_kg_otel.remote_sampling import JaegerRemoteSampler, Strategy
from podcast_kg_otel.remote_sampling.strategies import PER_OPERATION, PROBABILISTIC, RATE_LIMITING

Loop = Callable[[], None]


def _remote(strategy: Strategy) -> JaegerRemoteSampler:
    sampler = JaegerRemoteSampler("http://127.0.0.1:9", service_name="bench", start=False)
    sampler.apply(strategy)
    return sampler


def _loop(sampler: Sampler, ids: list[int], name: str, attributes: dict | None) -> Loop:
    decide = sampler.should_sample

    def run() -> None:
        for trace_id in ids:
            decide(None, trace_id, name, None, attributes)

    return run


def _pairs(ids: list[int]) -> dict[str, tuple[Loop, Loop]]:
    ratio = TraceIdRatioBased(0.2)
    probabilistic = _remote(Strategy(PROBABILISTIC, 0.2))
    operations = _remote(Strategy(PER_OPERATION, 0.2, 0.0, (("listed", 1.0),)))
    bounded = _remote(Strategy(PER_OPERATION, 0.2, 1.0, (("listed", 1.0),)))
    limited = _remote(Strategy(RATE_LIMITING, 100.0))
    attributes = {"episode.id": "ep-001", "feed.url": "http://127.0.0.1/feed.xml"}
    return {
        "probabilistic": (_loop(ratio, ids, "op", None), _loop(probabilistic, ids, "op", None)),
        "parentbased": (
            _loop(ParentBased(ratio), ids, "op", None),
            _loop(ParentBased(probabilistic), ids, "op", None),
        ),
        "per-op listed": (_loop(ratio, ids, "op", None), _loop(operations, ids, "listed", None)),
        "per-op default": (_loop(ratio, ids, "op", None), _loop(operations, ids, "other", None)),
        "lower bound": (_loop(ratio, ids, "op", None), _loop(bounded, ids, "other", None)),
        "ratelimiting": (_loop(ratio, ids, "op", None), _loop(limited, ids, "op", None)),
        "+attributes": (
            _loop(ratio, ids, "op", attributes),
            _loop(probabilistic, ids, "op", attributes),
        ),
    }


def _per_decision_ns(loop: Loop, decisions: int) -> float:
    start = time.perf_counter()
    loop()
    return (time.perf_counter() - start) / decisions * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    generator = random.Random(1)
    ids = [generator.getrandbits(128) for _ in range(args.decisions)]

    print(f"{'strategy':<16}{'ratio ns':>10}{'ours ns':>10}{'ratio':>8}{'min ratio':>11}")
    for name, (baseline, ours) in _pairs(ids).items():
        baseline()  # warm-up
        ours()
        base_times, our_times = [], []
        for index in range(args.rounds):
            order = [(baseline, base_times), (ours, our_times)]
            for loop, samples in order if index % 2 == 0 else reversed(order):
                samples.append(_per_decision_ns(loop, args.decisions))
        base_ns, our_ns = statistics.median(base_times), statistics.median(our_times)
        min_ratio = min(our_times) / min(base_times)
        print(
            f"{name:<16}{base_ns:>10.0f}{our_ns:>10.0f}{our_ns / base_ns:>8.3f}{min_ratio:>11.3f}"
        )


if __name__ == "__main__":
    main()
