"""The opt-in exit summary (``PODCAST_KG_OTEL_EXIT_SUMMARY=true``): one short block on
stderr when the program ends, saying what was traced and what reached the collector.

Spans per instrumentation scope, traces, one-span traces (a span no other span of this
process joined: usually a library call made outside any traced function), and drops by
cause from ``export_stats()``. When most traces are a single span, one line suggests a
``PODCAST_KG_OTEL_TRACED_FUNCTIONS`` target. The counting processor keeps counters only:
one per scope, and the span count of at most ``MAX_TRACES`` recent traces (the oldest
is folded into the totals when a new one arrives).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections import Counter
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from podcast_kg_otel.environment_variables import PODCAST_KG_OTEL_TRACED_FUNCTIONS

#: Traces whose span count is held at once.
MAX_TRACES = 65536
UNKNOWN_SCOPE = "(no instrumentation scope)"


class SpanCounter(SpanProcessor):
    """Counts ended spans by scope and by trace (bounded)."""

    def __init__(self, max_traces: int = MAX_TRACES) -> None:
        self.max_traces = max_traces
        self.by_scope: Counter[str] = Counter()
        self._per_trace: dict[int, int] = {}
        self._folded_traces = 0
        self._folded_single = 0
        self._lock = threading.Lock()  # exact counts with spans ending in many threads

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        scope = span.instrumentation_scope
        name = scope.name if scope is not None else UNKNOWN_SCOPE
        trace_id = span.context.trace_id
        per_trace = self._per_trace
        with self._lock:
            self.by_scope[name] += 1
            count = per_trace.get(trace_id)
            if count is None:
                if len(per_trace) >= self.max_traces:
                    self._fold_oldest()
                per_trace[trace_id] = 1
            else:
                per_trace[trace_id] = count + 1

    def _fold_oldest(self) -> None:
        oldest = next(iter(self._per_trace))
        self._folded_traces += 1
        self._folded_single += self._per_trace.pop(oldest) == 1

    def traces(self) -> tuple[int, int]:
        """(traces, one-span traces)."""
        with self._lock:
            counts = list(self._per_trace.values())
        single = sum(1 for count in counts if count == 1)
        return len(counts) + self._folded_traces, single + self._folded_single

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def summary_lines(counter: SpanCounter, stats: Any) -> list[str]:
    """The block: totals, spans per scope (most first), export outcome, and the hint."""
    from podcast_kg_otel.export_reasons import cause_words

    spans = sum(counter.by_scope.values())
    traces, single = counter.traces()
    lines = [
        f"podcast-kg-otel exit summary: {spans} span(s) in {traces} trace(s), "
        f"{single} of them one-span trace(s)"
    ]
    for scope, count in sorted(counter.by_scope.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"  {count:>8}  {scope}")
    export = f"  export: {stats.delivered} delivered, {stats.dropped} dropped"
    if stats.dropped:
        export += f" ({cause_words(stats)})"
    if stats.pending:
        export += f", {stats.pending} pending"
    lines.append(export)
    if traces and single * 2 > traces:
        lines.append(
            f"  hint: {single} of {traces} traces are a single span; name the function that "
            f"handles one unit of work in {PODCAST_KG_OTEL_TRACED_FUNCTIONS} "
            "(e.g. mypackage.jobs:process_item) to make each unit one trace"
        )
    return lines


def _print_summary(counter: SpanCounter, pid: int) -> None:
    """At exit, in the process that installed it (not in forked or spawned workers)."""
    from podcast_kg_otel.accounting import export_stats
    from podcast_kg_otel.interpreter import started_by_multiprocessing

    if os.getpid() != pid or started_by_multiprocessing():
        return
    try:
        sys.stderr.write("\n".join(summary_lines(counter, export_stats())) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def install_exit_summary(provider: Any) -> SpanCounter:
    """Count the provider's spans and print the summary at exit.

    Call it before the bounded exit registers its own ``atexit`` handler: handlers run
    last-registered first, so the summary then reads the export counts final.
    """
    counter = SpanCounter()
    provider.add_span_processor(counter)
    atexit.register(_print_summary, counter, os.getpid())
    return counter
