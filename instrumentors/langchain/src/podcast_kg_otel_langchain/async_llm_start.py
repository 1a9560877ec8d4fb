"""Keep the other handlers' start events of async text-LLM runs.

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
run manager it returned, in the caller's task, and gives those run managers the full
handler list back so every handler, ours included, gets the run's end.
"""

from __future__ import annotations

import copy
import logging
from types import MethodType
from typing import Any

from podcast_kg_otel_util.failopen import log_once

_logger = logging.getLogger(__name__)

TARGET = ("langchain_core.callbacks.manager", "AsyncCallbackManager.on_llm_start")


def _fail() -> None:
    log_once(
        _logger,
        "async_llm_start",
        "podcast-kg-otel-langchain: could not trace an async LLM start; "
        "the application is unaffected",
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
        others = None
        try:
            handler = self._handler
            handlers = instance.handlers
            if isinstance(wrapped, MethodType) and any(h is handler for h in handlers):
                others = copy.copy(instance)
                others.handlers = [h for h in handlers if h is not handler]
        except Exception:  # fail open: LangChain's own call, unchanged
            _fail()
            others = None
        if others is None:
            return await wrapped(*args, **kwargs)
        managers = await wrapped.__func__(others, *args, **kwargs)
        try:
            self._start_ours(instance, managers, args, kwargs)
        except Exception:  # fail open
            _fail()
        return managers

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
