"""Stand-ins for a collector (tests and benchmarks of the exit and of export): a free port
nobody listens on, a listener that accepts connections and never answers, and an OTLP/HTTP
sink that takes every export."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def free_port() -> int:
    """A loopback port that was free a moment ago (nothing listens on it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def silent_listener() -> Iterator[int]:
    """A collector that accepts connections and never answers; yields its port."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.2)
    stop, accepted = threading.Event(), []

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        for connection in accepted:
            connection.close()
        server.close()


def spans_in(request: ExportTraceServiceRequest | bytes) -> int:
    """The spans in one OTLP trace export request (or its protobuf body)."""
    if isinstance(request, bytes):
        request = ExportTraceServiceRequest.FromString(request)
    return sum(len(scope.spans) for group in request.resource_spans for scope in group.scope_spans)


def otlp_sink_handler(
    on_body: Callable[[bytes], None] | None = None,
) -> type[BaseHTTPRequestHandler]:
    """A request handler answering every OTLP/HTTP export with 200 and keeping nothing;
    ``on_body`` sees each request's body first."""

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if on_body is not None:
                on_body(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    return Sink


@contextmanager
def otlp_http_sink(port: int = 0, on_body: Callable[[bytes], None] | None = None) -> Iterator[int]:
    """An OTLP/HTTP sink on 127.0.0.1 (``port``, or a free one) while in the block; yields
    its port."""
    server = ThreadingHTTPServer(("127.0.0.1", port), otlp_sink_handler(on_body))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
