"""Quiet lazily built export, open spans at exit, and the bounded exit, in process."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from podcast_kg_otel.exiting import ENDED_AT_EXIT, ExitHandler, OpenSpanTracker
from podcast_kg_otel.exporting import CountingBatchSpanProcessor, QuietSpanExporter


class _Failing(SpanExporter):
    """Fails like the OTLP exporter: logs its own error, or raises."""

    def __init__(self, raise_error: bool = False) -> None:
        self.raise_error = raise_error

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        logging.getLogger("opentelemetry.exporter.fake").error("Connection refused by fake")
        if self.raise_error:
            raise ConnectionError("refused")
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        pass


class _Hanging(SpanExporter):
    """Accepts the batch and never answers until shut down."""

    def __init__(self) -> None:
        self.released = threading.Event()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.released.wait(30)
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self.released.set()


def _spans(count: int) -> list[ReadableSpan]:
    provider = TracerProvider()
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("t")
    for index in range(count):
        tracer.start_span(f"s{index}").end()
    return list(memory.get_finished_spans())


def _our_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "podcast_kg_otel.export"]


def test_exporter_is_built_on_first_export_only() -> None:
    built: list[InMemorySpanExporter] = []

    def factory() -> InMemorySpanExporter:
        built.append(InMemorySpanExporter())
        return built[-1]

    quiet = QuietSpanExporter(factory, "memory")
    assert built == []
    assert quiet.export(_spans(2)) is SpanExportResult.SUCCESS
    assert quiet.export(_spans(1)) is SpanExportResult.SUCCESS
    assert len(built) == 1 and len(built[0].get_finished_spans()) == 3
    assert quiet.ledger.snapshot().delivered == 3


def test_failures_are_quiet_and_reported_once_per_interval(caplog) -> None:
    now = [100.0]
    logging.getLogger("opentelemetry.exporter.fake")  # exists before the wrapper silences it
    quiet = QuietSpanExporter(_Failing, "http://collector:4318/v1/traces", clock=lambda: now[0])
    caplog.set_level(logging.DEBUG)
    for _ in range(3):
        assert quiet.export(_spans(2)) is SpanExportResult.FAILURE
    now[0] += 61
    quiet.export(_spans(1))

    first, second = _our_warnings(caplog)
    assert "http://collector:4318/v1/traces" in first and "dropped 2 span(s)" in first
    assert "Connection refused by fake" in first
    assert "dropped 5 span(s)" in second  # the 4 held back plus this one
    assert not [r for r in caplog.records if r.name == "opentelemetry.exporter.fake"]
    assert all(r.exc_info is None for r in caplog.records)
    assert quiet.ledger.snapshot().export_failed == 7


def test_an_exporter_that_raises_is_a_quiet_failure(caplog) -> None:
    quiet = QuietSpanExporter(lambda: _Failing(raise_error=True), "somewhere")
    assert quiet.export(_spans(1)) is SpanExportResult.FAILURE
    (warning,) = _our_warnings(caplog)
    assert "ConnectionError: refused" in warning


def test_open_spans_are_ended_and_marked_at_exit(provider, exporter) -> None:
    tracker = OpenSpanTracker()
    provider.add_span_processor(tracker)
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("closed"):
        pass
    parent = tracer.start_span("still-open")
    assert [span.name for span in tracker.open_spans()] == ["still-open"]

    assert tracker.end_open_spans() == 1

    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert spans["still-open"].attributes[ENDED_AT_EXIT] is True
    assert ENDED_AT_EXIT not in spans["closed"].attributes
    assert tracker.open_spans() == [] and not parent.is_recording()


def test_exit_gives_up_on_a_hanging_collector_within_the_budget(caplog) -> None:
    hanging = _Hanging()
    quiet = QuietSpanExporter(hanging, "http://hanging:4318/v1/traces")
    processor = CountingBatchSpanProcessor(quiet, schedule_delay_millis=10)
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(processor)
    tracker = OpenSpanTracker()
    provider.add_span_processor(tracker)
    tracer = provider.get_tracer("t")
    for index in range(5):
        tracer.start_span(f"s{index}").end()
    open_span = tracer.start_span("open")  # referenced, as an open span is
    handler = ExitHandler(0.3, tracker, [processor])
    handler.add_provider(provider)

    handler.run()

    # It gave up: the hanging export was still waiting when the exit returned.
    assert handler.timed_out
    (warning,) = _our_warnings(caplog)
    assert "http://hanging:4318/v1/traces" in warning and "dropped 6 of 6 span(s) in all" in warning
    assert "6 because the exit budget of 0.3 s ran out" in warning
    assert processor.stats.exit_budget == 6 and processor.stats.pending == 0
    assert not open_span.is_recording()
    handler.run()  # runs once
    assert len(_our_warnings(caplog)) == 1


def test_exit_with_a_working_collector_exports_everything(caplog) -> None:
    memory = InMemorySpanExporter()
    quiet = QuietSpanExporter(lambda: memory, "memory")
    processor = CountingBatchSpanProcessor(quiet, schedule_delay_millis=60000)
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(processor)
    tracker = OpenSpanTracker()
    provider.add_span_processor(tracker)
    tracer = provider.get_tracer("t")
    for index in range(300):
        tracer.start_span(f"s{index}").end()
    open_span = tracer.start_span("open")  # referenced, as an open span is
    handler = ExitHandler(5.0, tracker, [processor])
    handler.add_provider(provider)

    handler.run()

    assert len(memory.get_finished_spans()) == 301 and not open_span.is_recording()
    stats = processor.stats
    assert (stats.ended, stats.delivered, stats.dropped) == (301, 301, 0)
    assert not handler.timed_out
    assert _our_warnings(caplog) == []


def test_exit_waits_past_the_budget_while_the_exporter_is_still_starting() -> None:
    memory = InMemorySpanExporter()

    def slow_factory() -> InMemorySpanExporter:
        time.sleep(0.5)  # a heavy exporter import on a busy machine
        return memory

    quiet = QuietSpanExporter(slow_factory, "memory")
    processor = CountingBatchSpanProcessor(quiet, schedule_delay_millis=60000)
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(processor)
    for index in range(10):
        provider.get_tracer("t").start_span(f"s{index}").end()
    handler = ExitHandler(0.1, None, [processor])
    handler.add_provider(provider)

    handler.run()

    assert len(memory.get_finished_spans()) == 10 and not handler.timed_out


def test_abandoned_spans_are_not_kept_alive(provider) -> None:
    """A span that nothing references any more (leaked by the app) is not held forever:
    in a long-running process that would grow without bound."""
    tracker = OpenSpanTracker()
    provider.add_span_processor(tracker)
    tracer = provider.get_tracer("t")
    kept = tracer.start_span("kept-open")
    for index in range(5000):
        tracer.start_span(f"leaked{index}")
    gc.collect()
    assert [span.name for span in tracker.open_spans()] == ["kept-open"]
    assert len(tracker._open) <= 2 * OpenSpanTracker._PRUNE_MIN  # not 5001
    kept.end()
    assert tracker.open_spans() == []


def test_a_fork_waits_for_an_exporter_build_in_progress():
    """A child forked mid-build would inherit the exporter module's import lock held by a
    thread it does not have; the fork hook lets the build finish first."""
    release = threading.Event()
    started = threading.Event()

    def slow_factory() -> SpanExporter:
        started.set()
        release.wait(30)
        return InMemorySpanExporter()

    exporter = QuietSpanExporter(slow_factory, "test")
    exporter.prepare()
    assert started.wait(10)
    assert not exporter.built
    threading.Timer(0.2, release.set).start()
    exporter.before_fork(timeout=30)
    assert exporter.built


def test_before_fork_is_a_no_op_when_nothing_is_being_built():
    exporter = QuietSpanExporter(InMemorySpanExporter, "test")
    exporter.before_fork(timeout=30)
    assert not exporter.built
