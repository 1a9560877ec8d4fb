"""Cost of the distro's Python API against the raw ``tracer.start_as_current_span``, in one run.

Each pair traces the same trivial function: raw (``with tracer.start_as_current_span(..)``
around the call) against ``@trace_method``, ``with create_span(..)`` and ``@trace_async``.
The provider is a global SDK TracerProvider (ALWAYS_ON) with a BatchSpanProcessor and a
discarding exporter, so export is not measured; the queue holds a whole round and is
flushed between rounds, so no span is dropped. Rounds alternate the sides; figures are the
median over rounds of the mean µs per call, the ratio ours/raw of the medians and of the
fastest rounds (less sensitive to the other load on a shared machine).

    python benchmarks/bench_api.py [--calls 10000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable, Sequence

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from podcast_kg_otel import create_span, trace_async, trace_method


class _Discard(SpanExporter):
    def export(self, spans: Sequence) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def work() -> int:
    return 1


async def async_work() -> int:
    return 1


def _sync_loops(
    tracer: trace.Tracer,
) -> dict[str, tuple[Callable[[int], None], Callable[[int], None]]]:
    traced = trace_method(name="op")(work)

    def raw(calls: int) -> None:
        for _ in range(calls):
            with tracer.start_as_current_span("op"):
                work()

    def decorated(calls: int) -> None:
        for _ in range(calls):
            traced()

    def scoped(calls: int) -> None:
        for _ in range(calls):
            with create_span("op"):
                work()

    return {"trace_method": (raw, decorated), "create_span": (raw, scoped)}


def _async_loops(tracer: trace.Tracer) -> tuple[Callable[[int], None], Callable[[int], None]]:
    traced = trace_async(name="op")(async_work)

    async def raw_loop(calls: int) -> None:
        for _ in range(calls):
            with tracer.start_as_current_span("op"):
                await async_work()

    async def traced_loop(calls: int) -> None:
        for _ in range(calls):
            await traced()

    loop = asyncio.new_event_loop()
    return (
        lambda calls: loop.run_until_complete(raw_loop(calls)),
        lambda calls: loop.run_until_complete(traced_loop(calls)),
    )


def _per_call_us(loop: Callable[[int], None], calls: int) -> float:
    start = time.perf_counter()
    loop(calls)
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    provider = TracerProvider()
    # A queue larger than one round, flushed between rounds: no span is dropped.
    provider.add_span_processor(BatchSpanProcessor(_Discard(), max_queue_size=4 * args.calls))
    trace.set_tracer_provider(provider)
    tracer = provider.get_tracer("bench")
    pairs = {**_sync_loops(tracer), "trace_async": _async_loops(tracer)}

    print(f"{'API':<14}{'raw µs':>10}{'ours µs':>10}{'ratio':>8}{'min ratio':>11}")
    for name, (raw, ours) in pairs.items():
        raw(args.calls // 10)  # warm-up
        ours(args.calls // 10)
        raw_times, our_times = [], []
        for index in range(args.rounds):
            order = [(raw, raw_times), (ours, our_times)]
            for loop, samples in order if index % 2 == 0 else reversed(order):
                samples.append(_per_call_us(loop, args.calls))
                provider.force_flush()
        raw_us, our_us = statistics.median(raw_times), statistics.median(our_times)
        min_ratio = min(our_times) / min(raw_times)
        print(f"{name:<14}{raw_us:>10.2f}{our_us:>10.2f}{our_us / raw_us:>8.3f}{min_ratio:>11.3f}")
    provider.shutdown()


if __name__ == "__main__":
    main()
