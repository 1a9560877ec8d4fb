"""One vocabulary: contrib redis and requests spans carry the stable database and HTTP names
under our distro (OTEL_SEMCONV_STABILITY_OPT_IN defaults to ``http,database``), and a
user's own value is used as it is. Read back from Jaeger."""

from __future__ import annotations

import pytest

from stacktools.jaeger import JaegerClient, Trace
from stacktools.stack import Stack

SCRIPT = """
import redis, requests
from opentelemetry import trace

with trace.get_tracer("semconv-test").start_as_current_span("job"):
    redis.Redis(host={host!r}, port={port}).set("podcast-kg-otel-semconv", "1")
    requests.get({url!r}, timeout=5)
"""

OLD_DB = ("db.system", "db.statement", "net.peer.name", "net.peer.port")
OLD_HTTP = ("http.method", "http.url", "http.status_code")


def _run(run_instrumented, stack: Stack, jaeger: JaegerClient, service: str, **env: str) -> Trace:
    code = SCRIPT.format(
        host=stack.redis_host, port=stack.redis_port, url=f"{stack.jaeger_query_url}/api/services"
    )
    result = run_instrumented(code, env={**stack.otel_env(service), **env})
    assert result.returncode == 0, result.stderr
    return jaeger.wait_for_trace(service, min_spans=3)


def test_contrib_spans_use_the_stable_names_by_default(
    run_instrumented,
    stack: Stack,
    jaeger: JaegerClient,
    service_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_SEMCONV_STABILITY_OPT_IN", raising=False)
    trace = _run(run_instrumented, stack, jaeger, service_name)

    db = trace.one("SET").attributes
    assert db["db.system.name"] == "redis"
    assert db["server.address"] == stack.redis_host and db["server.port"] == stack.redis_port
    assert not [key for key in OLD_DB if key in db]

    http = trace.one("GET").attributes
    assert http["http.request.method"] == "GET"
    assert http["url.full"].endswith("/api/services")
    assert http["http.response.status_code"] == 200
    assert not [key for key in OLD_HTTP if key in http]


def test_a_users_own_value_wins(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    """`http/dup` alone: HTTP spans carry both vocabularies, database spans the old one."""
    trace = _run(
        run_instrumented, stack, jaeger, service_name, OTEL_SEMCONV_STABILITY_OPT_IN="http/dup"
    )

    db = trace.one("SET").attributes
    assert db["db.system"] == "redis" and "db.system.name" not in db

    http = trace.one("GET").attributes
    assert http["http.method"] == http["http.request.method"] == "GET"
    assert http["http.url"] == http["url.full"]
