"""Async text-LLM runs: the other handlers keep their start events, and the provider
call runs under the run's span.

With any handler whose `run_inline` is true registered, langchain-core's
`AsyncCallbackManager.on_llm_start` calls only the inline handlers' `on_llm_start`; the
others still get the run's end, never its start (langchain-ai/langchain#39633, chat
models and sync code are not affected). Ours must be inline: its start attaches the
run's span in the caller's task, which is how the step's own work finds its parent.
Registered as is, it would make async completion LLMs vanish from `astream_events`,
`astream_log` and `collect_runs`, and give a user's own async handler an end without a
start.

So the wrapper runs LangChain's `on_llm_start` on a copy of the manager without our
handler, exactly what LangChain does without us installed, then starts our run for each
run manager it returned, in the task that called it, and gives those run managers the full
handler list back so every handler, ours included, gets the run's end.

`BaseLLM.agenerate` starts its runs through `asyncio.gather`, in a task of their own, so
the attach made at our start never reaches the provider call: an HTTP span made in
`_acall` would land under the chain, not the model run. `BaseLLM._agenerate_helper`,
which makes that call, is wrapped to make the run's span current around it (one prompt,
one run; a multi-prompt `agenerate` has no single run to choose).
"""

from __future__ import annotations

import copy
import logging
from types import MethodType
from typing import Any

from opentelemetry.context import _RUNTIME_CONTEXT
from opentelemetry.trace import set_span_in_context
from podcast_kg_otel_util.failopen import guard

_logger = logging.getLogger(__name__)

TARGET = ("langchain_core.callbacks.manager", "AsyncCallbackManager.on_llm_start")
CALL_TARGET = ("langchain_core.language_models.llms", "BaseLLM._agenerate_helper")


_GUARD = guard(
    _logger,
    "async_llm_start",
    "podcast-kg-otel-langchain: could not trace an async LLM start; the application is unaffected",
)


def _bind(
    serialized: Any, prompts: Any, run_id: Any = None, **kwargs: Any
) -> tuple[Any, Any, dict[str, Any]]:
    """`AsyncCallbackManager.on_llm_start`'s parameters, by name."""
    return serialized, prompts, kwargs


class StartWithoutUs:
    """wrapt wrapper of `AsyncCallbackManager.on_llm_start` (see the module docstring)."""

    __slots__ = ("_handler",)

    def __init__(self, handler: Any) -> None:
        self._handler = handler

    async def __call__(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        others = _without(self._handler, instance, wrapped)
        if others is None:  # LangChain's own call, unchanged
            return await wrapped(*args, **kwargs)
        managers = await wrapped.__func__(others, *args, **kwargs)
        self._start_ours(instance, managers, args, kwargs)
        return managers

    @_GUARD
    def _start_ours(self, instance: Any, managers: Any, args: Any, kwargs: Any) -> None:
        handler = self._handler
        serialized, prompts, extra = _bind(*args, **kwargs)
        for manager in managers:
            # What LangChain gives the run managers it builds: the manager's own lists.
            manager.handlers = instance.handlers
            manager.inheritable_handlers = instance.inheritable_handlers
        if handler.ignore_llm:
            return
        for prompt, manager in zip(prompts, managers, strict=True):
            handler.on_llm_start(
                serialized,
                [prompt],
                run_id=manager.run_id,
                parent_run_id=instance.parent_run_id,
                tags=instance.tags,
                metadata=instance.metadata,
                **extra,
            )


@_GUARD
def _without(handler: Any, instance: Any, wrapped: Any) -> Any:
    """A copy of the callback manager `instance` without our handler; None when ours is
    not among its handlers (or our code failed)."""
    handlers = instance.handlers
    if not isinstance(wrapped, MethodType) or not any(h is handler for h in handlers):
        return None
    others = copy.copy(instance)
    others.handlers = [h for h in handlers if h is not handler]
    return others


def _run_managers(prompts: Any, stop: Any, run_managers: Any, *args: Any, **kwargs: Any) -> Any:
    """`BaseLLM._agenerate_helper`'s `run_managers` parameter."""
    return run_managers


class CallUnderRun:
    """wrapt wrapper of `BaseLLM._agenerate_helper` (see the module docstring)."""

    __slots__ = ("_handler",)

    def __init__(self, handler: Any) -> None:
        self._handler = handler

    async def __call__(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        token = self._attach(args, kwargs)
        try:
            return await wrapped(*args, **kwargs)
        finally:
            if token is not None:
                _detach(token)

    @_GUARD
    def _attach(self, args: Any, kwargs: Any) -> Any:
        """Make the single run's span current for the call; the token, or None."""
        run_managers = _run_managers(*args, **kwargs)
        if len(run_managers) != 1:
            return None
        entry = self._handler.open_run(run_managers[0].run_id)
        if entry is None:
            return None
        return _RUNTIME_CONTEXT.attach(set_span_in_context(entry.span, entry.parent_ctx))


@_GUARD  # attached and detached in this task, so not expected to fail
def _detach(token: Any) -> None:
    _RUNTIME_CONTEXT.detach(token)
