"""Where a burst's time goes: per span in this process, and in the collector.

    python benchmarks/bench_burst_cost.py per-span [--rounds 9]
    python benchmarks/bench_burst_cost.py collector [--rounds 9] [--storage badger|memory]

``per-span`` times what a burst costs per span: the main thread's ``start_span`` + ``end``
under our pipeline (counting batch processor, open-span tracker, our resource) and under
the stock SDK pipeline (``BatchSpanProcessor``, the SDK's default resource), both exporting
to a sink that discards; and the export thread's OTLP encoding of a 512-span batch with
each resource (the encoder hashes the resource of every span).

``collector`` times the collector's side: how long a Jaeger of our own (``stacktools.
own_jaeger``) takes to take 40 OTLP/HTTP batches of 512 spans sent back to back (a burst's
worth, 20,480 spans) whose resource is ours (default detectors, then
``OTEL_EXPERIMENTAL_RESOURCE_DETECTORS=otel``), and the same with the stock SDK's resource
(fresh spans each time, otherwise alike; Jaeger stores the resource with every span, and
badger indexes each of its attributes).

The bursts themselves, ours against stock, are in ``bench_faults.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from podcast_kg_otel.config import TracingConfig
from podcast_kg_otel.exiting import OpenSpanTracker
from podcast_kg_otel.exporting import CountingBatchSpanProcessor, QuietSpanExporter
from podcast_kg_otel.resource import build_resource

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from stacktools.own_jaeger import OwnJaeger

#: Batches of 512 spans sent back to back by ``collector``.
BATCHES = 40


def _now() -> str:
    return time.strftime("%H:%M:%S", time.gmtime())


def per_span(rounds: int, spans: int = 20_000) -> None:
    """Main-thread and export-thread cost per span, ours against the stock SDK pipeline."""
    batch: list = []  # the first spans exported, encoded by encoding()

    class Sink(SpanExporter):
        def export(self, spans):  # type: ignore[no-untyped-def]
            if not batch:
                batch.extend(spans[:512])
            return SpanExportResult.SUCCESS

    def provider(ours: bool) -> TracerProvider:
        options = {"max_queue_size": spans, "schedule_delay_millis": 60_000}
        options["max_export_batch_size"] = spans  # the worker stays asleep while timed
        if ours:
            result = TracerProvider(
                resource=build_resource(TracingConfig()), shutdown_on_exit=False
            )
            result.add_span_processor(
                CountingBatchSpanProcessor(QuietSpanExporter(Sink(), "-"), **options)
            )
            result.add_span_processor(OpenSpanTracker())
        else:
            result = TracerProvider(resource=Resource.create(), shutdown_on_exit=False)
            result.add_span_processor(BatchSpanProcessor(Sink(), **options))
        return result

    def main_thread(ours: bool) -> float:
        sdk = provider(ours)
        tracer = sdk.get_tracer("bench-faults")
        started = time.perf_counter()
        for _ in range(spans // 50):
            with tracer.start_as_current_span("job"):
                for _ in range(49):
                    tracer.start_span("step").end()
        elapsed = time.perf_counter() - started
        sdk.shutdown()
        return elapsed / spans * 1e6

    def encoding(ours: bool) -> float:
        batch.clear()
        sdk = provider(ours)
        tracer = sdk.get_tracer("bench-faults")
        for _ in range(512):
            tracer.start_span("step").end()
        sdk.force_flush()
        started = time.perf_counter()
        encode_spans(batch).SerializeToString()
        elapsed = time.perf_counter() - started
        sdk.shutdown()
        return elapsed / len(batch) * 1e6

    print(f"load before: {os.getloadavg()[0]:.2f}; started {_now()} UTC")
    results: dict[str, list[float]] = {}
    for _ in range(rounds):
        for ours in (True, False):
            side = "ours" if ours else "stock"
            results.setdefault(f"main thread, {side}", []).append(main_thread(ours))
            results.setdefault(f"OTLP encoding, {side}", []).append(encoding(ours))
    for name, values in results.items():
        print(
            f"{name:24s} µs per span: median {statistics.median(values):6.2f}, "
            f"fastest {min(values):6.2f}"
        )
    print(f"load after: {os.getloadavg()[0]:.2f}")


def collector_cost(rounds: int, storage: str) -> None:
    """Our Jaeger's answer time for a 512-span batch with our resource (default detectors,
    and ``OTEL_EXPERIMENTAL_RESOURCE_DETECTORS=otel``) and with stock's."""
    service = f"bench-burst-cost-{uuid.uuid4().hex[:8]}"
    resources = {
        "ours": build_resource(TracingConfig(service_name=service)),
        "ours, otel detectors": build_resource(
            TracingConfig(service_name=service, resource_detectors=())
        ),
        "stock": Resource.create({"service.name": service}),
    }

    def body(resource: Resource) -> bytes:
        memory = InMemorySpanExporter()
        provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        provider.add_span_processor(SimpleSpanProcessor(memory))
        tracer = provider.get_tracer("bench-faults")
        for _ in range(512 // 50 + 1):
            with tracer.start_as_current_span("job"):
                for _ in range(49):
                    tracer.start_span("step").end()
        return encode_spans(memory.get_finished_spans()[:512]).SerializeToString()

    print(f"load before: {os.getloadavg()[0]:.2f}; started {_now()} UTC; {storage} storage")
    times: dict[str, list[float]] = {name: [] for name in resources}
    with tempfile.TemporaryDirectory() as name:
        jaeger = OwnJaeger(Path(name), storage, reload_interval=5.0)
        jaeger.start()
        try:
            url = jaeger.endpoint("http") + "/v1/traces"
            headers = {"Content-Type": "application/x-protobuf"}
            for round_ in range(rounds + 1):
                for side, resource in resources.items():
                    bodies = [body(resource) for _ in range(BATCHES)]
                    started = time.perf_counter()
                    for data in bodies:
                        request = urllib.request.Request(url, data=data, headers=headers)
                        with urllib.request.urlopen(request, timeout=60) as response:
                            response.read()
                    if round_:  # the first round warms Jaeger up
                        elapsed = time.perf_counter() - started
                        times[side].append(elapsed / BATCHES * 1e3)
        finally:
            jaeger.stop()
    for side, values in times.items():
        print(
            f"Jaeger, {BATCHES} batches of 512 back to back, {side:20s} resource "
            f"({len(resources[side].attributes)} attributes): median "
            f"{statistics.median(values):6.1f} ms per batch, fastest {min(values):6.1f} ms"
        )
    print(f"load after: {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("per-span", "collector"))
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument(
        "--storage", choices=("badger", "memory"), default="badger", help="collector's storage"
    )
    args = parser.parse_args()
    if args.mode == "per-span":
        per_span(args.rounds)
    else:
        collector_cost(args.rounds, args.storage)


if __name__ == "__main__":
    main()
