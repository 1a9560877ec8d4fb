"""The OTLP exporters' retry backoff, cut short at exit.

A batch that failed is retried by the OTLP exporter after 1, 2, 4 ... seconds, waiting on
its shutdown event. A collector that comes back while the exporter sleeps gets nothing
until the sleep ends, and at exit the process stops waiting long before that: every
queued span was lost though the collector was answering again (a collector restarted
just before a batch job ends). ``RetryWait`` takes the place of that event: ``set()``
still means shutdown, and ``hurry()`` (the exit) ends the current wait and every later
one at once, so the batch is retried now and the exit's budget decides what is sent.

A gRPC channel that failed to connect waits out a reconnect backoff of its own (a second
or more) and fails every call at once meanwhile, so the retries of a hurried batch would
all fail on it: ``hurry()`` gives a sleeping gRPC exporter a new channel first, as the
exporter itself does after its first UNAVAILABLE.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from podcast_kg_otel_util.failopen import guard

_logger = logging.getLogger("podcast_kg_otel.export")
_RECONNECT = guard(_logger, "gRPC reconnect at exit")


class RetryWait:
    """Stands in for ``threading.Event`` where a retry loop waits out its backoff."""

    def __init__(
        self, already_set: bool = False, reconnect: Callable[[], None] | None = None
    ) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._set = already_set
        self._hurried = False
        self._waiting = 0
        self._reconnect = reconnect

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
            self._waiting += 1
            try:
                self._condition.wait_for(lambda: self._set or self._hurried, timeout)
            finally:
                self._waiting -= 1
            return self._set

    def hurry(self) -> None:
        """End the wait in progress and every later one without waiting."""
        with self._condition:
            self._hurried = True
            if self._waiting and self._reconnect is not None:  # no call is in flight
                with _RECONNECT:
                    self._reconnect()
            self._condition.notify_all()


def _grpc_reconnect(exporter: Any) -> Callable[[], None] | None:
    initialize = getattr(exporter, "_initialize_channel_and_stub", None)
    if initialize is None:
        return None

    def reconnect() -> None:
        if exporter._channel is not None:
            exporter._channel.close()
        initialize()

    return reconnect


@guard(_logger, "retry wait")
def install(exporter: Any) -> RetryWait | None:
    """Put a ``RetryWait`` where ``exporter``'s retry loop waits (the HTTP exporters'
    client's ``_shutdown_event``, the gRPC exporters' ``_shutdown_in_progress``); None for
    an exporter without one (not an OTLP exporter, or one whose internals changed)."""
    client = getattr(exporter, "_client", None)
    event = getattr(client, "_shutdown_event", None)
    if isinstance(event, threading.Event):
        wait = RetryWait(already_set=event.is_set())
        client._shutdown_event = wait
        return wait
    event = getattr(exporter, "_shutdown_in_progress", None)
    if isinstance(event, threading.Event):
        wait = RetryWait(already_set=event.is_set(), reconnect=_grpc_reconnect(exporter))
        exporter._shutdown_in_progress = wait
        return wait
    return None
