"""Ending a query span when its result is done, without touching the result's laziness.

The driver calls `Result._on_closed` once the summary arrives (records exhausted,
`consume()`, buffering by the next query, or the session/transaction closing) and also
when a FAILURE ends the stream. We chain our callback in front of the driver's on that
one Result instance. If the result is never closed (its transaction broke), the span
is ended when the Result is garbage collected.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

from opentelemetry.trace import Span
from podcast_kg_otel_util.failopen import log_once

from podcast_kg_otel_neo4j import errors, summary
from podcast_kg_otel_neo4j.state import CURRENT_FAILURE, Unit

logger = logging.getLogger(__name__)
_SUMMARY_KEYS = ("type", "t_last", "bookmark", "stats")


class _Watcher:
    """Stands in for `Result._on_closed`: finishes our span, then calls the driver's."""

    __slots__ = ("done", "metadata", "namespace_known", "original", "span", "unit")

    def __init__(
        self,
        original: Any,
        metadata: dict,
        span: Span | None,
        unit: Unit | None,
        namespace_known: bool,
    ) -> None:
        self.original = original
        self.metadata = metadata
        self.span = span
        self.unit = unit
        self.namespace_known = namespace_known
        self.done = False

    def __call__(self, *args: Any) -> Any:
        try:
            self.finish(CURRENT_FAILURE.get())
        except Exception:  # fail open
            log_once(logger, "result.closed", "podcast-kg-otel: neo4j result span error")
        if self.original is None:
            return None
        return self.original(*args)

    def finish(self, failure: dict | None) -> None:
        if self.done:
            return
        self.done = True
        metadata = self.metadata
        if self.unit is not None:
            self.unit.metadata = metadata
            return
        span = self.span
        if span is None:
            return
        try:
            if span.is_recording():
                if failure is not None and not any(key in metadata for key in _SUMMARY_KEYS):
                    errors.record_failure(span, failure)
                summary.apply(span, metadata, self.namespace_known)
        finally:
            span.end()

    def abandon(self) -> None:
        try:
            self.finish(None)
        except Exception:  # fail open
            log_once(logger, "result.abandoned", "podcast-kg-otel: neo4j result span error")


def watch(result: Any, span: Span | None, unit: Unit | None, namespace_known: bool) -> None:
    """Finish `span` (or feed `unit`) when `result` is done; at once if it already is."""
    metadata = result._metadata
    watcher = _Watcher(result._on_closed, metadata, span, unit, namespace_known)
    if any(key in metadata for key in _SUMMARY_KEYS):
        watcher.finish(None)
        return
    result._on_closed = watcher
    if span is not None:
        weakref.finalize(result, watcher.abandon)
