"""The guide, Context Propagation > Extracting Context: a service continues the trace of the
request it receives. It serves one request on an ephemeral 127.0.0.1 port (printed first)
and exits.

OpenTelemetry has no ``trace.use_context``: the context is attached for the duration of the
handling instead (``create_span(..., context=...)`` is the other way).
"""

import http.server

from opentelemetry import context

from podcast_kg_otel import extract_context, init_tracing, trace_method


@trace_method(name="process_request")
def process_request():
    return b"processed"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        # Extract from incoming request
        trace_context = extract_context(self.headers)

        # Continue trace with extracted context
        token = context.attach(trace_context)
        try:
            body = process_request()
        finally:
            context.detach(token)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


if __name__ == "__main__":
    init_tracing()
    with http.server.HTTPServer(("127.0.0.1", 0), Handler) as server:
        server.timeout = 60
        print(server.server_port, flush=True)
        server.handle_request()
