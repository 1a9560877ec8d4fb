"""Lazy instrumentation under ``opentelemetry-instrument``, read back from Jaeger."""

from __future__ import annotations

import json

from stacktools.jaeger import JaegerClient
from stacktools.stack import Stack

from .conftest import runtime_env

LAZY = """
import json, sys
HEAVY = ["redis", "requests", "neo4j", "langchain_core", "faster_whisper",
         "opentelemetry.instrumentation.redis", "opentelemetry.instrumentation.requests",
         "podcast_kg_otel_neo4j", "opentelemetry.exporter.otlp.proto.http.trace_exporter"]
print("START", json.dumps([name for name in HEAVY if name in sys.modules]))
from opentelemetry.instrumentation.logging import LoggingInstrumentor
# stdlib logging was imported before start-up: instrumented at once
print("LOGGING", LoggingInstrumentor().is_instrumented_by_opentelemetry)

from opentelemetry import trace

with trace.get_tracer("lazy-test").start_as_current_span("job"):
    from redis import Redis  # `from x import y`
    Redis(host={redis_host!r}, port={redis_port}).set("podcast-kg-otel-lazy", "1")
    import requests.sessions  # a submodule
    import requests
    requests.get({url!r}, timeout=5)
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    RequestsInstrumentor().uninstrument()
    requests.get({url!r} + "?after=uninstrument", timeout=5)
    import neo4j
    from podcast_kg_otel_neo4j import Neo4jInstrumentor
    print("NEO4J", Neo4jInstrumentor().is_instrumented_by_opentelemetry)
"""


def test_instrumentors_load_on_first_import_and_uninstrument_works(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    code = LAZY.format(
        redis_host=stack.redis_host,
        redis_port=stack.redis_port,
        url=f"{stack.jaeger_query_url}/api/services",
    )
    result = run_instrumented(code, env=runtime_env(stack, service_name))
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert json.loads(lines["START"]) == []  # nothing heavy imported at start-up
    assert lines["LOGGING"] == "True" and lines["NEO4J"] == "True"

    trace = jaeger.wait_for_trace(service_name, min_spans=3)
    root = trace.one("job")
    children = {(span.name, span.kind) for span in root.children}
    assert ("SET", "client") in children  # redis, instrumented on `from redis import Redis`
    http = [span for span in trace.spans if span.name == "GET"]
    assert len(http) == 1  # the request after uninstrument() made no span
    assert http[0].parent is root and http[0].kind == "client"
    assert "after=uninstrument" not in str(http[0].attributes)
