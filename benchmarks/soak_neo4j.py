"""Memory soak of the neo4j instrumentation: many queries with distinct texts, RSS sampled.

Every query has a text of its own (`RETURN $x + <n> AS y`, n counting up), so every one
misses our per-text caches and the eviction path runs on each query: memory must stay
flat once the caches are full. The queries go round-robin through `Session.run`,
`Driver.execute_query` and a managed transaction (`Session.execute_read` + `tx.run`) on
the real Neo4j of the local stack, with our instrumentor on and every span sampled.

The spans are exported by the real OTLP/HTTP exporter (BatchSpanProcessor, protobuf)
to a sink this script starts on its own 127.0.0.1 port, which answers every export
with 200 and keeps nothing: a million spans sent to the shared Jaeger would push out
everyone else's traces (it keeps 20,000). `--exporter none` discards them in-process.

The process's RSS (VmRSS) and the sizes of our caches are sampled every `--every`
queries; the report gives the growth after the warm-up and the least-squares slope.
With `--max-seconds`, the soak stops at that budget (a loaded machine) and reports the
queries it ran; the cache sizes show whether the caches were full (bounded) by then.

    python benchmarks/soak_neo4j.py [--queries 1000000] [--warm-up 100000] [--every 10000]
        [--max-seconds S] [--exporter otlp-sink|none]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from http.server import ThreadingHTTPServer
from pathlib import Path

import neo4j
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from podcast_kg_otel_neo4j import Neo4jInstrumentor, cypher, query, summary

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from stacktools.listeners import otlp_sink_handler

URI = os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687")
AUTH = (os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", "podcast-kg-test"))
SINK_LIFETIME = 7200  # seconds: the sink stops by itself even if this script is killed


def _serve_sink(port_file: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), otlp_sink_handler())
    with open(port_file, "w", encoding="ascii") as out:
        out.write(str(server.server_address[1]))
    server.timeout = 1.0
    deadline = time.monotonic() + SINK_LIFETIME
    while time.monotonic() < deadline and os.getppid() != 1:  # parent gone: stop
        server.handle_request()


def _start_sink() -> tuple[subprocess.Popen, int]:
    port_file = os.path.join(tempfile.gettempdir(), f"soak_neo4j_sink.{os.getpid()}")
    sink = subprocess.Popen([sys.executable, __file__, "--sink", port_file])
    for _ in range(600):  # up to a minute: a loaded machine starts Python slowly
        time.sleep(0.1)
        if os.path.exists(port_file):
            with open(port_file, encoding="ascii") as written:
                port = written.read()
            if port:
                os.unlink(port_file)
                return sink, int(port)
    sink.kill()
    raise SystemExit("the OTLP sink did not start")


class _Counting(SpanExporter):
    """Counts the spans its exporter took (or, alone, discards them)."""

    def __init__(self, inner: SpanExporter | None) -> None:
        self.inner = inner
        self.exported = 0
        self.failed = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        outcome = SpanExportResult.SUCCESS if self.inner is None else self.inner.export(spans)
        if outcome is SpanExportResult.SUCCESS:
            self.exported += len(spans)
        else:
            self.failed += len(spans)
        return outcome

    def shutdown(self) -> None:
        if self.inner is not None:
            self.inner.shutdown()


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _caches() -> str:
    shapes, analyses = query._SHAPES, cypher._ANALYSES
    return (
        f"shapes {len(shapes)}/{shapes.max_entries} ({shapes.chars} chars), "
        f"analyses {len(analyses)}/{analyses.max_entries} ({analyses.chars} chars), "
        f"servers {len(summary._SERVERS)}/{summary._SERVERS_MAX}"
    )


def _slope(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of RSS (MB) per query."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var if var else 0.0


def _soak(options: argparse.Namespace, exporter: _Counting) -> None:
    provider = TracerProvider()
    processor = BatchSpanProcessor(exporter)
    provider.add_span_processor(processor)
    Neo4jInstrumentor().instrument(tracer_provider=provider)
    driver = neo4j.GraphDatabase.driver(URI, auth=AUTH)
    session = driver.session(database="neo4j")

    def read(tx: neo4j.ManagedTransaction, text: str) -> None:
        tx.run(text, x=1).consume()

    samples: list[tuple[int, float]] = []
    start = time.monotonic()
    deadline = start + options.max_seconds if options.max_seconds else float("inf")
    try:
        for n in range(options.queries):
            text = f"RETURN $x + {n} AS y"
            kind = n % 3
            if kind == 0:
                session.run(text, x=1).consume()
            elif kind == 1:
                driver.execute_query(text, x=1, database_="neo4j")
            else:
                session.execute_read(read, text)
            if (n + 1) % options.every == 0:
                rss = _rss_mb()
                samples.append((n + 1, rss))
                print(
                    f"{n + 1:>9} queries  {time.monotonic() - start:7.0f} s  RSS {rss:7.1f} MB"
                    f"  {_caches()}  exported {exporter.exported}",
                    flush=True,
                )
                if time.monotonic() > deadline:
                    print(f"stopped at the --max-seconds budget ({options.max_seconds} s)")
                    break
    except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as error:
        # e.g. the server went away: report what was measured until then
        print(f"stopped by {type(error).__name__} after {n} queries: {error}")
    except KeyboardInterrupt:  # Ctrl-C or SIGINT: report what was measured until then
        print(f"stopped by an interrupt after {n} queries")
    finally:
        session.close()
        driver.close()
        processor.force_flush()
        provider.shutdown()
    elapsed = time.monotonic() - start
    if not samples:
        return
    after = [(x, y) for x, y in samples if x >= options.warm_up]
    done = samples[-1][0]
    print(f"\n{done} queries in {elapsed:.0f} s ({elapsed / done * 1e6:.0f} µs each)")
    print(f"spans exported {exporter.exported}, failed {exporter.failed} ({options.exporter})")
    print(f"RSS first sample {samples[0][1]:.1f} MB, max {max(y for _, y in samples):.1f} MB")
    if len(after) >= 2:
        growth = after[-1][1] - after[0][1]
        spread = max(y for _, y in after) - min(y for _, y in after)
        slope = _slope(after) * 1_000_000
        print(
            f"after warm-up ({after[0][0]} -> {after[-1][0]} queries): RSS {after[0][1]:.1f} -> "
            f"{after[-1][1]:.1f} MB, growth {growth:+.1f} MB, range {spread:.1f} MB, "
            f"slope {slope:+.2f} MB per million queries"
        )
    print(f"caches at the end: {_caches()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=1_000_000)
    parser.add_argument("--warm-up", type=int, default=100_000, help="queries before the slope")
    parser.add_argument("--every", type=int, default=10_000, help="queries between samples")
    parser.add_argument("--max-seconds", type=float, default=0, help="stop after (0: never)")
    parser.add_argument("--exporter", choices=("otlp-sink", "none"), default="otlp-sink")
    parser.add_argument("--sink", help=argparse.SUPPRESS)  # internal: run as the sink
    options = parser.parse_args()
    if options.sink:
        _serve_sink(options.sink)
        return
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load}, neo4j driver {neo4j.__version__}, "
        f"Python {platform.python_version()}",
        flush=True,
    )
    sink = None
    inner: SpanExporter | None = None
    if options.exporter == "otlp-sink":
        sink, port = _start_sink()
        inner = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces")
    try:
        _soak(options, _Counting(inner))
    finally:
        if sink is not None:
            sink.terminate()
            sink.wait(5)


if __name__ == "__main__":
    main()
