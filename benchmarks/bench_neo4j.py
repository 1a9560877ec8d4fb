"""neo4j instrumentation overhead on the real Neo4j, with and without it, in one run.

Four workloads, each a loop of one small query, run in many short rounds:

- `RETURN $i AS i` through `session.run(...).consume()` and through
  `driver.execute_query`: the smallest query there is, the worst case for relative cost;
- the podcast pipeline's own kind of queries, on 3000 `:BenchEpisode` nodes with a
  uniqueness constraint on `id` (created at start, removed at the end): an indexed point
  lookup `MATCH (e:BenchEpisode {id: $id}) RETURN e.title` through `session.run(...)
  .single()`, and a single-node write `MERGE (e:BenchEpisode {id: $id}) SET e.title =
  $title` through `driver.execute_query` (write mode, one committed transaction each).

Each round runs every mode once, in an order that rotates from round to round, all in
this one process:

- uninstrumented (the baseline);
- uninstrumented with one bare SDK span started and ended by hand around each query: the
  yardstick of the issue ("the cost of one bare SDK span measured in the same run");
- uninstrumented with one SDK span by hand that carries exactly the attributes our span
  for that API carries (captured from a real instrumented query: the start attributes
  passed to `start_span`, the rest set in one `set_attributes` before `end`): the SDK's
  own floor for our attribute set, so "ours minus floor" is what our code adds;
- ours with a sampled SDK TracerProvider (ALWAYS_ON);
- ours with an unsampled one (ALWAYS_OFF).

The spans of every mode go to a BatchSpanProcessor with a discarding exporter, so the
network export is measured on no side. A few untimed queries follow every mode switch.
The added cost of a mode is the median over rounds of (mode - uninstrumented) in the same
round, in CPU time of the whole process (`process_time`: all threads, so the batch
processor's work counts); wall time, which includes the server round trip and the other
processes of the machine, is printed too. A span costs more inside the query loop than in
a tight loop (the driver's work between spans evicts caches); both are printed, the
in-loop figure is the yardstick.

    python benchmarks/bench_neo4j.py [--queries 50] [--rounds 61] [--episodes 3000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import neo4j
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON
from opentelemetry.trace import SpanKind
from podcast_kg_otel_neo4j import Neo4jInstrumentor

URI = os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687")
AUTH = (os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", "podcast-kg-test"))
MODES = ("uninstrumented", "bare span", "SDK floor", "sampled", "unsampled")
WARM_UP = 5  # untimed queries after each mode switch
LABEL = "BenchEpisode"  # the bench's own data: no test or pipeline uses this label
CONSTRAINT = "bench_neo4j_episode_id"
LOOKUP = f"MATCH (e:{LABEL} {{id: $id}}) RETURN e.title AS title"
WRITE = f"MERGE (e:{LABEL} {{id: $id}}) SET e.title = $title"


class _Discard(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class _Capture(SpanProcessor):
    """Keeps the name, kind and start/end attributes of the last span."""

    def __init__(self) -> None:
        self.name, self.kind = "", SpanKind.INTERNAL
        self.start: dict[str, Any] = {}
        self.end: dict[str, Any] = {}

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        self.start = dict(span.attributes or {})

    def on_end(self, span: ReadableSpan) -> None:
        self.name, self.kind = span.name, span.kind
        self.end = {k: v for k, v in (span.attributes or {}).items() if k not in self.start}


def _provider(sampled: bool) -> TracerProvider:
    provider = TracerProvider(sampler=ALWAYS_ON if sampled else ALWAYS_OFF)
    provider.add_span_processor(BatchSpanProcessor(_Discard()))
    return provider


def _per_call(loop: Callable[[int], None], calls: int) -> tuple[float, float]:
    """(wall, cpu) microseconds per call."""
    loop(WARM_UP)
    wall, cpu = time.perf_counter(), time.process_time()
    loop(calls)
    return (
        (time.perf_counter() - wall) / calls * 1e6,
        (time.process_time() - cpu) / calls * 1e6,
    )


def _tight(make: Callable[[], None], calls: int, rounds: int) -> float:
    """Median CPU microseconds of `make()` in a tight loop."""
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(calls):
            make()
        samples.append((time.process_time() - start) / calls * 1e6)
    return statistics.median(samples)


def _create_episodes(driver: neo4j.Driver, count: int) -> None:
    """`count` BenchEpisode nodes with a uniqueness constraint (its index) on `id`."""
    _drop_episodes(driver)
    driver.execute_query(
        f"CREATE CONSTRAINT {CONSTRAINT} IF NOT EXISTS FOR (e:{LABEL}) REQUIRE e.id IS UNIQUE"
    )
    driver.execute_query("CALL db.awaitIndexes(60)")
    driver.execute_query(
        f"UNWIND range(0, $count - 1) AS i CREATE (:{LABEL} {{id: i, title: 'Episode ' + i}})",
        count=count,
    )


def _drop_episodes(driver: neo4j.Driver) -> None:
    driver.execute_query(f"MATCH (e:{LABEL}) DETACH DELETE e")
    driver.execute_query(f"DROP CONSTRAINT {CONSTRAINT} IF EXISTS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=50, help="timed queries per round+mode")
    parser.add_argument("--rounds", type=int, default=61)
    parser.add_argument("--episodes", type=int, default=3000, help="BenchEpisode nodes")
    options = parser.parse_args()
    driver = neo4j.GraphDatabase.driver(URI, auth=AUTH)
    try:
        _create_episodes(driver, options.episodes)
        _bench(driver, options)
    finally:
        _drop_episodes(driver)
        driver.close()


def _bench(driver: neo4j.Driver, options: argparse.Namespace) -> None:
    providers = {"sampled": _provider(True), "unsampled": _provider(False)}
    tracer = providers["sampled"].get_tracer("bench")
    instrumentor = Neo4jInstrumentor()
    session = driver.session(database="neo4j")
    episodes = options.episodes

    def run(i: int) -> None:
        session.run("RETURN $i AS i", i=i).consume()

    def execute_query(i: int) -> None:
        driver.execute_query("RETURN $i AS i", i=i, database_="neo4j")

    def lookup(i: int) -> None:
        session.run(LOOKUP, id=i * 7919 % episodes).single()

    def write(i: int) -> None:
        driver.execute_query(WRITE, id=i * 7919 % episodes, title=f"t{i}", database_="neo4j")

    queries = {
        "RETURN $i, Session.run": run,
        "RETURN $i, Driver.execute_query": execute_query,
        "point lookup, Session.run": lookup,
        "MERGE write, Driver.execute_query": write,
    }

    # What our span carries for each API, captured from one instrumented query.
    shapes: dict[str, _Capture] = {}
    for api, query in queries.items():
        capture, capturing = _Capture(), TracerProvider()
        capturing.add_span_processor(capture)
        instrumentor.instrument(tracer_provider=capturing)
        query(0)
        instrumentor.uninstrument()
        shapes[api] = capture

    def loop_for(api: str, mode: str) -> Callable[[int], None]:
        query, shape = queries[api], shapes[api]
        if mode == "bare span":

            def loop(calls: int) -> None:
                for i in range(calls):
                    span = tracer.start_span("x")
                    query(i)
                    span.end()

        elif mode == "SDK floor":
            name, kind, start, end = shape.name, shape.kind, shape.start, shape.end

            def loop(calls: int) -> None:
                for i in range(calls):
                    span = tracer.start_span(name, kind=kind, attributes=start)
                    query(i)
                    span.set_attributes(end)
                    span.end()

        else:

            def loop(calls: int) -> None:
                for i in range(calls):
                    query(i)

        return loop

    samples: dict[tuple[str, str], list[tuple[float, float]]] = {
        (api, mode): [] for api in queries for mode in MODES
    }
    for i in range(100):  # warm up the connection and the server's query cache
        for query in queries.values():
            query(i)
    for round_ in range(options.rounds):
        for offset in range(len(MODES)):
            mode = MODES[(round_ + offset) % len(MODES)]  # rotate the order per round
            if mode in providers:
                instrumentor.instrument(tracer_provider=providers[mode])
            for api in queries:
                samples[(api, mode)].append(_per_call(loop_for(api, mode), options.queries))
            if mode in providers:
                instrumentor.uninstrument()
    session.close()

    def added(api: str, mode: str, index: int, baseline: str = "uninstrumented") -> float:
        """Median over rounds of (mode - baseline) in the same round."""
        pairs = zip(samples[(api, mode)], samples[(api, baseline)], strict=True)
        return statistics.median(ours[index] - base[index] for ours, base in pairs)

    tight_calls = 5000
    tight_rounds = 9
    tight_bare = _tight(lambda: tracer.start_span("x").end(), tight_calls, tight_rounds)
    unsampled_tracer = providers["unsampled"].get_tracer("bench")
    tight_unsampled = _tight(
        lambda: unsampled_tracer.start_span("x").end(), tight_calls, tight_rounds
    )
    print(
        f"neo4j {neo4j.__version__}, {options.rounds} rounds x {options.queries} queries "
        f"per mode, {len(MODES)} modes rotating"
    )
    print(
        f"tight loop (CPU): bare SDK span sampled {tight_bare:.1f} us, "
        f"unsampled {tight_unsampled:.2f} us"
    )
    for api in queries:
        shape = shapes[api]

        def floor_span(shape: _Capture = shape) -> None:
            span = tracer.start_span(shape.name, kind=shape.kind, attributes=shape.start)
            span.set_attributes(shape.end)
            span.end()

        tight_floor = _tight(floor_span, tight_calls, tight_rounds)
        bare_wall = statistics.median(w for w, _ in samples[(api, "uninstrumented")])
        bare_cpu = statistics.median(c for _, c in samples[(api, "uninstrumented")])
        span_cpu = added(api, "bare span", 1)
        floor_cpu = added(api, "SDK floor", 1)
        attributes = len(shape.start) + len(shape.end)
        print(
            f"{api} (span {shape.name!r}): uninstrumented {bare_wall:.0f} us wall, "
            f"{bare_cpu:.0f} us CPU per query"
        )
        print(
            f"  one bare sampled span by hand, in the loop: +{span_cpu:.1f} us CPU "
            f"({span_cpu / bare_wall * 100:.1f}% of the loop time)"
        )
        print(
            f"  SDK floor, one span by hand with our {attributes} attributes: "
            f"+{floor_cpu:.1f} us CPU in the loop = {floor_cpu / span_cpu:.2f}x the bare span; "
            f"tight loop {tight_floor:.1f} us = {tight_floor / tight_bare:.2f}x"
        )
        for mode in ("sampled", "unsampled"):
            cpu, wall = added(api, mode, 1), added(api, mode, 0)
            print(
                f"  ours {mode:9}: +{cpu:5.1f} us CPU per query = {cpu / span_cpu:.2f}x the "
                f"in-loop bare span ({cpu / tight_bare:.1f}x the tight-loop one), "
                f"{cpu / bare_wall * 100:.1f}% of the loop time; "
                f"wall {wall:+.0f} us ({wall / bare_wall * 100:+.1f}%)"
            )
        above = added(api, "sampled", 1, baseline="SDK floor")
        print(f"  ours sampled above the SDK floor (our code, wrapt): {above:+.1f} us CPU")
    for provider in providers.values():
        provider.shutdown()


if __name__ == "__main__":
    main()
