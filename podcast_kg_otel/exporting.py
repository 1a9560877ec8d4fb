"""Quiet, lazily created span export that counts every span it does not deliver.

Three upstream behaviours make batch jobs miserable: the OTLP exporter (and the
``requests`` stack under it) is imported at start-up even by a process that never emits
a span; every failed batch logs a traceback; and the batch processor drops spans when
its queue is full with a count-less ``Queue full, dropping Span.``. Here:

* ``QuietSpanExporter`` builds the real exporter on first use, in a background thread as
  soon as the first span ends. Export failures never raise or print tracebacks: one line
  at most per interval says where the collector was expected, how many spans were
  dropped and why, and the exit prints the exact total (``final_report``).
* ``CountingBatchSpanProcessor`` counts every span it is handed in the pipeline's
  ``SpanLedger`` (see ``accounting``), including those its full queue drops. On the
  per-span path the counts are lock-free tallies the ledger reads when asked. While the
  exporter is still being built, a thread that would overflow the queue waits instead
  until the exporter is built and has taken its first batch: the build is starved of
  the GIL by a busy program (seconds), so without the wait a burst from a program's
  first instant lost all but the first 2,560 spans. The wait happens at most once, in
  a burst, and costs about what the stock distro pays for the exporter at start-up.

The bounded exit that flushes these pipelines is in ``exiting``.
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

from podcast_kg_otel import notices, retry_wait
from podcast_kg_otel.accounting import (
    AFTER_SHUTDOWN,
    EXIT_BUDGET,
    EXPORT_FAILED,
    QUEUE_FULL,
    ExportStats,
    SpanLedger,
    Tally,
)
from podcast_kg_otel.export_reasons import cause_words, describe, failure_reason

_logger = logging.getLogger("podcast_kg_otel.export")
_quiet = threading.local()
#: Longest a thread that would overflow the queue waits for the exporter build.
BUILD_WAIT_SECONDS = 30.0
#: Longest it then waits for the first batch to leave the queue (a silent collector).
ROOM_WAIT_SECONDS = 1.0


class _QuietFilter(logging.Filter):
    """Drops the exporters' own records while a QuietSpanExporter is working."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(_quiet, "active", False):
            return True
        if getattr(_quiet, "first_message", None) is None:
            with contextlib.suppress(Exception):
                _quiet.first_message = record.getMessage()
        return False


_filter = _QuietFilter()
_NOISY_PREFIXES = ("opentelemetry.exporter", "urllib3", "grpc")


def _silence_exporter_loggers() -> None:
    for name in list(logging.Logger.manager.loggerDict):
        if name.startswith(_NOISY_PREFIXES):
            logger = logging.getLogger(name)
            if _filter not in logger.filters:
                logger.addFilter(_filter)


#: Longest a fork waits for an exporter build in progress (see ``before_fork``).
BUILD_WAIT_BEFORE_FORK = 5.0


class QuietSpanExporter(SpanExporter):
    """Wraps an exporter (or a factory for one): never raises, never floods the log.

    ``endpoint`` is only used in the warning, to say where the collector was expected.
    ``exit_imports`` are modules the factory imports that cannot be imported once
    interpreter shutdown has begun (see ``import_for_exit``). ``ledger`` counts what
    becomes of the spans; a ``CountingBatchSpanProcessor`` over this exporter counts the
    spans it is handed, otherwise ``export`` does.
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
        self._retry_wait: retry_wait.RetryWait | None = None
        if isinstance(exporter, SpanExporter):
            self._factory: Callable[[], SpanExporter] | None = None
            self._exporter: SpanExporter | None = exporter
            self._retry_wait = retry_wait.install(exporter)
            _silence_exporter_loggers()
        else:
            self._factory = exporter
            self._exporter = None
        self.endpoint = endpoint
        self.ledger = SpanLedger()
        self.counts_ended = True
        self._exit_imports = tuple(exit_imports)
        self._warn_interval = warn_interval
        self._clock = clock
        self._create_lock = threading.Lock()
        self._report_lock = threading.Lock()
        self._prepared = False
        self._building = False
        self._last_success: float | None = None
        self._exiting = False
        self._aborted = False
        self._shut_down = False
        self._inner_shut_down = False
        self._sending = False
        self._reported = ExportStats()
        self._last_report: float | None = None

    # The real exporter -------------------------------------------------------------

    @property
    def built(self) -> bool:
        return self._exporter is not None

    @property
    def exiting(self) -> bool:
        return self._exiting

    def _inner(self, timeout: float = -1) -> SpanExporter:
        if self._exporter is None:
            if not self._create_lock.acquire(timeout=timeout):
                raise TimeoutError("the span exporter is still being built")
            try:
                if self._exporter is None:
                    self._build()
            finally:
                self._create_lock.release()
        return self._exporter  # type: ignore[return-value]

    def _build(self) -> None:
        self._building = True
        was_quiet = getattr(_quiet, "active", False)
        _quiet.active = True
        try:
            exporter = self._factory()  # type: ignore[misc]
            self._retry_wait = retry_wait.install(exporter)
            if self._exiting and self._retry_wait is not None:  # built by the exit itself
                self._retry_wait.hurry()
            self._exporter = exporter
        finally:
            _quiet.active = was_quiet
            self._building = False
        _silence_exporter_loggers()

    def _prepare_in_background(self) -> None:
        try:
            self._inner()
        except Exception:  # export() reports the same failure when it retries
            _logger.debug("creating the span exporter failed", exc_info=True)

    def build_now(self, timeout: float = -1) -> None:
        """Build the real exporter in this thread, or wait for the thread building it
        (no-op when built); failures are left for ``export`` to report."""
        with contextlib.suppress(Exception):
            self._inner(timeout)

    def before_fork(self, timeout: float = BUILD_WAIT_BEFORE_FORK) -> None:
        """Let a build in progress finish before the process forks (bounded): the child
        would inherit the exporter module's import lock held by a thread it does not
        have, and its own build would wait on that lock forever."""
        if self._building and self._create_lock.acquire(timeout=timeout):
            self._create_lock.release()

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
            self._retry_wait = None
            self._prepared = False
        self._create_lock = threading.Lock()
        self._report_lock = threading.Lock()
        self.ledger.reset()
        self._reported = ExportStats()
        self._last_report = None
        self._exiting = self._aborted = self._shut_down = self._building = False
        self._inner_shut_down = self._sending = False

    # SpanExporter ------------------------------------------------------------------

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        count = len(spans)
        if self.counts_ended:
            self.ledger.add("ended", count)
        if self._shut_down:
            self.ledger.add(EXIT_BUDGET if self._aborted else AFTER_SHUTDOWN, count)
            return SpanExportResult.FAILURE
        _quiet.active = True
        _quiet.first_message = None
        self._sending = True
        try:
            result = self._inner().export(spans)
            message = _quiet.first_message
            reason = failure_reason(message) if message else "the collector rejected the batch"
        except Exception as error:  # never into the batch processor: it prints tracebacks
            result, message, reason = SpanExportResult.FAILURE, "", describe(error)
        finally:
            _quiet.active = False
            self._sending = False
        if result is SpanExportResult.SUCCESS:
            self.ledger.add("delivered", count)
            self._last_success = time.monotonic()
            return result
        self._last_success = None
        if self._aborted:  # interrupted by the exit; keep what the exporter said, if anything
            self.ledger.add(EXIT_BUDGET, count, failure=reason if message else None)
        else:
            self.ledger.add(EXPORT_FAILED, count, failure=reason)
        if not self._exiting:
            self.report()
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
        self._shut_down_inner()

    def _shut_down_inner(self) -> None:
        if self._inner_shut_down or self._exporter is None:
            return
        self._inner_shut_down = True
        _quiet.active = True
        try:
            self._exporter.shutdown()
        except Exception:
            _logger.debug("span exporter shutdown failed", exc_info=True)
        finally:
            _quiet.active = False

    # Reporting ---------------------------------------------------------------------

    def making_progress(self, window: float) -> bool:
        """Still starting, or the collector accepted the last batch, within ``window`` s."""
        last = self._last_success
        starting = self._building or (self._prepared and self._exporter is None)
        return starting or (last is not None and time.monotonic() - last < window)

    def report(self) -> None:
        """Warn about drops not reported yet, at most once per interval."""
        with self._report_lock:
            now = self._clock()
            if self._last_report is not None and now - self._last_report < self._warn_interval:
                return
            stats = self.ledger.snapshot()
            new = _difference(stats, self._reported)
            if not new.dropped:
                return
            self._reported = stats
            self._last_report = now
        notices.warn(
            _logger,
            f"podcast-kg-otel: could not deliver spans to the collector at {self.endpoint}: "
            f"dropped {new.dropped} span(s) since the last report "
            f"({cause_words(new)}); next report in {self._warn_interval:.0f} s at the earliest",
        )

    def final_report(self, exit_budget: float | None = None) -> None:
        """The exit's line: every span dropped in this process, by cause (not rate-limited;
        nothing when every span was delivered)."""
        stats = self.ledger.snapshot()
        if not stats.dropped:
            return
        notices.warn(
            _logger,
            f"podcast-kg-otel: dropped {stats.dropped} of {stats.ended} span(s) in all, "
            f"not delivered to the collector at {self.endpoint}: "
            f"{cause_words(stats, exit_budget)}",
        )

    def begin_exit(self) -> None:
        """From now on, keep reports for the final line, and retry a failed batch without
        waiting out the backoff: the collector may be back, and the exit will not wait."""
        self._exiting = True
        if self._retry_wait is not None:
            self._retry_wait.hurry()

    @property
    def sending(self) -> bool:
        """A batch is with the real exporter (on its way to the collector)."""
        return self._sending

    def stop_sending(self) -> None:
        """Send no further batch: what reaches ``export`` from now on is dropped for want
        of time. A batch already on its way is left to finish (see ``ExitHandler``)."""
        self._aborted = True
        self._shut_down = True

    def abort(self) -> None:
        """Stop sending and interrupt retries of the real exporter (its shutdown wakes
        their sleeps, and may cut a batch on its way); what fails from now on failed for
        want of time."""
        self.stop_sending()
        self._shut_down_inner()


def _difference(now: ExportStats, before: ExportStats) -> ExportStats:
    return ExportStats(
        queue_full=now.queue_full - before.queue_full,
        export_failed=now.export_failed - before.export_failed,
        exit_budget=now.exit_budget - before.exit_budget,
        after_shutdown=now.after_shutdown - before.after_shutdown,
        last_failure=now.last_failure,
    )


class _CountingQueue(collections.deque):  # type: ignore[type-arg]
    """The batch processor's queue, counting the oldest span it drops when full.

    The SDK appends with ``appendleft`` (a full bounded deque silently drops its right
    end) and pops with ``pop`` from its worker; both take one plain lock, held for a
    single deque operation, so a drop is counted exactly when it happens and neither
    thread waits on the other for long.
    """

    def __init__(self, maxlen: int) -> None:
        super().__init__((), maxlen)
        self.dropped = 0
        self._reinit()
        reinit = weakref.WeakMethod(self._reinit)
        os.register_at_fork(after_in_child=lambda: (method := reinit()) and method())

    def _reinit(self) -> None:
        self._lock = threading.Lock()
        self.dropped = 0

    def full(self) -> bool:
        return len(self) == self.maxlen

    def wait_for_room(self, timeout: float) -> None:
        """Wait until the worker has taken spans out of a full queue (polls: this
        happens once in a process, so the worker's ``pop`` stays a bare operation)."""
        deadline = time.monotonic() + timeout
        while len(self) == self.maxlen and time.monotonic() < deadline:
            time.sleep(0.001)

    def appendleft(self, span: Any) -> None:
        with self._lock:
            if len(self) == self.maxlen:
                self.dropped += 1
            super().appendleft(span)

    def pop(self) -> Any:
        with self._lock:
            return super().pop()


class CountingBatchSpanProcessor(BatchSpanProcessor):
    """A BatchSpanProcessor that counts every span it is handed, and warms the exporter."""

    def __init__(self, exporter: QuietSpanExporter, **kwargs: Any) -> None:
        super().__init__(exporter, **kwargs)
        self.quiet_exporter = exporter
        self.ledger = exporter.ledger
        exporter.counts_ended = False
        self._warming = False
        self._ended = Tally()
        self.ledger.add_source("ended", lambda: self._ended.value)
        self._batch = getattr(self, "_batch_processor", None)
        self._emit = getattr(self._batch, "emit", None)
        self._queue: _CountingQueue | None = None
        queue = getattr(self._batch, "_queue", None)
        if isinstance(queue, collections.deque) and queue.maxlen:
            self._queue = _CountingQueue(queue.maxlen)
            self._batch._queue = self._queue  # type: ignore[union-attr]
            self.ledger.add_source(QUEUE_FULL, lambda queue=self._queue: queue.dropped)

    def on_end(self, span: ReadableSpan) -> None:
        if not (span.context is not None and span.context.trace_flags.sampled):
            return
        self._ended.bump()
        if getattr(self._batch, "_shutdown", False):
            self.ledger.add(AFTER_SHUTDOWN)
            return
        exporter = self.quiet_exporter
        if not exporter.built:
            if not self._warming:
                self._warming = True
                exporter.prepare()
            if self._queue is not None and self._queue.full() and not exporter.exiting:
                # See the module docstring: wait for the exporter and its first batch.
                started = time.monotonic()
                exporter.build_now(BUILD_WAIT_SECONDS)
                left = BUILD_WAIT_SECONDS - (time.monotonic() - started)
                self._queue.wait_for_room(min(ROOM_WAIT_SECONDS, left))
        if self._emit is not None:  # what BatchSpanProcessor.on_end does after its checks
            self._emit(span)
        else:
            super().on_end(span)

    @property
    def stats(self) -> ExportStats:
        return self.ledger.snapshot()

    def reset_after_fork(self) -> None:
        self._warming = False
        self._ended = Tally()
