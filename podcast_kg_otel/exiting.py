"""The bounded exit: end the spans still open, flush, and stop waiting when the budget is
spent.

* ``OpenSpanTracker`` remembers spans that are still open, so the exit can end them
  (marked with ``podcast_kg_otel.span.ended_at_exit``) and export them instead of losing
  them (the ordering problem of pydantic/logfire#108).
* ``ExitHandler`` replaces the providers' own ``atexit`` shutdown: it ends open spans in
  the calling thread, shuts the providers down in a helper thread, stops waiting when
  the budget is spent (a batch already on its way to a collector that is answering gets
  ``IN_FLIGHT_GRACE`` to be answered, so it is counted as what became of it), and prints
  one exact line for every span that was not delivered.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from podcast_kg_otel.accounting import AFTER_SHUTDOWN, EXIT_BUDGET
from podcast_kg_otel.exporting import CountingBatchSpanProcessor, QuietSpanExporter

ENDED_AT_EXIT = "podcast_kg_otel.span.ended_at_exit"
#: How much longer than its budget the exit may wait while export is making progress.
EXIT_EXTENSION = 5.0
#: Past that, how long a batch already on its way to an answering collector may take to
#: be answered: cutting it would count as lost a batch the collector may have stored.
IN_FLIGHT_GRACE = 1.0

_logger = logging.getLogger("podcast_kg_otel.export")
_SDK_SPAN_LOGGER = logging.getLogger("opentelemetry.sdk.trace")
_ending = threading.local()


class _EndingAtExitFilter(logging.Filter):
    """While the exit ends a span, hides the SDK's warning if the span's own thread ended
    it in the meantime (that thread delivers it; nothing is wrong)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_ending, "active", False)


_ending_filter = _EndingAtExitFilter()


@contextlib.contextmanager
def _ending_at_exit() -> Iterator[None]:
    if _ending_filter not in _SDK_SPAN_LOGGER.filters:
        _SDK_SPAN_LOGGER.addFilter(_ending_filter)
    _ending.active = True
    try:
        yield
    finally:
        _ending.active = False


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

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        # Inline rather than a helper method: this runs for every span.
        context = span.context
        self._open[(context.trace_id, context.span_id)] = weakref.ref(span)
        if len(self._open) > self._prune_at:
            self._prune()

    def _prune(self) -> None:
        for key, reference in self._open.copy().items():
            if reference() is None:
                self._open.pop(key, None)
        self._prune_at = max(self._PRUNE_MIN, 2 * len(self._open))

    def on_end(self, span: ReadableSpan) -> None:
        # The SDK passes a new ReadableSpan to on_end, hence the key by span context.
        context = span.context
        self._open.pop((context.trace_id, context.span_id), None)

    def open_spans(self) -> list[Span]:
        # dict.copy() runs without releasing the GIL: safe while other threads add spans.
        spans = (reference() for reference in self._open.copy().values())
        return [span for span in spans if span is not None]

    def end_open_spans(self) -> int:
        """End every span still open, newest first, marked as ended at exit.

        A span whose end has already begun (in another thread, or in the code a signal
        interrupted) is left to that end, which delivers it.
        """
        spans = sorted(self.open_spans(), key=lambda s: s.start_time or 0, reverse=True)
        ended = 0
        with _ending_at_exit():
            for span in spans:
                if not span.is_recording():
                    continue
                try:
                    span.set_attribute(ENDED_AT_EXIT, True)
                    span.end()
                    ended += 1
                except Exception:
                    _logger.debug("ending an open span at exit failed", exc_info=True)
        return ended

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

    @property
    def exporters(self) -> list[QuietSpanExporter]:
        return [processor.quiet_exporter for processor in self.processors]

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
            if processor.ledger.snapshot().ended or pending:
                processor.quiet_exporter.build_now(timeout=EXIT_EXTENSION)
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
        """End open spans, flush and shut down, giving up when the budget is spent; then
        report every span that was not delivered, exactly."""
        if self._ran:
            return
        self._ran = True
        deadline = time.monotonic() + self.budget
        exporters = self.exporters
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
        # A collector whose last answer was a success (or an exporter still starting) is
        # not a dead one: give it up to EXIT_EXTENSION more, so a busy machine, where one
        # batch can take longer than the whole budget, loses no span.
        hard_deadline = deadline + EXIT_EXTENSION
        answering = [e for e in exporters if e.making_progress(EXIT_EXTENSION)]
        while (
            worker.is_alive()
            and time.monotonic() < hard_deadline
            and any(exporter.making_progress(EXIT_EXTENSION) for exporter in exporters)
        ):
            worker.join(0.02)
        if worker.is_alive():
            self.timed_out = True
            for exporter in exporters:
                exporter.stop_sending()
            grace_end = time.monotonic() + IN_FLIGHT_GRACE
            while any(e.sending for e in answering) and time.monotonic() < grace_end:
                worker.join(0.01)
            for exporter in exporters:
                exporter.abort()
            worker.join(max(0.0, deadline - time.monotonic()))
        # Whatever is still queued now will never be sent: the process is ending.
        cause = EXIT_BUDGET if worker.is_alive() else AFTER_SHUTDOWN
        for exporter in exporters:
            exporter.ledger.settle_pending(cause)
            exporter.final_report(self.budget)
            exporter.ledger.seal()
