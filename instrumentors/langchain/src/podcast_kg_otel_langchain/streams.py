"""Streams keep their own OpenTelemetry context, apart from the code that consumes them.

A generator's frame runs in its consumer's context. LangChain's streaming methods start
their run inside the generator (`on_chain_start`, `on_chat_model_start`), so the run's
attach lands in the consumer's context and stays there between chunks: spans the
consumer makes while handling a chunk would nest under the run. The wrappers here give
each stream a context of its own, the way a task has one: the stream's code resumes in
its own context (the run's span stays current for its steps, model calls and tools),
and the consumer gets its own context back before every chunk is handed to it.

Contexts are switched with `attach` and the token is dropped on purpose: the value is
put back, never reset, so no "Failed to detach context" can come from here, and the
run's own detach (at its end, inside the stream) still happens in the stream's context.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

from opentelemetry.context import _RUNTIME_CONTEXT, Context
from opentelemetry.instrumentation.utils import is_instrumentation_enabled, unwrap
from wrapt import BaseObjectProxy, register_post_import_hook, wrap_function_wrapper

T = TypeVar("T")

# (module, "Class.method", async) of the streaming methods that start a run inside the
# generator. `_transform_stream_with_config` serves every runnable's stream/transform
# (sequences, lambdas, parallels, parsers, generators); models and branches start
# their run in their own `stream`.
TARGETS = (
    ("langchain_core.runnables.base", "Runnable._transform_stream_with_config", False),
    ("langchain_core.runnables.base", "Runnable._atransform_stream_with_config", True),
    ("langchain_core.language_models.chat_models", "BaseChatModel.stream", False),
    ("langchain_core.language_models.chat_models", "BaseChatModel.astream", True),
    ("langchain_core.language_models.llms", "BaseLLM.stream", False),
    ("langchain_core.language_models.llms", "BaseLLM.astream", True),
    ("langchain_core.runnables.branch", "RunnableBranch.stream", False),
    ("langchain_core.runnables.branch", "RunnableBranch.astream", True),
    ("langchain_core.runnables.fallbacks", "RunnableWithFallbacks.stream", False),
    ("langchain_core.runnables.fallbacks", "RunnableWithFallbacks.astream", True),
)

# LangGraph's Pregel starts the graph's run inside its own `stream`/`astream` (which
# `invoke`/`ainvoke` consume). LangGraph is optional: wrapped when it is imported.
LANGGRAPH_MODULE = "langgraph.pregel"
LANGGRAPH_TARGETS = (("Pregel.stream", False), ("Pregel.astream", True))

_get = _RUNTIME_CONTEXT.get_current
_set = _RUNTIME_CONTEXT.attach
_langgraph = {"wanted": False, "hooked": False}


def wrap(module: Any, target: str, is_async: bool) -> None:
    wrap_function_wrapper(module, target, own_context_async if is_async else own_context)


def wrap_langgraph_when_imported() -> None:
    """Wrap Pregel's streams now if LangGraph is imported, else when it is (once)."""
    _langgraph["wanted"] = True
    if not _langgraph["hooked"]:
        _langgraph["hooked"] = True
        register_post_import_hook(_wrap_langgraph, LANGGRAPH_MODULE)  # runs now if imported
    elif LANGGRAPH_MODULE in sys.modules:
        _wrap_langgraph(sys.modules[LANGGRAPH_MODULE])


def unwrap_langgraph() -> None:
    _langgraph["wanted"] = False
    for target, _ in LANGGRAPH_TARGETS:
        cls_name, method = target.split(".")
        unwrap(f"{LANGGRAPH_MODULE}.{cls_name}", method)


def _wrap_langgraph(module: Any) -> None:
    # An import hook cannot be removed: after uninstrument() it must do nothing, and a
    # second instrument() must not wrap twice.
    if not _langgraph["wanted"]:
        return
    for target, is_async in LANGGRAPH_TARGETS:
        cls_name, method = target.split(".")
        if not isinstance(vars(getattr(module, cls_name)).get(method), BaseObjectProxy):
            wrap(module, target, is_async)


def own_context(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    """wrapt wrapper for a generator method: the generator runs in its own context."""
    stream = wrapped(*args, **kwargs)
    return _sync(stream) if is_instrumentation_enabled() else stream


def own_context_async(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    """wrapt wrapper for an async generator method: the same, for `async for`."""
    stream = wrapped(*args, **kwargs)
    return _AsyncOwnContext(stream) if is_instrumentation_enabled() else stream


def _sync(stream: Iterator[T]) -> Iterator[T]:
    own: Context | None = None  # the stream's context; None until it first runs
    thrown: BaseException | None = None
    try:
        while True:
            consumer = _get()
            if own is not None and own is not consumer:
                _set(own)
            try:
                chunk = next(stream) if thrown is None else stream.throw(thrown)  # type: ignore[attr-defined]
            except StopIteration:
                return
            finally:
                thrown = None
                own = _get()
                if own is not consumer:
                    _set(consumer)
            try:
                yield chunk
            except GeneratorExit:
                raise
            except BaseException as exc:  # consumer's throw(): forwarded into the stream
                thrown = exc
    finally:
        # Closed early (or finished): the stream's cleanup, which ends its run, runs
        # in its own context too.
        consumer = _get()
        if own is not None and own is not consumer:
            _set(own)
        try:
            stream.close()  # type: ignore[attr-defined]
        finally:
            if _get() is not consumer:
                _set(consumer)


class _AsyncOwnContext:
    """The async counterpart of `_sync`, as an async iterator rather than an async
    generator: the event loop finalizes abandoned async generators itself, and would
    then close the wrapped stream concurrently with a wrapper closing it (an "already
    running" error). The wrapped stream keeps its own finalization, as without us."""

    __slots__ = ("_own", "_stream")

    def __init__(self, stream: AsyncIterator[Any]) -> None:
        self._stream = stream
        self._own: Context | None = None  # the stream's context; None until it first runs

    def __aiter__(self) -> _AsyncOwnContext:
        return self

    async def _in_own(self, step: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        consumer = _get()
        own = self._own
        if own is not None and own is not consumer:
            _set(own)
        try:
            return await step(*args)
        finally:
            own = self._own = _get()
            if own is not consumer:
                _set(consumer)

    def __anext__(self) -> Awaitable[Any]:
        return self._in_own(self._stream.__anext__)

    def asend(self, value: Any) -> Awaitable[Any]:
        return self._in_own(self._stream.asend, value)  # type: ignore[attr-defined]

    def athrow(self, *args: Any) -> Awaitable[Any]:
        return self._in_own(self._stream.athrow, *args)  # type: ignore[attr-defined]

    def aclose(self) -> Awaitable[Any]:
        return self._in_own(self._stream.aclose)  # type: ignore[attr-defined]
