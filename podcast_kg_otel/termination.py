"""Flush telemetry when the process is stopped with SIGTERM.

Kubernetes, systemd and container runtimes stop a process with SIGTERM. Python's default
disposition kills it at once, without ``atexit``, so every buffered span and every span
still open is lost. When the app has not chosen its own SIGTERM handler, this installs one
that runs the bounded exit (``ExitHandler.run``: end open spans, flush within the exit
budget) and then re-delivers the signal with the default disposition, so the process still
dies by SIGTERM with the status its parent expects. An app that installs its own handler
later replaces ours; its own exit path then runs the usual ``atexit`` flush.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Protocol

from podcast_kg_otel_util.failopen import log_once

_logger = logging.getLogger(__name__)

#: Extra wait past the exit's own bound for the flush thread, so a stuck flush never keeps
#: a terminated process alive.
_JOIN_MARGIN = 1.0


class Exit(Protocol):
    """The bounded exit (``exporting.ExitHandler``)."""

    @property
    def started(self) -> bool: ...

    def run(self) -> None: ...


def install_sigterm_flush(exit_: Exit, max_seconds: float) -> bool:
    """Install the flushing SIGTERM handler if SIGTERM still has its default disposition
    (signals can only be set from the main thread). ``max_seconds`` bounds the exit's own
    run. Returns whether it was installed."""
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return False

    def on_sigterm(signum: int, frame: object) -> None:
        if exit_.started:
            return  # the interpreter is already exiting: let the bounded flush finish
        # The flush runs in its own thread: the main thread may have been interrupted
        # while holding a lock the flush needs (a span's, a queue's), and must not wait
        # on itself. The join is bounded either way.
        worker = threading.Thread(target=_flush_quietly, args=(exit_,), daemon=True)
        worker.start()
        worker.join(max_seconds + _JOIN_MARGIN)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    signal.signal(signal.SIGTERM, on_sigterm)
    return True


def _flush_quietly(exit_: Exit) -> None:
    try:
        exit_.run()
    except Exception:
        log_once(_logger, "sigterm-flush", "podcast-kg-otel: flush on SIGTERM failed")
