"""`podcast-kg-otel traces`: the latest traces of a service read from the real Jaeger and
printed as trees, with the error, duration and trace-id filters."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from opentelemetry.trace import Status, StatusCode


def _traces(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "podcast_kg_otel", "traces", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def three_traces(otlp_provider, jaeger, service_name, stack):
    """A healthy trace, a failing one and a slow one, in Jaeger; their ids."""
    tracer = otlp_provider.get_tracer("cli-test")
    ids = {}
    with tracer.start_as_current_span("healthy") as root:
        with tracer.start_as_current_span("step"):
            pass
        ids["healthy"] = format(root.get_span_context().trace_id, "032x")
    with tracer.start_as_current_span("failing") as root:
        with tracer.start_as_current_span("broken") as child:
            child.set_status(Status(StatusCode.ERROR, "disk full"))
        ids["failing"] = format(root.get_span_context().trace_id, "032x")
    with tracer.start_as_current_span("slow") as root:
        time.sleep(0.3)
        ids["slow"] = format(root.get_span_context().trace_id, "032x")
    otlp_provider.force_flush()
    jaeger.wait_for_traces(service_name, count=3)
    return ids


def test_prints_each_trace_as_a_tree_with_its_url(three_traces, service_name, stack):
    completed = _traces("--service", service_name, "--query-url", stack.jaeger_query_url)
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    for name, trace_id in three_traces.items():
        assert f"trace {trace_id}" in out, name
        assert f"{stack.jaeger_query_url}/trace/{trace_id}" in out
    healthy = out.index(f"trace {three_traces['healthy']}")
    tree = out[healthy:].split("\n\n", 1)[0].splitlines()
    assert tree[2].startswith("  healthy  [internal, ")
    assert tree[3].startswith("    step  [internal, ")
    assert "broken  [internal, " in out and "ERROR  !! disk full" in out


def test_errors_only(three_traces, service_name, stack):
    completed = _traces(
        "--service", service_name, "--query-url", stack.jaeger_query_url, "--errors"
    )
    assert completed.returncode == 0, completed.stderr
    headers = [line for line in completed.stdout.splitlines() if line.startswith("trace ")]
    assert len(headers) == 1
    assert headers[0].startswith(f"trace {three_traces['failing']}  2 span(s)")
    assert headers[0].endswith("ERROR")


def test_minimum_duration(three_traces, service_name, stack):
    completed = _traces(
        "--service", service_name, "--query-url", stack.jaeger_query_url, "--min-duration", "250ms"
    )
    assert completed.returncode == 0, completed.stderr
    headers = [line for line in completed.stdout.splitlines() if line.startswith("trace ")]
    assert [h.split()[1] for h in headers] == [three_traces["slow"]]


def test_one_trace_by_id_with_the_query_url_from_the_environment(three_traces, stack):
    env = {"PODCAST_KG_OTEL_JAEGER_QUERY_URL": stack.jaeger_query_url}
    completed = _traces("--trace-id", three_traces["failing"], env=env)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith(f"trace {three_traces['failing']}  2 span(s)")
    assert "failing  [internal, " in completed.stdout


def test_service_from_the_configuration(three_traces, service_name, stack):
    env = {
        "OTEL_SERVICE_NAME": service_name,
        "PODCAST_KG_OTEL_JAEGER_QUERY_URL": stack.jaeger_query_url,
    }
    completed = _traces("--limit", "1", env=env)
    assert completed.returncode == 0, completed.stderr
    headers = [line for line in completed.stdout.splitlines() if line.startswith("trace ")]
    assert len(headers) == 1 and headers[0].split()[1] in three_traces.values()


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector.example:4318"},
            "http://collector.example:16686",
        ),
        ({"JAEGER_HOST": "jaeger.internal"}, "http://jaeger.internal:16686"),
        ({"PODCAST_KG_OTEL_JAEGER_QUERY_URL": "http://q:80/jaeger"}, "http://q:80/jaeger"),
        ({}, "http://127.0.0.1:16686"),
    ],
)
def test_default_query_url(environ, expected):
    code = "from podcast_kg_otel.cli import default_query_url; print(default_query_url())"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "JAEGER_"))}
    clean.pop("PODCAST_KG_OTEL_JAEGER_QUERY_URL", None)
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**clean, **environ}
    )
    assert completed.stdout.strip() == expected, completed.stderr


def test_nothing_found_and_unreachable_jaeger(stack):
    missing = _traces("--service", "no-such-service-ever", "--query-url", stack.jaeger_query_url)
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        f"no traces found for service 'no-such-service-ever' at {stack.jaeger_query_url}"
    )
    down = _traces("--service", "x", "--query-url", "http://127.0.0.1:9")
    assert down.returncode == 2
    assert down.stderr.startswith("podcast-kg-otel traces: cannot read http://127.0.0.1:9: ")
    assert len(down.stderr.strip().splitlines()) == 1
