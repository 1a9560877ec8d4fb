"""In-process tail sampling that keeps every trace with an error.

A head sampler decides before anything has happened, so at a 10 % rate it throws away
90 % of the failures too. This processor sits in front of the exporting processor and
holds a trace's spans until its *local root* (the first span of the trace in this
process) ends. Then the whole trace is kept when any span has ERROR status, or when the
root took longer than an optional threshold, and otherwise at ``ratio``, decided from the
trace id exactly like ``TraceIdRatioBased`` so that head-sampled services agree. ``ratio``
may instead be a strategy (the ``jaeger_remote`` sampler): it then decides the error-free
traces from the trace id and the local root's name.

Memory is bounded: past ``max_traces`` buffered traces or ``max_spans`` buffered spans,
and for traces older than ``trace_timeout`` seconds, the oldest trace is decided early
with what it has. Spans that end after their trace was decided follow the decision, except
that an ERROR span in a dropped trace is still kept. Traces whose local root has a remote
parent follow the parent's sampled flag. Every outcome is counted in ``stats``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import StatusCode

from podcast_kg_otel import notices
from podcast_kg_otel.settings.runtime_settings import RuntimeSettings

_DEFAULTS = RuntimeSettings()

_TRACE_ID_LOW_BITS = (1 << 64) - 1
_logger = logging.getLogger("podcast_kg_otel.sampling")


class TraceStrategy(Protocol):
    """Decides whether an error-free trace is kept, from its id and its root's name."""

    def keeps(self, trace_id: int, operation: str) -> bool: ...


@dataclass
class _Buffered:
    root_span_id: int
    started: float
    spans: list[ReadableSpan] = field(default_factory=list)
    error: bool = False
    root_name: str = ""


class TailSamplingProcessor(SpanProcessor):
    """Buffers spans per trace and forwards the kept traces to ``next_processor``."""

    def __init__(
        self,
        next_processor: SpanProcessor,
        ratio: float | TraceStrategy,
        *,
        slow_threshold: float | None = None,
        max_traces: int = _DEFAULTS.tail_max_traces,
        max_spans: int = _DEFAULTS.tail_max_spans,
        trace_timeout: float = _DEFAULTS.tail_trace_timeout,
        decided_capacity: int = 16384,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.next_processor = next_processor
        self.strategy = None if isinstance(ratio, (int, float)) else ratio
        self.ratio = None if self.strategy is not None else min(max(ratio, 0.0), 1.0)
        self._bound = round((self.ratio or 0.0) * (_TRACE_ID_LOW_BITS + 1))
        self.slow_threshold_ns = None if slow_threshold is None else int(slow_threshold * 1e9)
        self.max_traces = max_traces
        self.max_spans = max_spans
        self.trace_timeout = trace_timeout
        self._decided_capacity = decided_capacity
        self._clock = clock
        self._lock = threading.Lock()
        self._buffers: OrderedDict[int, _Buffered] = OrderedDict()
        self._decided: OrderedDict[int, bool] = OrderedDict()
        self._buffered_spans = 0
        self._capacity_warning_due = False
        self.stats: Counter[str] = Counter()

    # Decisions ---------------------------------------------------------------------

    def _ratio_keeps(self, trace_id: int) -> bool:
        return (trace_id & _TRACE_ID_LOW_BITS) < self._bound

    def _remember(self, trace_id: int, keep: bool) -> None:
        self._decided[trace_id] = keep
        self._decided.move_to_end(trace_id)
        while len(self._decided) > self._decided_capacity:
            self._decided.popitem(last=False)

    def _decide(self, trace_id: int, buffered: _Buffered, root: ReadableSpan | None) -> list:
        """Decide a buffered trace (lock held); returns the spans to forward."""
        self._buffered_spans -= len(buffered.spans)
        if buffered.error:
            keep, reason = True, "error"
        elif (
            root is not None
            and self.slow_threshold_ns is not None
            and root.end_time is not None
            and root.start_time is not None
            and root.end_time - root.start_time >= self.slow_threshold_ns
        ):
            keep, reason = True, "slow"
        elif self.strategy is not None:
            name = root.name if root is not None else buffered.root_name
            keep = self.strategy.keeps(trace_id, name)
            reason = "strategy" if keep else "dropped"
        else:
            keep = self._ratio_keeps(trace_id)
            reason = "ratio" if keep else "dropped"
        self.stats[f"traces_{'kept_' if keep else ''}{reason}"] += 1
        if not keep:
            self.stats["spans_dropped"] += len(buffered.spans)
        self._remember(trace_id, keep)
        return buffered.spans if keep else []

    def _decide_early(self, reason: str) -> list:
        """Decide the oldest buffered trace before its root ended (lock held)."""
        trace_id, buffered = self._buffers.popitem(last=False)
        self.stats[f"early_{reason}"] += 1
        if reason == "capacity" and self.stats["early_capacity"] == 1:
            self._capacity_warning_due = True
        return self._decide(trace_id, buffered, None)

    def _warn_capacity(self) -> None:
        """Logged after the lock is released: a log handler may start spans itself."""
        if not self._capacity_warning_due:
            return
        with self._lock:
            due, self._capacity_warning_due = self._capacity_warning_due, False
        if not due:
            return
        notices.warn(
            _logger,
            f"podcast-kg-otel: tail sampling holds {self.max_traces} traces / "
            f"{self.max_spans} spans at most; deciding the oldest traces before they end "
            "(raise PODCAST_KG_OTEL_TAIL_SAMPLING_MAX_TRACES / _MAX_SPANS to avoid it)",
        )

    def _enforce_limits(self) -> list:
        forward: list = []
        now = self._clock()
        while self._buffers:
            oldest = next(iter(self._buffers.values()))
            if len(self._buffers) > self.max_traces or self._buffered_spans > self.max_spans:
                forward += self._decide_early("capacity")
            elif now - oldest.started > self.trace_timeout:
                forward += self._decide_early("timeout")
            else:
                break
        return forward

    # SpanProcessor -----------------------------------------------------------------

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        context = span.get_span_context()
        trace_id = context.trace_id
        with self._lock:
            if trace_id not in self._buffers and trace_id not in self._decided:
                parent = span.parent
                if parent is not None and parent.is_remote:
                    self._remember(trace_id, parent.trace_flags.sampled)
                    self.stats["traces_follow_parent"] += 1
                else:
                    self._buffers[trace_id] = _Buffered(
                        context.span_id, self._clock(), root_name=span.name
                    )
        self.next_processor.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        context = span.get_span_context()
        trace_id = context.trace_id
        error = span.status.status_code is StatusCode.ERROR
        with self._lock:
            buffered = self._buffers.get(trace_id)
            if buffered is not None:
                buffered.spans.append(span)
                buffered.error = buffered.error or error
                self._buffered_spans += 1
                if context.span_id == buffered.root_span_id:
                    del self._buffers[trace_id]
                    forward = self._decide(trace_id, buffered, span)
                else:
                    forward = []
                forward += self._enforce_limits()
            elif trace_id in self._decided:
                keep = self._decided[trace_id]
                if not keep and error:
                    self._remember(trace_id, True)
                    self.stats["late_errors_kept"] += 1
                    keep = True
                self.stats["late_spans"] += 1
                if not keep:
                    self.stats["spans_dropped"] += 1
                forward = [span] if keep else []
            else:
                # Started before this processor was installed: nothing to hold it for.
                forward = [span]
        self._warn_capacity()
        for kept in forward:
            self.next_processor.on_end(kept)

    def buffered(self) -> tuple[int, int]:
        """(traces, spans) currently held."""
        with self._lock:
            return len(self._buffers), self._buffered_spans

    def reset_after_fork(self) -> None:
        """A forked child starts empty: the buffered spans belong to the parent."""
        self._lock = threading.Lock()
        self._buffers.clear()
        self._decided.clear()
        self._buffered_spans = 0
        self.stats.clear()

    def shutdown(self) -> None:
        with self._lock:
            forward: list = []
            while self._buffers:
                forward += self._decide_early("shutdown")
        for span in forward:
            self.next_processor.on_end(span)
        if self.stats:
            _logger.info("podcast-kg-otel tail sampling: %s", dict(sorted(self.stats.items())))
        self.next_processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        # Traces still in progress stay buffered: flushing them would split them.
        return self.next_processor.force_flush(timeout_millis)
