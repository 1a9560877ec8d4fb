"""Flush telemetry when the process is stopped with SIGTERM.

Kubernetes, systemd and container runtimes stop a process with SIGTERM. Python's default
disposition kills it at once, without ``atexit``, so every buffered span and every span
still open is lost. When the app has not chosen its own SIGTERM handler, this installs one
that runs the bounded exit (``ExitHandler.run``: end open spans, flush within the exit
budget) and then re-delivers the signal with the default disposition, so the process still
dies by SIGTERM with the status its parent expects. An app that installs its own handler
later replaces ours; its own exit path then runs the usual ``atexit`` flush.

Python runs the handler in the main thread, between two bytecodes of whatever it was
doing. If that was telemetry code (a span half-way through ``end()``, holding its lock or
ended but not yet queued; our queue's lock; a logging handler's), ending spans there
would collide with it: the SDK warns ``Setting attribute on ended span.`` and the span is
lost. So the handler first looks at the interrupted stack; while it is inside such code
the signal is delivered again a moment later, and the exit runs once the main thread is
stopped in the app's own code, on the main thread itself.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import Protocol

from podcast_kg_otel_util.failopen import guard

_logger = logging.getLogger(__name__)

#: Extra wait past the exit's own bound for the fallback flush thread, so a stuck flush
#: never keeps a terminated process alive.
_JOIN_MARGIN = 1.0
#: How long the exit waits for the main thread to leave telemetry code, and how often it
#: looks again. Past the limit (a main thread blocked inside an export, say) the exit runs
#: in a helper thread instead.
_DEFER_LIMIT = 1.0
_DEFER_STEP = 0.002


def _code_roots() -> tuple[str, ...]:
    """Source folders whose frames may hold a lock the exit needs."""
    import opentelemetry.sdk.trace

    import podcast_kg_otel

    sdk_trace = os.path.dirname(opentelemetry.sdk.trace.__file__)
    folders = [
        os.path.dirname(os.path.dirname(sdk_trace)),  # the opentelemetry tree
        os.path.dirname(podcast_kg_otel.__file__),
        os.path.dirname(logging.__file__),
    ]
    return tuple(os.path.join(folder, "") for folder in folders)


_STDLIB = os.path.join(os.path.dirname(os.__file__), "")
#: ``threading`` functions that hold its module locks, which starting the flush thread needs.
_THREADING_CRITICAL = {"start", "_stop", "_delete", "_after_fork"}


def interrupted_in(frame: FrameType | None, roots: tuple[str, ...]) -> str:
    """What the main thread was interrupted in: ``"threading"`` inside ``threading``'s own
    locks (no thread may be started), ``"telemetry"`` in code that may hold a lock the
    exit needs, ``""`` in the app's own code.

    Only the innermost frames count, down to the first frame of the app's (or a third
    party's) code: our wrappers and the SDK's context managers hold no lock while the code
    they wrap runs.
    """
    threading_file = threading.__file__
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename == threading_file and frame.f_code.co_name in _THREADING_CRITICAL:
            return "threading"
        if filename.startswith(roots):
            return "telemetry"
        standard = filename.startswith(_STDLIB) and "site-packages" not in filename
        # "<frozen ...>", and "<string>": code generated at run time (a dataclass's
        # ``__init__``, a namedtuple's ``__new__``) belongs to the code that called it.
        if not (standard or filename.startswith("<")):
            return ""
        frame = frame.f_back
    return ""


class Exit(Protocol):
    """The bounded exit (``exiting.ExitHandler``)."""

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
    roots = _code_roots()
    first_seen: list[float] = []

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        if exit_.started:
            return  # the interpreter is already exiting: let the bounded flush finish
        now = time.monotonic()
        if not first_seen:
            first_seen.append(now)
        where = interrupted_in(frame, roots)
        if where:
            if where == "threading" or now - first_seen[0] < _DEFER_LIMIT:
                _deliver_again(signum, later=where != "threading")
                return
            _flush_in_thread(exit_, max_seconds)  # the main thread may hold what it needs
        else:
            _flush_quietly(exit_)  # the main thread is stopped in the app's code
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    on_sigterm.podcast_kg_otel_flush = True  # type: ignore[attr-defined]
    signal.signal(signal.SIGTERM, on_sigterm)
    return True


def restore_default_sigterm() -> None:
    """Give SIGTERM back its default disposition if it is our flushing handler (from the
    main thread only; another handler stays).

    For process-pool workers: their pool ends them with SIGTERM while their main thread
    blocks in the task queue's lock, where a Python handler may never run (the signal
    can be taken by another thread, and the lock wait is not interrupted), so the worker
    would live on and the pool's ``terminate`` would wait for it forever. A worker
    flushes after each task instead (``processes``)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if getattr(signal.getsignal(signal.SIGTERM), "podcast_kg_otel_flush", False):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _deliver_again(signum: int, later: bool) -> None:
    """Send ``signum`` to the main thread again, so the handler runs once the main thread
    has run on out of the code it was interrupted in: shortly, from a helper thread, or
    (when no thread may be started) right away, which Python handles a few bytecodes on."""
    if not later:
        os.kill(os.getpid(), signum)
        return
    main = threading.main_thread().ident

    def later() -> None:
        time.sleep(_DEFER_STEP)
        if main is not None:
            signal.pthread_kill(main, signum)

    threading.Thread(target=later, name="podcast-kg-otel-sigterm", daemon=True).start()


def _flush_in_thread(exit_: Exit, max_seconds: float) -> None:
    worker = threading.Thread(target=_flush_quietly, args=(exit_,), daemon=True)
    worker.start()
    worker.join(max_seconds + _JOIN_MARGIN)


def _flush_quietly(exit_: Exit) -> None:
    try:
        with guard(_logger, "sigterm-flush", "podcast-kg-otel: flush on SIGTERM failed"):
            exit_.run()
    finally:
        sys.stderr.flush()
