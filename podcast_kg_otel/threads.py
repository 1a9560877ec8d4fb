"""Trace context follows work into threads.

Python starts every thread with an empty ``contextvars`` context, so spans made in work
handed to a thread become traces of their own. Here the context current when the work is
handed over travels with it:

* ``threading.Thread`` (subclasses overriding ``run`` and ``threading.Timer`` included):
  captured in ``Thread.start``, attached in the new thread around ``_bootstrap_inner``,
  which calls ``run``;
* ``concurrent.futures.ThreadPoolExecutor.submit`` (and ``map``, and the event loop's
  ``run_in_executor``, which both go through ``submit``): the function is wrapped with the
  context current at submit time.

Nothing is captured when the context is empty, and a function that already runs in a
copied ``contextvars`` context (``asyncio.to_thread``, ``ctx.run``) is not wrapped again.
The worker threads of thread and process pools capture nothing at start: each task brings
its own context, and a worker must not keep its first submitter's span for its lifetime.

This is the distro's own implementation: the contrib ``opentelemetry-instrumentation-
threading`` pins an older ``opentelemetry-instrumentation`` and would downgrade the user's
contrib set.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import wrapt
from opentelemetry.context import Context, attach, detach, get_current
from podcast_kg_otel_util.failopen import guard

from podcast_kg_otel import lazy

_logger = logging.getLogger("podcast_kg_otel.threads")
_CAPTURE = guard(_logger, "thread-start", "podcast-kg-otel: could not capture a thread's context")
_ATTACH = guard(_logger, "thread-run", "podcast-kg-otel: could not attach a thread's context")
_SUBMIT = guard(_logger, "submit", "podcast-kg-otel: could not carry context into a thread pool")

#: Where ``Thread.start`` leaves the context for the new thread to attach.
_CONTEXT_ATTRIBUTE = "_podcast_kg_otel_context"

#: Modules whose threads are pool workers or pool plumbing: they capture nothing at start.
_POOL_MODULES = frozenset(
    {
        "concurrent.futures.thread",
        "concurrent.futures.process",
        "multiprocessing.pool",
        "multiprocessing.queues",
    }
)

_BUILTIN_METHOD = type(len)  # the type of a bound ``Context.run``

_enabled = False


class ContextCall:
    """A function that runs under the context captured when it was handed over."""

    __slots__ = ("context", "function")

    def __init__(self, function: Callable[..., Any], context: Context) -> None:
        self.function = function
        self.context = context

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        token = attach(self.context)
        try:
            return self.function(*args, **kwargs)
        finally:
            detach(token)


def runs_in_copied_context(function: Any) -> bool:
    """Whether ``function`` is ``Context.run`` of a copied ``contextvars`` context, bare or
    in a ``functools.partial`` (``asyncio.to_thread``): it carries its context already."""
    if type(function) is functools.partial:
        function = function.func
    # Type checks only: this runs on every submit made with a context.
    return type(function) is _BUILTIN_METHOD and type(function.__self__) is contextvars.Context


def _is_pool_thread(thread: threading.Thread) -> bool:
    target = getattr(thread, "_target", None)
    return (
        type(thread).__module__ in _POOL_MODULES
        or getattr(target, "__module__", None) in _POOL_MODULES
    )


def _start(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    current = get_current()
    if not current:
        return wrapped(*args, **kwargs)
    captured = False
    with _CAPTURE:
        if not _is_pool_thread(instance):
            instance.__dict__[_CONTEXT_ATTRIBUTE] = current
            captured = True
    try:
        return wrapped(*args, **kwargs)
    except BaseException:
        if captured:  # started twice, or no thread could be made: nothing will attach it
            instance.__dict__.pop(_CONTEXT_ATTRIBUTE, None)
        raise


def _bootstrap_inner(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    token = None
    with _ATTACH:
        captured = instance.__dict__.pop(_CONTEXT_ATTRIBUTE, None)
        token = attach(captured) if captured is not None else None
    if token is None:
        return wrapped(*args, **kwargs)
    try:
        return wrapped(*args, **kwargs)
    finally:
        detach(token)


def _submit(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    current = get_current()
    if not current or not args:
        return wrapped(*args, **kwargs)
    # The guard's own except, not `with _SUBMIT:`: a try costs nothing until it raises,
    # the with statement about 0.15 µs per submit (benchmarks/bench_threads.py pieces).
    try:
        function = args[0]
        call = None if runs_in_copied_context(function) else ContextCall(function, current)
    except Exception as error:
        _SUBMIT.failed(error)
        call = None
    if call is None:
        return wrapped(*args, **kwargs)
    return wrapped(call, *args[1:], **kwargs)


def wrap_once(owner: type, name: str, wrapper: Callable[..., Any]) -> None:
    """Wrap ``owner.name`` unless ``wrapper`` is on it already (instrument, uninstrument and
    instrument again before a lazily hooked module is imported leaves two hooks). Another
    library's wrapt wrapper there is wrapped over, never taken for ours."""
    if getattr(owner.__dict__.get(name), "_self_wrapper", None) is not wrapper:
        wrapt.wrap_function_wrapper(owner, name, wrapper)


def unwrap_own(owner: type, name: str, wrapper: Callable[..., Any]) -> None:
    """Put back what ``wrapper`` wrapped, when it is the outermost wrapper of
    ``owner.name`` (one another library added over ours stays, with ours under it)."""
    current = owner.__dict__.get(name)
    if getattr(current, "_self_wrapper", None) is wrapper:
        setattr(owner, name, current.__wrapped__)


def _wrap_thread_pool(module: ModuleType) -> None:
    if _enabled:
        wrap_once(module.ThreadPoolExecutor, "submit", _submit)


def instrument() -> None:
    """Carry the current context into threads and thread pools (the pool module is
    wrapped when it is first imported)."""
    global _enabled
    if _enabled:
        return
    _enabled = True
    wrap_once(threading.Thread, "start", _start)
    wrap_once(threading.Thread, "_bootstrap_inner", _bootstrap_inner)
    lazy.when_imported("concurrent.futures.thread", _wrap_thread_pool)


def uninstrument() -> None:
    """Restore every original function (a pending pool hook then does nothing)."""
    global _enabled
    if not _enabled:
        return
    _enabled = False
    unwrap_own(threading.Thread, "start", _start)
    unwrap_own(threading.Thread, "_bootstrap_inner", _bootstrap_inner)
    module = sys.modules.get("concurrent.futures.thread")
    if module is not None:
        unwrap_own(module.ThreadPoolExecutor, "submit", _submit)
