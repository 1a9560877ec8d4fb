"""What became of every span handed to export: delivered, or dropped and why.

Each export pipeline (one per configured exporter) keeps a ``SpanLedger``; every span it
is handed ends up counted exactly once, as delivered or under one drop cause, so the
numbers add up and the warnings can say exactly what was lost. ``export_stats()`` sums
the ledgers of this process for programs and tests.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass

#: Drop causes, in the order the warnings list them, with the words they use.
QUEUE_FULL = "queue_full"
EXPORT_FAILED = "export_failed"
EXIT_BUDGET = "exit_budget"
AFTER_SHUTDOWN = "after_shutdown"
CAUSES = (QUEUE_FULL, EXPORT_FAILED, EXIT_BUDGET, AFTER_SHUTDOWN)


@dataclass(frozen=True)
class ExportStats:
    """Spans this process handed to export since it started (or forked), by outcome.

    ``ended`` counts sampled spans that reached an export pipeline; each of them is in
    ``delivered``, in one of the drop causes, or still ``pending`` (queued or being sent).
    """

    ended: int = 0
    delivered: int = 0
    #: The export queue was full (spans ended faster than they could be sent).
    queue_full: int = 0
    #: The collector could not be reached or did not accept the batch.
    export_failed: int = 0
    #: Still queued or being sent when the exit budget ran out.
    exit_budget: int = 0
    #: Ended after the pipeline was shut down.
    after_shutdown: int = 0
    #: The last export failure, in the exporter's words ("" when none failed).
    last_failure: str = ""

    @property
    def dropped(self) -> int:
        """Spans that will never reach the collector, whatever the cause."""
        return self.queue_full + self.export_failed + self.exit_budget + self.after_shutdown

    @property
    def pending(self) -> int:
        """Spans queued or being sent: neither delivered nor dropped yet."""
        return max(0, self.ended - self.delivered - self.dropped)

    def __add__(self, other: ExportStats) -> ExportStats:
        return ExportStats(
            ended=self.ended + other.ended,
            delivered=self.delivered + other.delivered,
            queue_full=self.queue_full + other.queue_full,
            export_failed=self.export_failed + other.export_failed,
            exit_budget=self.exit_budget + other.exit_budget,
            after_shutdown=self.after_shutdown + other.after_shutdown,
            last_failure=other.last_failure or self.last_failure,
        )


class Tally:
    """A count any thread bumps without a lock, for the per-span path.

    ``bump()`` is ``next()`` on an ``itertools.count``: one C call, atomic under the GIL,
    where ``+= 1`` on an attribute can lose counts between threads and a lock costs ten
    times as much (~1 µs). ``value`` reads the count without advancing it (from its
    ``repr``, the one way a count shows its state).
    """

    __slots__ = ("_count", "bump")

    def __init__(self) -> None:
        self._count = itertools.count()
        self.bump = self._count.__next__

    @property
    def value(self) -> int:
        return int(repr(self._count)[len("count(") : -1])


class SpanLedger:
    """The thread-safe counts of one export pipeline.

    Once ``seal``\\ ed (at the end of the exit, after the final report) it changes no
    more, so the reported total stays the true one whatever an abandoned export thread
    does afterwards.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(("ended", "delivered", *CAUSES), 0)
        self._last_failure = ""
        self._sealed = False
        self._sources: list[tuple[str, Callable[[], int]]] = []

    def add_source(self, field: str, read: Callable[[], int]) -> None:
        """Count ``read()`` under ``field`` too: a counter kept where the spans are
        dropped (the queue's), so the hot path takes no lock of ours."""
        self._sources.append((field, read))

    def add(self, field: str, count: int = 1, failure: str | None = None) -> None:
        """Count ``count`` spans under ``field`` ("ended", "delivered" or a cause)."""
        with self._lock:
            if self._sealed:
                return
            self._counts[field] += count
            if failure:
                self._last_failure = failure

    def settle_pending(self, cause: str) -> int:
        """Count every pending span as dropped for ``cause``; returns how many."""
        with self._lock:
            pending = self._snapshot().pending
            if pending and not self._sealed:
                self._counts[cause] += pending
            return pending

    def seal(self) -> None:
        with self._lock:
            self._counts = self._current()
            self._sources = []
            self._sealed = True

    def snapshot(self) -> ExportStats:
        with self._lock:
            return self._snapshot()

    def _current(self) -> dict[str, int]:
        counts = dict(self._counts)
        for field, read in self._sources:
            counts[field] += read()
        return counts

    def _snapshot(self) -> ExportStats:
        return ExportStats(last_failure=self._last_failure, **self._current())

    def reset(self) -> None:
        """In a forked child: the parent's counts are the parent's."""
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(self._counts, 0)
        self._last_failure = ""
        self._sealed = False


_ledgers: weakref.WeakSet[SpanLedger] = weakref.WeakSet()


def track(ledger: SpanLedger) -> None:
    """Include ``ledger`` (a pipeline the distro set up) in ``export_stats()``."""
    _ledgers.add(ledger)


def export_stats() -> ExportStats:
    """Spans handed to export by this process so far: delivered, dropped by cause, pending.

    The sum over the export pipelines podcast-kg-otel set up (all zero when none).
    """
    total = ExportStats()
    for ledger in list(_ledgers):
        total = total + ledger.snapshot()
    return total
