"""The OTLP exporters' retry backoff, cut short at exit.

A batch that failed is retried by the OTLP exporter after 1, 2, 4 ... seconds, waiting on
its shutdown event. A collector that comes back while the exporter sleeps gets nothing
until the sleep ends, and at exit the process stops waiting long before that: every
queued span was lost though the collector was answering again (a collector restarted
just before a batch job ends). ``RetryWait`` takes the place of that event: ``set()``
still means shutdown, and ``hurry()`` (the exit) ends the current wait and every later
one at once, so the batch is retried now and the exit's budget decides what is sent.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from podcast_kg_otel_util.failopen import guard

#: Where each OTLP exporter keeps the event its retry loop waits on: the HTTP exporters'
#: client, and the gRPC exporters themselves.
_EVENT_HOLDERS = (("_client", "_shutdown_event"), ("", "_shutdown_in_progress"))


class RetryWait:
    """Stands in for ``threading.Event`` where a retry loop waits out its backoff."""

    def __init__(self, already_set: bool = False) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._set = already_set
        self._hurried = False

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        with self._condition:
            self._set = True
            self._condition.notify_all()

    def clear(self) -> None:
        with self._condition:
            self._set = False

    def wait(self, timeout: float | None = None) -> bool:
        """Like ``Event.wait``: True when set (shutdown). Returns False at once when
        hurried, so the caller retries instead of sleeping."""
        with self._condition:
            self._condition.wait_for(lambda: self._set or self._hurried, timeout)
            return self._set

    def hurry(self) -> None:
        """End the wait in progress and every later one without waiting."""
        with self._condition:
            self._hurried = True
            self._condition.notify_all()


@guard(logging.getLogger("podcast_kg_otel.export"), "retry wait")
def install(exporter: Any) -> RetryWait | None:
    """Put a ``RetryWait`` where ``exporter``'s retry loop waits; None for an exporter
    without one (not an OTLP exporter, or one whose internals changed)."""
    for holder_name, event_name in _EVENT_HOLDERS:
        holder = getattr(exporter, holder_name, None) if holder_name else exporter
        event = getattr(holder, event_name, None)
        if isinstance(event, threading.Event):
            wait = RetryWait(already_set=event.is_set())
            setattr(holder, event_name, wait)
            return wait
    return None
