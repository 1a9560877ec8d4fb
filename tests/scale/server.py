"""The second process of the `cross` traces, run under `opentelemetry-instrument`.

A small HTTP server on a loopback address: GET /work continues the caller's trace (context
from the request headers), runs two internal steps, and with `fail=1` the second step
fails (ERROR status here only). Spans ended here are counted per trace; the counts are
written to MANIFEST when the server is stopped with SIGTERM (or after IDLE_S idle seconds).

Usage: server.py HOST PORT MANIFEST
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from workload import EndedSpans

IDLE_S = 600  # a forgotten server stops by itself

counter = EndedSpans()
tracer = trace.get_tracer("scale.server")
last_request = time.monotonic()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        global last_request
        last_request = time.monotonic()
        query = parse_qs(urlparse(self.path).query)
        context = propagate.extract(dict(self.headers))
        with tracer.start_as_current_span("GET /work", context=context, kind=SpanKind.SERVER):
            with tracer.start_as_current_span("scale.lookup"):
                pass
            with tracer.start_as_current_span("scale.store") as store:
                if query.get("fail") == ["1"]:
                    store.set_status(Status(StatusCode.ERROR, "store failed"))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def main(host: str, port: int, manifest: str) -> None:
    trace.get_tracer_provider().add_span_processor(counter)
    server = ThreadingHTTPServer((host, port), Handler)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while not stop.wait(1) and time.monotonic() - last_request < IDLE_S:
        pass
    server.shutdown()
    Path(manifest).write_text(json.dumps(dict(counter.per_trace)))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
