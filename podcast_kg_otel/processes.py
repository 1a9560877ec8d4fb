"""Trace context follows tasks into process pools, and the workers' spans are not lost.

A task sent to ``multiprocessing.Pool`` (``apply``, ``apply_async``, ``map``,
``map_async``, ``imap``, ``imap_unordered``, ``starmap``, ``starmap_async``) or to
``concurrent.futures.ProcessPoolExecutor`` (``submit``, and ``map``, which goes through it)
runs in the worker under the span current at submit time, with the fork, spawn and
forkserver start methods. The context travels with the task as a W3C ``traceparent``
carrier written by the global propagator: ``ProcessTask``, a picklable module-level
wrapper holding the user's function and the carrier, extracts and attaches it in the worker
around the call.

A pool ends its workers with SIGTERM (``Pool.terminate``, ``with Pool(...)``) or reuses
them for other work, so spans still buffered in a worker can be lost. When a task (for
the map family, a chunk of items) made spans, the worker flushes them before returning
the task's result (bounded by ``PODCAST_KG_OTEL_EXIT_TIMEOUT_MS``, plus up to
``BUILD_EXTRA`` while a worker's first export builds the exporter; a flush still running
from an earlier task, e.g. retrying a collector that is down, is not waited for again).
A task submitted with no context runs with none in the worker (a worker forked while a
span was current would otherwise run it under that span). A worker whose SDK is not
configured runs the task unchanged. Since a worker flushes after each task, it does not
keep the SIGTERM flush (``termination``): each pool's initializer first gives SIGTERM back
its default action (``WorkerStart``), so ``terminate`` always ends the workers.

``multiprocessing.pool.ThreadPool`` runs tasks in threads of the same process: its tasks
carry the context object itself (``threads.ContextCall``), nothing is flushed.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate
from podcast_kg_otel_util.failopen import guard

from podcast_kg_otel import lazy, termination
from podcast_kg_otel.threads import ContextCall, unwrap_own, wrap_once

_logger = logging.getLogger("podcast_kg_otel.processes")
_SIGTERM_RESET = guard(_logger, "worker-start", "podcast-kg-otel: could not reset SIGTERM")
_POOL_INIT = guard(_logger, "pool-init", "podcast-kg-otel: could not set a pool's workers up")
_SUBMIT = guard(_logger, "submit", "podcast-kg-otel: could not carry context into a pool")

#: The Pool methods wrapped, with where their function is (position, keyword). The map
#: family (``map``, ``map_async``, ``starmap``, ``starmap_async``) goes through
#: ``_map_async``, whose ``mapper`` runs one chunk of items: wrapping it carries the context
#: once per chunk and flushes once per chunk, not once per item. ``apply`` calls
#: ``apply_async``; ``imap`` and ``imap_unordered`` send their function per item or chunk.
POOL_METHODS: dict[str, tuple[int, str]] = {
    "apply_async": (0, "func"),
    "imap": (0, "func"),
    "imap_unordered": (0, "func"),
    "_map_async": (2, "mapper"),
}

_enabled = False
#: The distro's batch processors of this process (``stats.ended``, ``force_flush``).
_processors: list[Any] = []
#: Seconds a task's flush waits; ``instrument`` sets it (the exit timeout setting).
_flush_timeout = 0.0
#: The exporter is built on a process's first export (imports, connection): about 0.5 s
#: in a fresh worker, so a flush may wait this much longer while it is being built.
BUILD_EXTRA = 5.0
_flushing: threading.Thread | None = None
_registered_at_fork = False


def _ended() -> int:
    """Spans handed to export so far in this process."""
    return sum(processor.stats.ended for processor in _processors)


def _flush_all(processors: Sequence[Any]) -> None:
    for processor in processors:
        try:
            processor.force_flush()
        except Exception:
            _logger.debug("flushing a worker's spans failed", exc_info=True)


def _after_fork_in_child() -> None:
    """The parent's flush thread is not the child's."""
    global _flushing
    _flushing = None


def _flush() -> None:
    """Export this process's buffered spans, waiting at most the flush timeout."""
    global _flushing
    if _flushing is not None and _flushing.is_alive():
        return  # the collector is slow or down: do not stack flushes
    worker = threading.Thread(
        target=_flush_all, args=(list(_processors),), name="podcast-kg-otel-task-flush"
    )
    worker.daemon = True
    _flushing = worker
    worker.start()
    worker.join(_flush_timeout)
    # A collector that is down does not get the extra wait: only an exporter being built.
    deadline = time.monotonic() + BUILD_EXTRA
    while worker.is_alive() and _exporter_building() and time.monotonic() < deadline:
        worker.join(0.02)


def _exporter_building() -> bool:
    exporters = (getattr(processor, "quiet_exporter", None) for processor in _processors)
    return any(exporter is not None and not exporter.built for exporter in exporters)


class ProcessTask:
    """The user's function and the submitter's context, as a picklable carrier."""

    __slots__ = ("carrier", "function")

    def __init__(self, function: Callable[..., Any], carrier: dict[str, str]) -> None:
        self.function = function
        self.carrier = carrier

    def __reduce__(self) -> tuple[type, tuple[Callable[..., Any], dict[str, str]]]:
        return (ProcessTask, (self.function, self.carrier))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        started = _task_start(self.carrier)
        if started is None:
            return self.function(*args, **kwargs)
        try:
            return self.function(*args, **kwargs)
        finally:
            _task_end(*started)


@guard(_logger, "task-start", "podcast-kg-otel: could not attach a task's context")
def _task_start(carrier: dict[str, str]) -> tuple[Any, int] | None:
    """(token, spans ended so far) once the submitter's context is attached; None: failed."""
    ended = _ended()
    return otel_context.attach(propagate.extract(carrier, otel_context.Context())), ended


@guard(_logger, "task-end", "podcast-kg-otel: could not flush a task's spans")
def _task_end(token: Any, ended: int) -> None:
    """Detach the task's context; flush when the task made spans."""
    otel_context.detach(token)
    if _ended() != ended:
        _flush()


class WorkerStart:
    """A process pool's initializer, picklable: the default SIGTERM action for the worker,
    then the user's own initializer, if any, with its arguments."""

    __slots__ = ("initializer",)

    def __init__(self, initializer: Callable[..., Any] | None) -> None:
        self.initializer = initializer

    def __reduce__(self) -> tuple[type, tuple[Callable[..., Any] | None]]:
        return (WorkerStart, (self.initializer,))

    def __call__(self, *initargs: Any) -> None:
        with _SIGTERM_RESET:
            termination.restore_default_sigterm()
        if self.initializer is not None:
            self.initializer(*initargs)


def _initializer_wrapper(position: int) -> Callable[..., Any]:
    """Wraps a pool's ``__init__``: its ``initializer`` (at ``position`` or by keyword)
    becomes a ``WorkerStart``. A thread pool's, or one that is not callable (the pool
    raises its own error), stays as it is."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        with _POOL_INIT:
            if not isinstance(instance, _thread_pools):
                args, kwargs = _replace_initializer(args, kwargs, position)
        return wrapped(*args, **kwargs)

    return wrapper


def _replace_initializer(args: Any, kwargs: Any, position: int) -> tuple[Any, Any]:
    if len(args) > position:
        initializer = args[position]
        if initializer is None or callable(initializer):
            args = (*args[:position], WorkerStart(initializer), *args[position + 1 :])
        return args, kwargs
    initializer = kwargs.get("initializer")
    if initializer is None or callable(initializer):
        kwargs = {**kwargs, "initializer": WorkerStart(initializer)}
    return args, kwargs


def _carry(function: Any, in_process: bool) -> Any:
    """``function`` wrapped with the current context.

    A thread pool's task goes as it is when no context is current. A process pool's task
    is always wrapped: a worker forked while a span was current would otherwise run it
    under that span, and its spans are flushed all the same.
    """
    current = otel_context.get_current()
    if in_process:
        return ContextCall(function, current) if current else function
    carrier: dict[str, str] = {}
    if current:
        propagate.inject(carrier, current)
    return ProcessTask(function, carrier)


def _replace_function(
    args: Any, kwargs: Any, where: tuple[int, str], in_process: bool
) -> tuple[Any, Any]:
    position, keyword = where
    if len(args) > position:
        function = _carry(args[position], in_process)
        return (*args[:position], function, *args[position + 1 :]), kwargs
    if keyword in kwargs:
        return args, {**kwargs, keyword: _carry(kwargs[keyword], in_process)}
    return args, kwargs


def _wrapper(where: tuple[int, str]) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        with _SUBMIT:
            in_process = isinstance(instance, _thread_pools)
            args, kwargs = _replace_function(args, kwargs, where, in_process)
        return wrapped(*args, **kwargs)

    return wrapper


#: ``multiprocessing.pool.ThreadPool`` once that module is wrapped: its tasks stay in process.
_thread_pools: tuple[type, ...] = ()
_POOL_WRAPPERS = {name: _wrapper(where) for name, where in POOL_METHODS.items()}
_EXECUTOR_WRAPPER = _wrapper((0, "fn"))
#: ``Pool(processes, initializer, ...)``, ``ProcessPoolExecutor(max_workers, mp_context,
#: initializer, ...)``.
_POOL_INIT_WRAPPER = _initializer_wrapper(1)
_EXECUTOR_INIT_WRAPPER = _initializer_wrapper(2)


def _wrap_pool(module: ModuleType) -> None:
    global _thread_pools
    if not _enabled:
        return
    _thread_pools = (module.ThreadPool,)
    for name, wrapper in _POOL_WRAPPERS.items():
        wrap_once(module.Pool, name, wrapper)
    wrap_once(module.Pool, "__init__", _POOL_INIT_WRAPPER)


def _wrap_executor(module: ModuleType) -> None:
    if _enabled:
        wrap_once(module.ProcessPoolExecutor, "submit", _EXECUTOR_WRAPPER)
        wrap_once(module.ProcessPoolExecutor, "__init__", _EXECUTOR_INIT_WRAPPER)


def instrument(processors: Sequence[Any] = (), flush_timeout: float = 0.0) -> None:
    """Carry the current context into process pools (wrapped when their modules are
    first imported); ``processors`` are flushed after a task that made spans, each flush
    waiting up to ``flush_timeout`` seconds (the runtime passes the exit timeout)."""
    global _enabled, _flush_timeout, _registered_at_fork
    _processors[:] = processors
    _flush_timeout = flush_timeout
    if _enabled:
        return
    _enabled = True
    if not _registered_at_fork:
        _registered_at_fork = True
        os.register_at_fork(after_in_child=_after_fork_in_child)
    lazy.when_imported("multiprocessing.pool", _wrap_pool)
    lazy.when_imported("concurrent.futures.process", _wrap_executor)


def uninstrument() -> None:
    """Restore every original method (a pending hook then does nothing)."""
    global _enabled
    if not _enabled:
        return
    _enabled = False
    _processors.clear()
    pool = sys.modules.get("multiprocessing.pool")
    if pool is not None:
        for name, wrapper in _POOL_WRAPPERS.items():
            unwrap_own(pool.Pool, name, wrapper)
        unwrap_own(pool.Pool, "__init__", _POOL_INIT_WRAPPER)
    executor = sys.modules.get("concurrent.futures.process")
    if executor is not None:
        unwrap_own(executor.ProcessPoolExecutor, "submit", _EXECUTOR_WRAPPER)
        unwrap_own(executor.ProcessPoolExecutor, "__init__", _EXECUTOR_INIT_WRAPPER)
