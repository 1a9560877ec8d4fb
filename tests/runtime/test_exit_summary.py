"""The opt-in exit summary: exact counts from real runs under opentelemetry-instrument
(spans per scope, traces, one-span traces, delivered and dropped), off by default."""

from __future__ import annotations

import socket

from opentelemetry.sdk.trace import TracerProvider

from podcast_kg_otel.accounting import ExportStats
from podcast_kg_otel.exit_summary import SpanCounter, summary_lines

PROGRAM = """
from opentelemetry import trace

pipeline = trace.get_tracer("demo.pipeline")
with pipeline.start_as_current_span("episode"):
    with pipeline.start_as_current_span("transcribe"):
        pass
    with pipeline.start_as_current_span("store"):
        pass
for _ in range({lone}):
    with trace.get_tracer("demo.cache").start_as_current_span("GET"):
        pass
"""
HINT = (
    "  hint: 3 of 4 traces are a single span; name the function that handles one unit of "
    "work in PODCAST_KG_OTEL_TRACED_FUNCTIONS (e.g. mypackage.jobs:process_item) to make "
    "each unit one trace"
)


def _summary(stderr: str) -> list[str]:
    lines = stderr.splitlines()
    start = next(
        i for i, line in enumerate(lines) if line.startswith("podcast-kg-otel exit summary")
    )
    return [lines[start], *(line for line in lines[start + 1 :] if line.startswith("  "))]


def test_summary_with_every_span_delivered(run_instrumented, stack, service_name, jaeger):
    env = {**stack.otel_env(service_name), "PODCAST_KG_OTEL_EXIT_SUMMARY": "true"}
    completed = run_instrumented(PROGRAM.format(lone=3), env=env)
    assert completed.returncode == 0, completed.stderr
    assert _summary(completed.stderr) == [
        "podcast-kg-otel exit summary: 6 span(s) in 4 trace(s), 3 of them one-span trace(s)",
        "         3  demo.cache",
        "         3  demo.pipeline",
        "  export: 6 delivered, 0 dropped",
        HINT,
    ]
    assert len(jaeger.wait_for_traces(service_name, count=4)) == 4


def test_no_hint_when_most_traces_have_children(run_instrumented, stack, service_name):
    env = {**stack.otel_env(service_name), "PODCAST_KG_OTEL_EXIT_SUMMARY": "true"}
    completed = run_instrumented(PROGRAM.format(lone=0), env=env)
    assert _summary(completed.stderr) == [
        "podcast-kg-otel exit summary: 3 span(s) in 1 trace(s), 0 of them one-span trace(s)",
        "         3  demo.pipeline",
        "  export: 3 delivered, 0 dropped",
    ]


def test_drops_are_counted_with_their_cause(run_instrumented, stack, service_name):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **stack.otel_env(service_name),
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "PODCAST_KG_OTEL_EXIT_SUMMARY": "true",
    }
    completed = run_instrumented(PROGRAM.format(lone=3), env=env)
    summary = _summary(completed.stderr)
    assert summary[0].startswith("podcast-kg-otel exit summary: 6 span(s) in 4 trace(s)")
    export = summary[3]
    assert export.startswith("  export: 0 delivered, 6 dropped (6 because ")
    assert "Connection refused" in export


def test_off_by_default(run_instrumented, stack, service_name):
    completed = run_instrumented(PROGRAM.format(lone=3), env=stack.otel_env(service_name))
    assert completed.returncode == 0, completed.stderr
    assert "exit summary" not in completed.stderr


def test_trace_counts_stay_bounded():
    """Past ``max_traces`` the oldest trace is folded into the totals: counts stay exact
    for traces that ended, memory stays bounded."""
    counter = SpanCounter(max_traces=2)
    provider = TracerProvider()
    provider.add_span_processor(counter)
    tracer = provider.get_tracer("unit")
    with tracer.start_as_current_span("root"), tracer.start_as_current_span("child"):
        pass
    for _ in range(4):
        with tracer.start_as_current_span("lone"):
            pass
    assert len(counter._per_trace) == 2
    assert counter.traces() == (5, 4)
    lines = summary_lines(counter, ExportStats(ended=6, delivered=6))
    assert (
        lines[0]
        == "podcast-kg-otel exit summary: 6 span(s) in 5 trace(s), 4 of them one-span trace(s)"
    )
    assert lines[-1].startswith("  hint: 4 of 5 traces are a single span;")
