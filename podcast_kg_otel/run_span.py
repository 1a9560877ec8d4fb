"""One span around the whole program run (opt-in: ``PODCAST_KG_OTEL_RUN_SPAN``).

A short command-line run often has no one function that covers its work, and without a
root each top-level step (an HTTP call, a query, a chain) is a trace of its own. With this
on, the distro starts one span at start-up, named after the command (``main.py`` for
``python main.py``, ``pipeline`` for ``python -m pipeline``), and makes it current in the
main thread for the rest of the run: every span made there, traced functions included,
nests under it. A thread nests under it when it starts within its context (thread context
propagation carries the context current at ``start``/``submit``).

It ends at exit before the bounded exit flushes, so it is exported as a finished span,
never marked as ended at exit, with ``process.exit.code``: 0 for a normal end, the
``sys.exit`` code, or 1 for an uncaught exception, which is also recorded on it with ERROR
status (a non-zero exit code sets ERROR too). The code is seen through ``sys.exit`` (how
argparse, click and console scripts exit); a bare ``raise SystemExit(n)`` reads as 0, as
nothing tells an ``atexit`` handler the exit status. A process stopped by SIGTERM ends it through
the bounded exit, marked ``podcast_kg_otel.span.ended_at_exit``. Forked children and
``multiprocessing`` workers never start or end one: their spans join the submitter's trace.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.semconv._incubating.attributes.process_attributes import PROCESS_EXIT_CODE
from opentelemetry.trace import SpanKind, Status, StatusCode
from podcast_kg_otel_util.failopen import guard

from podcast_kg_otel.interpreter import command_name
from podcast_kg_otel.spans import get_tracer, record_failure

_logger = logging.getLogger("podcast_kg_otel.run_span")


def _exit_code(status: object) -> int:
    """The process exit status ``sys.exit(status)`` gives."""
    if status is None:
        return 0
    if isinstance(status, int):
        return status
    return 1  # a message is printed to stderr and the status is 1


class RunSpan:
    """The run's span: records how the run ended, and ends once, in its own process."""

    def __init__(self, span: trace.Span) -> None:
        self.span = span
        self._pid = os.getpid()
        self._exit_code: int | None = None
        self._failed = False
        self._ended = False

    def _mine(self) -> bool:
        return os.getpid() == self._pid and threading.current_thread() is threading.main_thread()

    def note_exit(self, status: object) -> None:
        """``sys.exit(status)`` was called in the main thread."""
        if self._mine():
            self._exit_code = _exit_code(status)

    def note_uncaught(self, error: BaseException) -> None:
        """The main thread dies of ``error``."""
        if not self._mine():
            return
        self._failed = True
        # After an uncaught KeyboardInterrupt the interpreter kills itself with SIGINT.
        self._exit_code = None if isinstance(error, KeyboardInterrupt) else 1
        record_failure(self.span, error)  # type: ignore[arg-type]

    def end(self) -> None:
        """At exit, before the bounded exit flushes."""
        if self._ended or os.getpid() != self._pid:
            return
        self._ended = True
        with guard(_logger, "ending the run span"):
            code = self._exit_code
            if code is None and not self._failed:
                code = 0
            if code is not None:
                self.span.set_attribute(PROCESS_EXIT_CODE, code)
            if code and not self._failed:
                self.span.set_status(Status(StatusCode.ERROR, f"exit code {code}"))
            self.span.end()


def _recording_excepthook(run: RunSpan, previous: Callable[..., Any]) -> Callable[..., Any]:
    def excepthook(exc_type: type[BaseException], error: BaseException, tb: Any) -> None:
        with guard(_logger, "recording the run's uncaught exception"):
            run.note_uncaught(error)
        previous(exc_type, error, tb)

    return excepthook


def _recording_exit(run: RunSpan, previous: Callable[..., NoReturn]) -> Callable[..., NoReturn]:
    def exit(status: object = None) -> NoReturn:
        with guard(_logger, "recording the run's exit code"):
            run.note_exit(status)
        previous(status)

    exit.__doc__ = previous.__doc__
    return exit


def start_run_span(
    tracer_provider: trace.TracerProvider, argv: Sequence[str] | None = None
) -> RunSpan | None:
    """Start the run's span and make it current in this (main) thread; None when this
    interpreter is not a run of its own (REPL, multiprocessing helper) or not the main
    thread."""
    if threading.current_thread() is not threading.main_thread():
        return None
    name = command_name(sys.orig_argv if argv is None else argv)
    if name is None:
        return None
    tracer = get_tracer(tracer_provider=tracer_provider)
    span = tracer.start_span(name, context=Context(), kind=SpanKind.INTERNAL)
    context_api.attach(trace.set_span_in_context(span))  # for the rest of the run
    run = RunSpan(span)
    sys.excepthook = _recording_excepthook(run, sys.excepthook)
    sys.exit = _recording_exit(run, sys.exit)
    atexit.register(run.end)
    return run
