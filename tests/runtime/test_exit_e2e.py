"""Bounded, quiet exit under ``opentelemetry-instrument``: dead collectors and Jaeger."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stacktools import listeners
from stacktools.jaeger import JaegerClient
from stacktools.stack import Stack

from .conftest import runtime_env

SPANS = """
import time
from opentelemetry import trace

tracer = trace.get_tracer("exit-test")
root = tracer.start_span("batch.root")  # still open when the program ends
context = trace.set_span_in_context(root)
for index in range({count}):
    tracer.start_span(f"item.{{index}}", context=context).end()
print("PROGRAM-END", flush=True)
"""


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A collector that accepts connections and never answers."""
    with listeners.silent_listener() as port:
        yield port


def _run_against(run_instrumented, stack: Stack, service: str, port: int):
    env = runtime_env(
        stack,
        service,
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
        OTEL_BSP_SCHEDULE_DELAY="30000",
    )
    result = run_instrumented(SPANS.format(count=5), env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["PROGRAM-END"]
    return result


@pytest.mark.parametrize("collector", ["closed port", "accepts and never answers"])
def test_dead_collector_exits_quickly_with_one_warning(
    collector: str, run_instrumented, stack: Stack, service_name: str, request
) -> None:
    if collector == "closed port":
        port = listeners.free_port()
    else:
        port = request.getfixturevalue("silent_listener")
    # How fast is measured in benchmarks/bench_faults.py; here, that the exit did not wait
    # for the exporter's retries and timeout (the line below says what ended the wait).
    result = _run_against(run_instrumented, stack, service_name, port)
    assert "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if "podcast-kg-otel" in line]
    assert len(warnings) == 1, result.stderr
    assert f"http://127.0.0.1:{port}/v1/traces" in warnings[0]
    assert "dropped 6 of 6 span(s) in all" in warnings[0]  # 5 ended + the open root
    if collector == "closed port":  # retried at once at exit, refused: the real cause
        assert warnings[0].endswith(
            ": 6 because the collector did not take them "
            "(connection failed: [Errno 111] Connection refused)"
        )
    else:  # the request hangs: the exit gives up at its budget
        assert "6 because the exit budget of 0.5 s ran out" in warnings[0]


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_reachable_collector_gets_every_span_and_the_open_one_marked(
    protocol: str, run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    # The exporter is first built at exit here: the grpc one must not hit shutdown limits.
    endpoint = stack.otlp_http_endpoint if protocol == "http/protobuf" else stack.otlp_grpc_endpoint
    env = runtime_env(
        stack,
        service_name,
        OTEL_BSP_SCHEDULE_DELAY="30000",
        OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
    )
    result = run_instrumented(SPANS.format(count=600), env=env)
    assert result.returncode == 0, result.stderr
    assert "could not export" not in result.stderr
    trace = jaeger.wait_for_trace(service_name, min_spans=601, timeout=30)
    root = trace.root
    assert root.name == "batch.root" and len(root.children) == 600
    assert root.attributes["podcast_kg_otel.span.ended_at_exit"] is True
    assert not any("podcast_kg_otel.span.ended_at_exit" in c.attributes for c in root.children)


LATE_THREAD = """
import threading
import time
from opentelemetry import trace


def work():
    time.sleep(0.3)  # the main thread has returned by now
    with trace.get_tracer("exit-test").start_as_current_span("late.worker"):
        pass


threading.Thread(target=work).start()
"""


FIRST_SPAN_AT_EXIT = """
import atexit
from opentelemetry import trace


def report():  # runs after the program's last line, like a job's final summary
    trace.get_tracer("exit-test").start_span("atexit.summary").end()


atexit.register(report)
"""


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
@pytest.mark.parametrize(
    ("script", "span_name"),
    [(LATE_THREAD, "late.worker"), (FIRST_SPAN_AT_EXIT, "atexit.summary")],
    ids=["thread outliving the main thread", "atexit handler"],
)
def test_the_first_span_ended_after_the_program_ends_arrives(
    protocol: str,
    script: str,
    span_name: str,
    run_instrumented,
    stack: Stack,
    jaeger: JaegerClient,
    service_name: str,
) -> None:
    # The process's first span ends after interpreter shutdown began (after the threading
    # shutdown hook for the thread, in atexit for the handler). The grpc exporter could no
    # longer be built then: its import needs a thread pool, which refuses new work.
    endpoint = stack.otlp_http_endpoint if protocol == "http/protobuf" else stack.otlp_grpc_endpoint
    env = runtime_env(
        stack,
        service_name,
        OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
    )
    result = run_instrumented(script, env=env)
    assert result.returncode == 0, result.stderr
    assert "could not export" not in result.stderr, result.stderr
    trace = jaeger.wait_for_trace(service_name, min_spans=1, timeout=30)
    assert trace.root.name == span_name
