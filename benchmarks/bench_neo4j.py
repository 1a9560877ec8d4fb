"""neo4j instrumentation overhead on the real Neo4j, with and without it, in one run.

A loop of small auto-commit queries (`session.run("RETURN $i AS i", i=i).consume()`) and
of `driver.execute_query` calls runs in rounds that alternate three modes: uninstrumented,
instrumented with a sampled SDK TracerProvider, and instrumented with an unsampled one
(ALWAYS_OFF), plus a fourth mode: uninstrumented with one bare SDK span started and ended
by hand around each query, the yardstick for the added cost (a span measured inside the
same query loop costs about twice what it costs in a tight loop, which is also printed).
Both providers use a BatchSpanProcessor with a discarding exporter, so the network export
is not measured on either side. Rounds rotate the mode order; the added cost is the median
over rounds of (mode - uninstrumented) in the same round.

Wall time includes the server round trip and is noisy; CPU time (process_time, all
threads of this process) is what instrumentation adds, so both are printed. Figures are
medians over rounds of the mean per query.

    python benchmarks/bench_neo4j.py [--queries 200] [--rounds 11]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence

import neo4j
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON
from podcast_kg_otel_neo4j import Neo4jInstrumentor

URI = os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687")
AUTH = (os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", "podcast-kg-test"))


class _Discard(SpanExporter):
    def export(self, spans: Sequence) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _provider(sampled: bool) -> TracerProvider:
    provider = TracerProvider(sampler=ALWAYS_ON if sampled else ALWAYS_OFF)
    provider.add_span_processor(BatchSpanProcessor(_Discard()))
    return provider


def _per_call(loop: Callable[[int], None], calls: int) -> tuple[float, float]:
    """(wall, cpu) microseconds per call."""
    wall, cpu = time.perf_counter(), time.process_time()
    loop(calls)
    return (
        (time.perf_counter() - wall) / calls * 1e6,
        (time.process_time() - cpu) / calls * 1e6,
    )


# What our spans carry for one small query; for a reference line only.
_LIKE_OURS = {f"attribute.{i}": "value" for i in range(20)}


def _bare_span(provider: TracerProvider, calls: int, rounds: int, attributes: dict) -> float:
    tracer = provider.get_tracer("bench")
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(calls):
            tracer.start_span("x", attributes=attributes).end()
        samples.append((time.process_time() - start) / calls * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=200, help="queries per round and mode")
    parser.add_argument("--rounds", type=int, default=11)
    options = parser.parse_args()
    providers = {"sampled": _provider(True), "unsampled": _provider(False)}
    tracer = providers["sampled"].get_tracer("bench")
    instrumentor = Neo4jInstrumentor()
    driver = neo4j.GraphDatabase.driver(URI, auth=AUTH)
    session = driver.session(database="neo4j")
    spanned = False  # the "bare span" mode: one SDK span by hand around each query

    def session_loop(calls: int) -> None:
        for i in range(calls):
            span = tracer.start_span("x") if spanned else None
            session.run("RETURN $i AS i", i=i).consume()
            if span is not None:
                span.end()

    def execute_query_loop(calls: int) -> None:
        for i in range(calls):
            span = tracer.start_span("x") if spanned else None
            driver.execute_query("RETURN $i AS i", i=i, database_="neo4j")
            if span is not None:
                span.end()

    loops = {"Session.run": session_loop, "Driver.execute_query": execute_query_loop}
    modes = ("bare", "bare span", "sampled", "unsampled")
    samples = {(api, mode): [] for api in loops for mode in modes}
    session_loop(50)  # warm up the connection and the server's query cache
    for round_ in range(options.rounds):
        for offset in range(len(modes)):
            mode = modes[(round_ + offset) % len(modes)]  # rotate the order per round
            spanned = mode == "bare span"
            if mode in providers:
                instrumentor.instrument(tracer_provider=providers[mode])
            for api, loop in loops.items():
                samples[(api, mode)].append(_per_call(loop, options.queries))
            if mode in providers:
                instrumentor.uninstrument()
    session.close()
    driver.close()
    tight = {mode: _bare_span(p, 20000, options.rounds, {}) for mode, p in providers.items()}
    with_attributes = _bare_span(providers["sampled"], 20000, options.rounds, _LIKE_OURS)

    def added(api: str, mode: str, index: int) -> float:
        """Median over rounds of (mode - uninstrumented) in the same round."""
        pairs = zip(samples[(api, mode)], samples[(api, "bare")], strict=True)
        return statistics.median(ours[index] - bare[index] for ours, bare in pairs)

    print(f"neo4j {neo4j.__version__}, {options.rounds} rounds x {options.queries} queries")
    print(
        f"bare SDK span in a tight loop (CPU): sampled {tight['sampled']:.1f} us, "
        f"unsampled {tight['unsampled']:.2f} us, sampled with 20 attributes "
        f"{with_attributes:.1f} us"
    )
    for api in loops:
        bare_wall = statistics.median(w for w, _ in samples[(api, "bare")])
        bare_cpu = statistics.median(c for _, c in samples[(api, "bare")])
        span_cpu = added(api, "bare span", 1)
        print(
            f"{api}: uninstrumented {bare_wall:.0f} us wall, {bare_cpu:.0f} us CPU per query; "
            f"one bare sampled span per query in the same loop: +{span_cpu:.1f} us CPU"
        )
        for mode in ("sampled", "unsampled"):
            cpu, wall = added(api, mode, 1), added(api, mode, 0)
            print(
                f"  ours {mode:9}: +{cpu:5.1f} us CPU per query = {cpu / span_cpu:.2f}x the "
                f"in-loop bare span ({cpu / tight['sampled']:.1f}x the tight-loop one), "
                f"{cpu / bare_wall * 100:.1f}% of the loop time; "
                f"wall {wall:+.0f} us ({wall / bare_wall * 100:+.1f}%)"
            )
    for provider in providers.values():
        provider.shutdown()


if __name__ == "__main__":
    main()
