"""Quiet, lazily created span export and a bounded exit.

Three upstream behaviours make batch jobs miserable: the OTLP exporter (and the
``requests`` stack under it) is imported at start-up even by a process that never emits
a span; a dead or hanging collector holds the process at exit for about 8 s of retries;
and every failed batch logs a traceback. Here:

* ``QuietSpanExporter`` builds the real exporter on first use, in a background thread as
  soon as the first span ends, so nothing is lost and nothing is paid at start-up. Export
  failures never raise or print tracebacks: one line at most per interval says where the
  collector was expected and how many spans were dropped.
* ``CountingBatchSpanProcessor`` counts what was queued, so spans abandoned at exit are
  counted too.
* ``OpenSpanTracker`` remembers spans that are still open, so the exit can end them
  (marked with ``podcast_kg_otel.span.ended_at_exit``) and export them instead of losing
  them (the ordering problem of pydantic/logfire#108).
* ``ExitHandler`` replaces the providers' own ``atexit`` shutdown: it ends open spans,
  then shuts the providers down in a helper thread and stops waiting when the budget is
  spent.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

from podcast_kg_otel import notices

ENDED_AT_EXIT = "podcast_kg_otel.span.ended_at_exit"
#: How much longer than its budget the exit may wait while export is making progress.
EXIT_EXTENSION = 5.0

_logger = logging.getLogger("podcast_kg_otel.export")
_quiet = threading.local()


class _QuietFilter(logging.Filter):
    """Drops the exporters' own records while a QuietSpanExporter is working."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(_quiet, "active", False):
            return True
        if getattr(_quiet, "first_message", None) is None:
            with contextlib.suppress(Exception):
                _quiet.first_message = record.getMessage().splitlines()[0][:240]
        return False


_filter = _QuietFilter()
_NOISY_PREFIXES = ("opentelemetry.exporter", "urllib3", "grpc")


def _silence_exporter_loggers() -> None:
    for name in list(logging.Logger.manager.loggerDict):
        if name.startswith(_NOISY_PREFIXES):
            logger = logging.getLogger(name)
            if _filter not in logger.filters:
                logger.addFilter(_filter)


def _describe(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    name = type(error).__name__
    return f"{name}: {text[:160]}" if text else name


class QuietSpanExporter(SpanExporter):
    """Wraps an exporter (or a factory for one): never raises, never floods the log.

    ``endpoint`` is only used in the warning, to say where the collector was expected.
    ``exit_imports`` are modules the factory imports that cannot be imported once
    interpreter shutdown has begun (see ``import_for_exit``).
    """

    def __init__(
        self,
        exporter: SpanExporter | Callable[[], SpanExporter],
        endpoint: str,
        *,
        warn_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        exit_imports: Sequence[str] = (),
    ) -> None:
        if isinstance(exporter, SpanExporter):
            self._factory: Callable[[], SpanExporter] | None = None
            self._exporter: SpanExporter | None = exporter
        else:
            self._factory = exporter
            self._exporter = None
        self.endpoint = endpoint
        self._exit_imports = tuple(exit_imports)
        self._warn_interval = warn_interval
        self._clock = clock
        self._create_lock = threading.Lock()
        self._report_lock = threading.Lock()
        self._prepared = False
        self._building = False
        self._last_success: float | None = None
        self._exiting = False
        self._shut_down = False
        self.exported = 0
        self.failed = 0
        self._unreported = 0
        self._last_reason = ""
        self._last_report: float | None = None

    # The real exporter -------------------------------------------------------------

    def _inner(self) -> SpanExporter:
        if self._exporter is None:
            with self._create_lock:
                if self._exporter is None:
                    self._building = True
                    was_quiet = getattr(_quiet, "active", False)
                    _quiet.active = True
                    try:
                        self._exporter = self._factory()  # type: ignore[misc]
                    finally:
                        _quiet.active = was_quiet
                        self._building = False
                    _silence_exporter_loggers()
        return self._exporter

    def _prepare_in_background(self) -> None:
        try:
            self._inner()
        except Exception:  # export() reports the same failure when it retries
            _logger.debug("creating the span exporter failed", exc_info=True)

    def build_now(self) -> None:
        """Build the real exporter in this thread (no-op when built); failures are left
        for ``export`` to report."""
        with contextlib.suppress(Exception):
            self._inner()

    def import_for_exit(self) -> None:
        """While the exporter is not built, import what building it at exit would need
        and could no longer import then (cheap, unlike building it)."""
        if self._exporter is None:
            for name in self._exit_imports:
                with contextlib.suppress(Exception):
                    importlib.import_module(name)

    def prepare(self) -> None:
        """Start building the real exporter off the calling thread (once)."""
        if self._prepared or self._exporter is not None:
            return
        self._prepared = True
        threading.Thread(
            target=self._prepare_in_background, name="podcast-kg-otel-exporter", daemon=True
        ).start()

    def reset_after_fork(self) -> None:
        """In a forked child: forget the parent's exporter (its connections are shared)."""
        if self._factory is not None:
            self._exporter = None
            self._prepared = False
        self._create_lock = threading.Lock()
        self._report_lock = threading.Lock()
        self.exported = self.failed = self._unreported = 0
        self._last_report = None
        self._exiting = self._shut_down = self._building = False

    # SpanExporter ------------------------------------------------------------------

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        count = len(spans)
        if self._shut_down:
            self._dropped(count, "the exporter was already shut down")
            return SpanExportResult.FAILURE
        _quiet.active = True
        _quiet.first_message = None
        try:
            result = self._inner().export(spans)
            reason = _quiet.first_message or "the collector rejected the batch"
        except Exception as error:  # never into the batch processor: it prints tracebacks
            result, reason = SpanExportResult.FAILURE, _describe(error)
        finally:
            _quiet.active = False
        if result is SpanExportResult.SUCCESS:
            self.exported += count
            self._last_success = time.monotonic()
        else:
            self._dropped(count, reason)
        return result

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        if self._exporter is None:
            return True
        _quiet.active = True
        try:
            return bool(self._exporter.force_flush(timeout_millis))
        except Exception:
            return False
        finally:
            _quiet.active = False

    def shutdown(self) -> None:
        if self._shut_down:
            return
        self._shut_down = True
        if self._exporter is None:
            return
        _quiet.active = True
        try:
            self._exporter.shutdown()
        except Exception:
            _logger.debug("span exporter shutdown failed", exc_info=True)
        finally:
            _quiet.active = False

    # Reporting ---------------------------------------------------------------------

    def making_progress(self, window: float) -> bool:
        """Still starting, or the collector accepted a batch in the last ``window`` s."""
        last = self._last_success
        return self._building or (last is not None and time.monotonic() - last < window)

    def _dropped(self, count: int, reason: str) -> None:
        self._last_success = None
        with self._report_lock:
            self.failed += count
            self._unreported += count
            self._last_reason = reason
        if not self._exiting:
            self.report()

    def report(self, extra_dropped: int = 0, final: bool = False) -> None:
        """Warn about unreported drops, at most once per interval."""
        with self._report_lock:
            self._unreported += extra_dropped
            if extra_dropped and not self._last_reason:
                self._last_reason = "the exit budget ran out before the collector answered"
            now = self._clock()
            recent = self._last_report is not None and now - self._last_report < self._warn_interval
            if not self._unreported or recent:
                return
            count, self._unreported = self._unreported, 0
            self._last_report = now
            reason = self._last_reason
        when = (
            "at exit" if final else f"(next report in {self._warn_interval:.0f} s at the earliest)"
        )
        notices.warn(
            _logger,
            f"podcast-kg-otel: could not export spans to the collector at {self.endpoint} "
            f"({reason}); dropped {count} span(s) {when}",
        )

    def begin_exit(self) -> None:
        """From now on, keep reports for one final line."""
        self._exiting = True

    def abort(self) -> None:
        """Interrupt retries of the real exporter (its shutdown wakes their sleeps)."""
        self.shutdown()


class CountingBatchSpanProcessor(BatchSpanProcessor):
    """A BatchSpanProcessor that counts the spans it queued, and warms the exporter."""

    def __init__(self, exporter: QuietSpanExporter, **kwargs: Any) -> None:
        super().__init__(exporter, **kwargs)
        self.quiet_exporter = exporter
        self.queued = 0
        self._count_lock = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is not None and span.context.trace_flags.sampled:
            with self._count_lock:
                first = not self.queued
                self.queued += 1
            if first:
                self.quiet_exporter.prepare()
        super().on_end(span)

    def unexported(self) -> int:
        """Spans queued but neither exported nor counted as failed yet."""
        exporter = self.quiet_exporter
        return max(0, self.queued - exporter.exported - exporter.failed)

    def reset_after_fork(self) -> None:
        self.queued = 0
        self._count_lock = threading.Lock()


class OpenSpanTracker(SpanProcessor):
    """Knows the spans that are still open, so they can be ended at exit.

    Spans are held weakly: one the application abandoned (nothing references it any more)
    is collected as without us, and its entry is pruned once the table has doubled, instead
    of the span being kept for the life of the process. (No weakref callbacks: they would
    mutate the table from the garbage collector, in the middle of a copy.)
    """

    _PRUNE_MIN = 1024

    def __init__(self) -> None:
        self._open: dict[tuple[int, int], weakref.ref[Span]] = {}
        self._prune_at = self._PRUNE_MIN

    @staticmethod
    def _key(span: ReadableSpan) -> tuple[int, int]:
        context = span.get_span_context()
        return (context.trace_id, context.span_id)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self._open[self._key(span)] = weakref.ref(span)
        if len(self._open) > self._prune_at:
            self._prune()

    def _prune(self) -> None:
        for key, reference in self._open.copy().items():
            if reference() is None:
                self._open.pop(key, None)
        self._prune_at = max(self._PRUNE_MIN, 2 * len(self._open))

    def on_end(self, span: ReadableSpan) -> None:
        # The SDK passes a new ReadableSpan to on_end, hence the key by span context.
        self._open.pop(self._key(span), None)

    def open_spans(self) -> list[Span]:
        # dict.copy() runs without releasing the GIL: safe while other threads add spans.
        spans = (reference() for reference in self._open.copy().values())
        return [span for span in spans if span is not None]

    def end_open_spans(self) -> int:
        """End every open span, newest first, marked as ended at exit."""
        spans = sorted(self.open_spans(), key=lambda s: s.start_time or 0, reverse=True)
        for span in spans:
            try:
                span.set_attribute(ENDED_AT_EXIT, True)
                span.end()
            except Exception:
                _logger.debug("ending an open span at exit failed", exc_info=True)
        return len(spans)

    def reset_after_fork(self) -> None:
        """The child inherits the parent's open spans; they are not the child's to end."""
        self._open.clear()

    def shutdown(self) -> None:
        self._open.clear()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _other_threads_running() -> bool:
    """Non-daemon threads still running: they may end spans after the main thread ends."""
    current = threading.current_thread()
    return any(
        thread is not current and not thread.daemon and thread.is_alive()
        for thread in threading.enumerate()
    )


class ExitHandler:
    """Bounded, quiet shutdown of the telemetry providers at interpreter exit."""

    def __init__(
        self,
        budget_seconds: float,
        tracker: OpenSpanTracker | None = None,
        processors: Sequence[CountingBatchSpanProcessor] = (),
    ) -> None:
        self.budget = budget_seconds
        self.tracker = tracker
        self.processors = list(processors)
        self.providers: list[Any] = []
        self.timed_out = False
        self._ran = False

    @property
    def started(self) -> bool:
        """Whether the exit has begun (it runs once)."""
        return self._ran

    def add_provider(self, provider: Any) -> None:
        """Take over ``provider``'s own atexit shutdown, which has no bound."""
        atexit.unregister(provider.shutdown)
        self.providers.append(provider)

    def install(self) -> None:
        atexit.register(self.run)
        # Exporter modules cannot be imported once interpreter shutdown has begun (the grpc
        # exporter's import needs a thread pool), and atexit runs after that point. A
        # threading-shutdown hook runs before it: build the exporters there if they will
        # be needed. It is private API, hence the guard.
        with contextlib.suppress(AttributeError, RuntimeError):
            threading._register_atexit(self._build_exporters)  # type: ignore[attr-defined]

    def _build_exporters(self) -> None:
        pending = (
            self.tracker is not None and bool(self.tracker.open_spans())
        ) or _other_threads_running()
        for processor in self.processors:
            if processor.queued or pending:
                processor.quiet_exporter.build_now()
            else:  # an atexit handler may still end this process's first span
                processor.quiet_exporter.import_for_exit()

    def _shutdown_all(self) -> None:
        for provider in self.providers:
            try:
                provider.shutdown()
            except Exception:
                _logger.debug("provider shutdown failed", exc_info=True)

    def reset_after_fork(self) -> None:
        """A forked child runs its own exit (before ``os._exit`` or at ``atexit``)."""
        self._ran = False
        self.timed_out = False

    def run(self) -> None:
        """End open spans, flush and shut down, giving up when the budget is spent."""
        if self._ran:
            return
        self._ran = True
        deadline = time.monotonic() + self.budget
        exporters = [processor.quiet_exporter for processor in self.processors]
        for exporter in exporters:
            exporter.begin_exit()
        if self.tracker is not None:
            self.tracker.end_open_spans()
        worker = threading.Thread(
            target=self._shutdown_all, name="podcast-kg-otel-exit", daemon=True
        )
        worker.start()
        # Keep a little of the budget to interrupt retries, so drops are counted cleanly.
        grace = min(0.1, self.budget / 4)
        worker.join(max(0.0, deadline - time.monotonic() - grace))
        # A collector that keeps answering (or an exporter still starting) is not a dead
        # one: give it up to EXIT_EXTENSION more, so a busy machine loses no span.
        hard_deadline = deadline + EXIT_EXTENSION
        while (
            worker.is_alive()
            and time.monotonic() < hard_deadline
            and any(exporter.making_progress(self.budget) for exporter in exporters)
        ):
            worker.join(0.02)
        if worker.is_alive():
            self.timed_out = True
            _quiet.active = True
            try:
                for exporter in exporters:
                    exporter.abort()
            finally:
                _quiet.active = False
            worker.join(max(0.0, deadline - time.monotonic()))
        for processor in self.processors:
            abandoned = processor.unexported() if worker.is_alive() else 0
            processor.quiet_exporter.report(extra_dropped=abandoned, final=True)
