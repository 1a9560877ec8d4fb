"""Every span handed to export is counted once: delivered, or dropped with its cause."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Sequence

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import podcast_kg_otel
from podcast_kg_otel import accounting
from podcast_kg_otel.exiting import ExitHandler
from podcast_kg_otel.export_reasons import failure_reason
from podcast_kg_otel.exporting import CountingBatchSpanProcessor, QuietSpanExporter


class _Gate(SpanExporter):
    """Delivers to memory; its first export blocks until ``release`` is set."""

    def __init__(self) -> None:
        self.memory = InMemorySpanExporter()
        self.entered = threading.Event()
        self.release = threading.Event()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not self.entered.is_set():
            self.entered.set()
            self.release.wait(10)
        return self.memory.export(spans)

    def shutdown(self) -> None:
        self.release.set()


class _Refused(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        logging.getLogger("opentelemetry.exporter.fake").warning(
            "Transient error HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded "
            'with url: /v1/traces (Caused by NewConnectionError("HTTPConnection(host='
            "'127.0.0.1', port=9): Failed to establish a new connection: [Errno 111] "
            'Connection refused")) encountered while exporting spans batch, retrying in 1.00s.'
        )
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        pass


def _pipeline(
    exporter: SpanExporter | object, **options: int
) -> tuple[TracerProvider, CountingBatchSpanProcessor]:
    quiet = QuietSpanExporter(exporter, "http://collector:4318/v1/traces")  # type: ignore[arg-type]
    processor = CountingBatchSpanProcessor(quiet, **options)
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(processor)
    return provider, processor


def _emit(provider: TracerProvider, start: int, stop: int) -> None:
    tracer = provider.get_tracer("accounting")
    for index in range(start, stop):
        tracer.start_span(f"s{index}").end()


def _our_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "podcast_kg_otel.export"]


def test_a_full_queue_counts_each_span_it_drops() -> None:
    gate = _Gate()
    provider, processor = _pipeline(
        gate, max_queue_size=10, max_export_batch_size=10, schedule_delay_millis=60000
    )
    _emit(provider, 0, 10)  # a full batch: the worker takes it and blocks in export
    assert gate.entered.wait(10)
    _emit(provider, 10, 35)  # 10 fit in the queue, the 15 oldest of them are dropped

    assert processor.stats.queue_full == 15
    gate.release.set()
    provider.force_flush()
    provider.shutdown()

    stats = processor.stats
    assert (stats.ended, stats.delivered, stats.queue_full, stats.pending) == (35, 20, 15, 0)
    names = {span.name for span in gate.memory.get_finished_spans()}
    assert names == {f"s{i}" for i in range(10)} | {f"s{i}" for i in range(25, 35)}


def test_a_burst_while_the_exporter_is_built_waits_instead_of_dropping() -> None:
    memory = InMemorySpanExporter()
    built = threading.Event()

    def held_factory() -> InMemorySpanExporter:
        built.wait(10)  # a busy machine importing the OTLP exporter
        return memory

    provider, processor = _pipeline(
        held_factory, max_queue_size=20, max_export_batch_size=20, schedule_delay_millis=60000
    )
    emitter = threading.Thread(target=_emit, args=(provider, 0, 100))
    emitter.start()
    time.sleep(0.5)  # the emitter fills the queue (and the worker's batch) and stops

    assert emitter.is_alive()  # waiting for the exporter, not dropping
    stopped = processor.stats
    assert stopped.queue_full == 0 and stopped.ended in (21, 41)

    built.set()
    emitter.join(10)
    provider.force_flush()
    stats = processor.stats  # after the build, a full queue drops as it does without us
    assert stats.ended == 100 and stats.delivered + stats.queue_full == 100
    assert len(memory.get_finished_spans()) == stats.delivered
    provider.shutdown()


def test_export_failures_are_counted_with_the_cause_in_whole_words(caplog) -> None:
    logging.getLogger("opentelemetry.exporter.fake")  # exists before the wrapper silences it
    provider, processor = _pipeline(_Refused(), schedule_delay_millis=60000)
    _emit(provider, 0, 7)
    provider.force_flush()

    stats = processor.stats
    assert (stats.ended, stats.delivered, stats.export_failed) == (7, 0, 7)
    assert stats.last_failure == "connection failed: [Errno 111] Connection refused"
    (warning,) = _our_warnings(caplog)
    assert "dropped 7 span(s) since the last report" in warning
    assert "7 because the collector did not take them (connection failed: [Errno 111]" in warning
    provider.shutdown()


def test_spans_ended_after_shutdown_are_counted() -> None:
    provider, processor = _pipeline(InMemorySpanExporter(), schedule_delay_millis=60000)
    _emit(provider, 0, 3)
    provider.shutdown()
    _emit(provider, 3, 5)

    stats = processor.stats
    assert (stats.ended, stats.delivered, stats.after_shutdown, stats.pending) == (5, 3, 2, 0)


def test_the_exit_line_gives_the_exact_total_even_after_a_periodic_line(caplog) -> None:
    """Periodic lines stay rate-limited; the exit line is not, and counts everything."""
    provider, processor = _pipeline(_Refused(), schedule_delay_millis=60000)
    _emit(provider, 0, 4)
    provider.force_flush()  # the periodic line: 4 dropped
    _emit(provider, 4, 10)
    provider.force_flush()  # within the interval: no line
    assert len(_our_warnings(caplog)) == 1
    handler = ExitHandler(0.5, None, [processor])
    handler.add_provider(provider)

    handler.run()

    first, final = _our_warnings(caplog)
    assert "dropped 4 span(s)" in first
    assert "dropped 10 of 10 span(s) in all" in final
    assert "10 because the collector did not take them (connection failed: [Errno 111]" in final
    assert final.endswith("Connection refused)")


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (
            "Transient error StatusCode.UNAVAILABLE encountered while exporting traces to "
            "127.0.0.1:4317, retrying in 1.05s. Error details: failed to connect to all "
            "addresses; last error: UNKNOWN: ipv4:127.0.0.1:4317: Failed to connect to remote "
            "host: Connection refused",
            "gRPC UNAVAILABLE: failed to connect to all addresses; last error: UNKNOWN: "
            "ipv4:127.0.0.1:4317: Failed to connect to remote host: Connection refused",
        ),
        (
            "Failed to export spans batch code: 503, reason: Service Unavailable",
            "HTTP status 503 Service Unavailable",
        ),
        ("x " * 300, ("x " * 98).strip() + " ..."),
    ],
    ids=["grpc", "http status", "long text cut between words"],
)
def test_failure_reasons(message: str, reason: str) -> None:
    assert failure_reason(message) == reason


def test_export_stats_sums_the_tracked_pipelines(monkeypatch) -> None:
    monkeypatch.setattr(accounting, "_ledgers", weakref.WeakSet())
    first, first_processor = _pipeline(InMemorySpanExporter(), schedule_delay_millis=60000)
    second, second_processor = _pipeline(_Refused(), schedule_delay_millis=60000)
    accounting.track(first_processor.ledger)
    accounting.track(second_processor.ledger)
    _emit(first, 0, 3)
    _emit(second, 0, 2)
    first.force_flush()
    second.force_flush()

    stats = podcast_kg_otel.export_stats()
    assert isinstance(stats, podcast_kg_otel.ExportStats)
    assert (stats.ended, stats.delivered, stats.export_failed, stats.dropped) == (5, 3, 2, 2)
    with pytest.raises(AttributeError):
        stats.delivered = 0  # type: ignore[misc]
    first.shutdown()
    second.shutdown()


def test_a_tally_counts_every_bump_from_many_threads_exactly() -> None:
    tally = accounting.Tally()
    start = threading.Barrier(8)

    def bump() -> None:
        start.wait()
        for _ in range(20_000):
            tally.bump()

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert tally.value == 160_000
    assert tally.value == 160_000  # reading does not advance it


def test_spans_ended_in_many_threads_are_each_counted_once() -> None:
    memory = InMemorySpanExporter()
    provider, processor = _pipeline(memory, max_queue_size=100_000, max_export_batch_size=512)
    start = threading.Barrier(4)

    def end_spans(worker: int) -> None:
        start.wait()
        _emit(provider, worker * 2_500, (worker + 1) * 2_500)

    threads = [threading.Thread(target=end_spans, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    provider.force_flush()
    provider.shutdown()

    stats = processor.stats
    assert (stats.ended, stats.delivered, stats.dropped, stats.pending) == (10_000, 10_000, 0, 0)
    assert len({span.name for span in memory.get_finished_spans()}) == 10_000


def test_after_the_fork_resets_the_counts_are_the_childs_own() -> None:
    memory = InMemorySpanExporter()
    provider, processor = _pipeline(memory, max_export_batch_size=512)
    _emit(provider, 0, 7)
    provider.force_flush()
    assert (processor.stats.ended, processor.stats.delivered) == (7, 7)

    processor.reset_after_fork()  # what the fork handlers call in the child
    processor.quiet_exporter.reset_after_fork()
    assert processor.stats.ended == 0
    _emit(provider, 7, 10)
    provider.force_flush()
    provider.shutdown()

    stats = processor.stats
    assert (stats.ended, stats.delivered, stats.dropped, stats.pending) == (3, 3, 0, 0)
