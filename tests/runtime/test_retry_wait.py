"""A collector back while the OTLP exporter waits out its retry backoff gets the batch at
exit: the exit retries at once instead of losing what the collector would now take.

Real OTLP exporters (HTTP and gRPC) against small collectors served here on 127.0.0.1,
started only once the exporter has failed and gone to sleep before its retry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from podcast_kg_otel import retry_wait
from podcast_kg_otel.exiting import ExitHandler
from podcast_kg_otel.exporting import CountingBatchSpanProcessor, QuietSpanExporter
from podcast_kg_otel.retry_wait import RetryWait
from stacktools.listeners import free_port, otlp_http_sink, spans_in

SPANS = 7
#: Bounds a hang only (a wait that ends early when things work).
HANG_GUARD = 30.0


def test_wait_times_out_is_cut_short_by_hurry_and_reports_shutdown() -> None:
    wait = RetryWait()
    assert wait.wait(0.01) is False
    ended = threading.Event()
    sleeper = threading.Thread(target=lambda: (wait.wait(HANG_GUARD), ended.set()))
    sleeper.start()
    wait.hurry()
    assert ended.wait(HANG_GUARD)
    assert wait.wait(HANG_GUARD) is False  # hurried: never waits again
    wait.set()
    assert wait.is_set() and wait.wait(HANG_GUARD) is True
    wait.clear()
    assert not wait.is_set()


def test_install_replaces_the_otlp_exporters_retry_event_only() -> None:
    http = HttpExporter(endpoint="http://127.0.0.1:9/v1/traces")
    grpc_exporter = GrpcExporter(endpoint="http://127.0.0.1:9", insecure=True)
    try:
        assert retry_wait.install(http) is http._client._shutdown_event
        assert retry_wait.install(grpc_exporter) is grpc_exporter._shutdown_in_progress
        assert retry_wait.install(InMemorySpanExporter()) is None
    finally:
        http.shutdown()
        grpc_exporter.shutdown()


class _Collector:
    """How many spans a collector received."""

    def __init__(self) -> None:
        self.received = 0
        self.lock = threading.Lock()

    def took(self, count: int) -> None:
        with self.lock:
            self.received += count


@contextmanager
def _http_collector(port: int, collector: _Collector) -> Iterator[None]:
    def took(body: bytes) -> None:
        collector.took(spans_in(body))

    with otlp_http_sink(port, took):
        yield


@contextmanager
def _grpc_collector(port: int, collector: _Collector) -> Iterator[None]:
    class Service(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request, context):  # type: ignore[no-untyped-def]
            collector.took(spans_in(request))
            return trace_service_pb2.ExportTraceServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Service(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    try:
        yield
    finally:
        server.stop(None)


PROTOCOLS: dict[str, tuple[Callable[[int], object], Callable]] = {
    "http": (
        lambda port: HttpExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces"),
        _http_collector,
    ),
    "grpc": (
        lambda port: GrpcExporter(endpoint=f"http://127.0.0.1:{port}", insecure=True),
        _grpc_collector,
    ),
}


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_collector_back_during_the_backoff_gets_the_spans_at_exit(
    protocol: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    build, serve = PROTOCOLS[protocol]
    port = free_port()
    waits = threading.Semaphore(0)
    real_wait = RetryWait.wait

    def counting_wait(self: RetryWait, timeout: float | None = None) -> bool:
        waits.release()  # the exporter failed and sleeps before its retry (0.8 s at least)
        return real_wait(self, timeout)

    monkeypatch.setattr(RetryWait, "wait", counting_wait)
    quiet = QuietSpanExporter(lambda: build(port), f"127.0.0.1:{port}")
    processor = CountingBatchSpanProcessor(quiet, schedule_delay_millis=10)
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("t")
    for index in range(SPANS):
        tracer.start_span(f"s{index}").end()
    # Two failed attempts: the second on the gRPC exporter's own new channel, which then
    # waits out its reconnect backoff and would fail a retry at once.
    for _ in range(2):
        assert waits.acquire(timeout=HANG_GUARD), "the exporter never tried the closed port"

    collector = _Collector()
    with serve(port, collector):
        handler = ExitHandler(0.5, None, [processor])
        handler.add_provider(provider)
        handler.run()  # a budget shorter than the backoff it cut short

    stats = processor.stats
    assert (stats.delivered, stats.dropped, collector.received) == (SPANS, 0, SPANS)
    assert not handler.timed_out
    assert not [r for r in caplog.records if r.name == "podcast_kg_otel.export"]
