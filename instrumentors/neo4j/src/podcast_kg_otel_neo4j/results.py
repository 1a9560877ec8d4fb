"""Ending a query span when its result is done, without touching the result's laziness.

The driver calls `Result._on_closed` once the summary arrives (records exhausted,
`consume()`, buffering by the next query, or the session/transaction closing) and also
when a FAILURE ends the stream. A broken connection reaches the result through
`_on_error`, and the failure of its transaction through `_tx_failure`. We chain our
callbacks in front of the driver's on that one Result instance only.
"""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry.trace import Span
from podcast_kg_otel_util.failopen import guard

from podcast_kg_otel_neo4j import errors, summary
from podcast_kg_otel_neo4j.state import CURRENT_FAILURE

logger = logging.getLogger(__name__)
_FINISH = guard(logger, "ending a result span")


def _has_summary(metadata: dict) -> bool:
    """Whether the final SUCCESS (with the summary) has been merged into the metadata."""
    return "type" in metadata or "t_last" in metadata or "bookmark" in metadata


class _Watcher:
    """Finishes our span once, then defers to the driver's own callbacks."""

    __slots__ = (
        "done",
        "metadata",
        "namespace_known",
        "on_closed",
        "on_error",
        "span",
        "tx_failure",
    )

    def __init__(self, result: Any, span: Span, namespace_known: bool) -> None:
        self.on_closed = result._on_closed
        self.on_error = result._on_error
        self.tx_failure: Any = None
        self.metadata = result._metadata
        self.span = span
        self.namespace_known = namespace_known
        self.done = False

    def closed(self, *args: Any) -> Any:
        if not self.done:
            self.finish(CURRENT_FAILURE.get(), None)
        return None if self.on_closed is None else self.on_closed(*args)

    def errored(self, exc: BaseException) -> Any:
        if not self.done:
            self.finish(None, exc)
        return None if self.on_error is None else self.on_error(exc)

    def tx_failed(self, exc: BaseException) -> Any:
        if not self.done:
            self.finish(None, exc)
        return self.tx_failure(exc)

    def finish(self, failure: dict | None, exc: BaseException | None) -> None:
        """Once: record the summary (or the failure) on the span and end it."""
        self.done = True
        span = self.span
        try:
            with _FINISH:
                if span.is_recording():
                    if exc is not None:
                        errors.record_exception(span, exc)
                    elif failure is not None and not _has_summary(self.metadata):
                        errors.record_failure(span, failure)
                    summary.apply(span, self.metadata, self.namespace_known)
        finally:
            span.end()


def watch(result: Any, span: Span, namespace_known: bool, in_transaction: bool) -> None:
    """Finish `span` when `result` is done; at once if it already is. Only results of
    a transaction are told of its failure (`_tx_failure`), so only those are hooked there."""
    watcher = _Watcher(result, span, namespace_known)
    if _has_summary(watcher.metadata):
        watcher.finish(None, None)
        return
    if in_transaction:  # every read before the first write: a failed read changes nothing
        watcher.tx_failure = result._tx_failure
    result._on_closed = watcher.closed
    result._on_error = watcher.errored
    if in_transaction:
        result._tx_failure = watcher.tx_failed
