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


def test_the_export_encoder_hashes_our_resource_once_not_per_span(monkeypatch) -> None:
    """The OTLP encoder groups spans by resource, hashing it per span; ours is hashed when
    it is built, and the hash is the SDK's for equal attributes."""
    import pickle

    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource

    from podcast_kg_otel.config import TracingConfig
    from podcast_kg_otel.resource import HashOnceResource, build_resource

    resource = build_resource(TracingConfig(service_name="hash-once"))
    plain = Resource(resource.attributes, resource.schema_url)
    assert isinstance(resource, HashOnceResource)
    assert (hash(resource), resource) == (hash(plain), plain)

    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("t")
    for index in range(512):
        tracer.start_span(f"s{index}").end()
    sdk_hashes = []
    sdk_hash = Resource.__hash__
    monkeypatch.setattr(Resource, "__hash__", lambda self: sdk_hashes.append(1) or sdk_hash(self))

    encoded = encode_spans(memory.get_finished_spans())

    assert sdk_hashes == []
    assert [
        len(scope.spans) for group in encoded.resource_spans for scope in group.scope_spans
    ] == [512]
    merged = resource.merge(Resource({"process.pid": 7}))  # as the fork handler does
    assert isinstance(merged, HashOnceResource)
    assert merged.attributes["process.pid"] == 7
    monkeypatch.undo()
    assert hash(merged) == hash(Resource(merged.attributes, merged.schema_url))
    copy = pickle.loads(pickle.dumps(resource))
    assert (type(copy), copy, hash(copy)) == (HashOnceResource, resource, hash(resource))


class _SlowAfterFirst(SpanExporter):
    """A collector that answers: the first batch at once, every later one after 0.3 s."""

    def __init__(self) -> None:
        self.memory = InMemorySpanExporter()
        self.batches = 0
        self.answering = threading.Lock()  # held while a batch is on its way

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self.answering:
            self.batches += 1
            if self.batches > 1:
                time.sleep(0.3)
            return self.memory.export(spans)

    def shutdown(self) -> None:  # like the OTLP exporter, it cannot recall a sent batch
        pass


def test_an_exit_out_of_time_counts_the_batch_in_flight_as_what_became_of_it(
    monkeypatch, caplog
) -> None:
    """The exit gives up while the collector is still answering: the batch on its way is
    waited for, so what the collector got and what the exit line counts agree exactly."""
    import podcast_kg_otel.exiting as exiting

    monkeypatch.setattr(exiting, "EXIT_EXTENSION", 0.2)
    collector = _SlowAfterFirst()
    quiet = QuietSpanExporter(collector, "http://collector:4318/v1/traces")
    processor = CountingBatchSpanProcessor(
        quiet, max_queue_size=1000, max_export_batch_size=10, schedule_delay_millis=60000
    )
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("t")
    for index in range(10):
        tracer.start_span(f"s{index}").end()
    deadline = time.monotonic() + 10
    while not collector.memory.get_finished_spans() and time.monotonic() < deadline:
        time.sleep(0.01)  # the first batch answered: the collector is making progress
    for index in range(10, 100):
        tracer.start_span(f"s{index}").end()
    handler = ExitHandler(0.05, processors=[processor])
    handler.add_provider(provider)

    with caplog.at_level(logging.WARNING, logger="podcast_kg_otel.export"):
        handler.run()
    with collector.answering:  # a batch still on its way has arrived (or never will)
        received = {span.name for span in collector.memory.get_finished_spans()}
    stats = processor.stats
    assert handler.timed_out
    assert stats.delivered == len(received)
    assert (stats.ended, stats.delivered + stats.exit_budget, stats.pending) == (100, 100, 0)
    assert stats.exit_budget > 0
    assert _our_warnings(caplog)[-1].startswith(
        f"podcast-kg-otel: dropped {stats.exit_budget} of 100 span(s) in all"
    )
