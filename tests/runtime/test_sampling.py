"""Tail sampling decisions, limits and counters, on an in-memory exporter."""

from __future__ import annotations

import logging
import threading

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, Status, StatusCode, TraceFlags

from podcast_kg_otel.sampling import TailSamplingProcessor

Setup = tuple[TailSamplingProcessor, InMemorySpanExporter, trace.Tracer]


def _setup(ratio: float, **options) -> Setup:
    memory = InMemorySpanExporter()
    tail = TailSamplingProcessor(SimpleSpanProcessor(memory), ratio, **options)
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(tail)
    return tail, memory, provider.get_tracer("t")


def _trace(tracer: trace.Tracer, index: int, fail: bool) -> None:
    with tracer.start_as_current_span("job", attributes={"index": index}):
        with tracer.start_as_current_span("step.a"):
            pass
        with tracer.start_as_current_span("step.b") as step:
            if fail:
                step.set_status(Status(StatusCode.ERROR, "boom"))


def _kept_traces(memory: InMemorySpanExporter) -> dict[int, list]:
    traces: dict[int, list] = {}
    for span in memory.get_finished_spans():
        traces.setdefault(span.context.trace_id, []).append(span)
    return traces


def test_every_failing_trace_is_kept_whole_and_healthy_ones_at_the_ratio() -> None:
    tail, memory, tracer = _setup(0.1)
    for index in range(2000):
        _trace(tracer, index, fail=index % 20 == 0)
    traces = _kept_traces(memory)
    failing = [
        t for t in traces.values() if any(s.status.status_code is StatusCode.ERROR for s in t)
    ]
    healthy = [t for t in traces.values() if t not in failing]
    assert len(failing) == 100 and all(len(t) == 3 for t in failing)
    assert 0.07 * 1900 <= len(healthy) <= 0.13 * 1900
    assert all(len(t) == 3 for t in healthy)
    assert tail.stats["traces_kept_error"] == 100
    assert tail.stats["traces_kept_ratio"] + tail.stats["traces_dropped"] == 1900
    assert tail.buffered() == (0, 0)


def test_ratio_decision_matches_the_trace_id_ratio_sampler() -> None:
    _tail, memory, tracer = _setup(0.5)
    for index in range(200):
        _trace(tracer, index, fail=False)
    bound = round(0.5 * 2**64)
    for trace_id in _kept_traces(memory):
        assert trace_id & (2**64 - 1) < bound


def test_slow_roots_are_kept() -> None:
    tail, memory, tracer = _setup(0.0, slow_threshold=0.001)
    fast = tracer.start_span("fast", start_time=1_000)
    fast.end(end_time=1_000 + 500_000)  # 0.5 ms
    slow = tracer.start_span("slow", start_time=1_000)
    slow.end(end_time=1_000 + 2_000_000)  # 2 ms
    assert [s.name for s in memory.get_finished_spans()] == ["slow"]
    assert tail.stats["traces_kept_slow"] == 1 and tail.stats["traces_dropped"] == 1


def test_capacity_decides_the_oldest_trace_early(caplog) -> None:
    tail, memory, tracer = _setup(0.0, max_traces=2)
    roots = [tracer.start_span(f"root{i}") for i in range(3)]
    for root in roots:
        child = tracer.start_span("child", context=trace.set_span_in_context(root))
        child.set_status(Status(StatusCode.ERROR))
        child.end()
    assert tail.stats["early_capacity"] == 1  # the oldest went out early, with its error
    assert tail.buffered() == (2, 2)
    roots[0].end()  # a late span of a kept trace follows the decision
    assert [s.name for s in memory.get_finished_spans()] == ["child", "root0"]
    assert tail.stats["late_spans"] == 1
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "podcast_kg_otel.sampling"]
    assert "PODCAST_KG_OTEL_TAIL_SAMPLING_MAX_TRACES" in warning


def test_span_cap_decides_early() -> None:
    tail, _memory, tracer = _setup(0.0, max_spans=3)
    root = tracer.start_span("root")
    context = trace.set_span_in_context(root)
    for _ in range(4):
        tracer.start_span("child", context=context).end()
    assert tail.stats["early_capacity"] == 1 and tail.stats["spans_dropped"] == 4


def test_unfinished_trace_times_out() -> None:
    now = [0.0]
    tail, memory, tracer = _setup(0.0, trace_timeout=10, clock=lambda: now[0])
    stuck = tracer.start_span("stuck")
    failed = tracer.start_span("failed", context=trace.set_span_in_context(stuck))
    failed.set_status(Status(StatusCode.ERROR))
    failed.end()
    now[0] = 11.0
    tracer.start_span("other").end()
    assert tail.stats["early_timeout"] == 1
    assert [s.name for s in memory.get_finished_spans()] == ["failed"]
    assert tail.buffered() == (0, 0)


def test_late_error_in_a_dropped_trace_is_still_kept() -> None:
    tail, memory, tracer = _setup(0.0)
    root = tracer.start_span("root")
    context = trace.set_span_in_context(root)
    straggler = tracer.start_span("straggler", context=context)
    root.end()
    assert tail.stats["traces_dropped"] == 1
    straggler.set_status(Status(StatusCode.ERROR))
    straggler.end()
    assert [s.name for s in memory.get_finished_spans()] == ["straggler"]
    assert tail.stats["late_errors_kept"] == 1


def test_remote_parent_decision_is_followed() -> None:
    tail, memory, tracer = _setup(0.0)
    for sampled in (True, False):
        remote = SpanContext(
            trace_id=0xABC + sampled,
            span_id=0x1,
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED if sampled else 0),
        )
        context = trace.set_span_in_context(NonRecordingSpan(remote))
        with (
            tracer.start_as_current_span(f"server-{sampled}", context=context),
            tracer.start_as_current_span(f"inner-{sampled}"),
        ):
            pass
    assert sorted(s.name for s in memory.get_finished_spans()) == ["inner-True", "server-True"]
    # The unsampled parent's spans are not even recorded (parent-based head sampler).
    assert tail.stats["traces_follow_parent"] == 1


def test_shutdown_decides_what_is_still_buffered() -> None:
    tail, memory, tracer = _setup(0.0)
    root = tracer.start_span("unfinished")
    child = tracer.start_span("failed", context=trace.set_span_in_context(root))
    child.set_status(Status(StatusCode.ERROR))
    child.end()
    assert memory.get_finished_spans() == ()
    tail.shutdown()
    assert [s.name for s in memory.get_finished_spans()] == ["failed"]
    assert tail.stats["early_shutdown"] == 1


def test_capacity_warning_is_logged_outside_the_lock() -> None:
    """A log handler that traces (an HTTP log shipper under requests instrumentation)
    must not deadlock the span that triggered the warning."""
    tail, memory, tracer = _setup(1.0, max_traces=1)

    class TracingHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            tracer.start_span("ship-log").end()

    handler = TracingHandler()
    sampling_logger = logging.getLogger("podcast_kg_otel.sampling")
    sampling_logger.addHandler(handler)

    def overflow() -> None:
        roots = [tracer.start_span(f"root{i}") for i in range(2)]
        for root in roots:
            tracer.start_span("child", context=trace.set_span_in_context(root)).end()

    try:
        worker = threading.Thread(target=overflow, daemon=True)
        worker.start()
        worker.join(10)
    finally:
        sampling_logger.removeHandler(handler)
    assert not worker.is_alive(), "deadlocked on the tail sampling lock"
    assert tail.stats["early_capacity"] >= 1
    assert "ship-log" in [s.name for s in memory.get_finished_spans()]
