"""Undo a run's attach in the caller's task after LangChain's shielded end callbacks.

The async run managers' `on_chain_end`/`on_llm_end`/`on_retriever_end` (and their
`*_error`) are `@shielded`: they run the callbacks in a new task created with a copy of
the caller's context (`asyncio.create_task(coro, context=copy_context())` under
`asyncio.shield`). Our detach there resets a token that belongs to the caller's
context, which Python refuses ("created in a different Context"), so the caller kept
our stand-in span as its current span after `await chain.ainvoke(...)`.

Wrapping those methods lets the detach happen after the shielded task is done, back in
the caller's own task and context, where the attach was made. Chat models and text LLMs
deliver `on_llm_end` through `asyncio.gather` (one more task, one more copied context),
so their `agenerate` is wrapped the same way. It is silent: it only undoes our
stand-ins that are still on top of the caller's context.
"""

from __future__ import annotations

import logging
from typing import Any

from podcast_kg_otel_util.failopen import guard

from . import scope

_logger = logging.getLogger(__name__)

_MODULE = "langchain_core.callbacks.manager"

# (module, "Class.method") of every shielded end callback: its run manager has the run id.
END_TARGETS = (
    (_MODULE, "AsyncCallbackManagerForChainRun.on_chain_end"),
    (_MODULE, "AsyncCallbackManagerForChainRun.on_chain_error"),
    (_MODULE, "AsyncCallbackManagerForLLMRun.on_llm_end"),
    (_MODULE, "AsyncCallbackManagerForLLMRun.on_llm_error"),
    (_MODULE, "AsyncCallbackManagerForRetrieverRun.on_retriever_end"),
    (_MODULE, "AsyncCallbackManagerForRetrieverRun.on_retriever_error"),
)
# The model calls that deliver `on_llm_end` through `asyncio.gather`: their runs have
# ended when they return.
CALL_TARGETS = (
    ("langchain_core.language_models.chat_models", "BaseChatModel.agenerate"),
    ("langchain_core.language_models.llms", "BaseLLM.agenerate"),
)


async def detach_after_end(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    """wrapt wrapper: await the shielded end, then undo the attach of that run (and of
    any ended run of ours) on top of the context here."""
    try:
        return await wrapped(*args, **kwargs)
    finally:
        _settle(instance.run_id)


async def detach_after_call(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    """wrapt wrapper: await the model call, then undo the attach of its ended runs."""
    try:
        return await wrapped(*args, **kwargs)
    finally:
        _settle(None)


@guard(
    _logger,
    "settle",
    "podcast-kg-otel-langchain: could not restore the caller's context "
    "after an async LangChain call",
)
def _settle(run_id: Any) -> None:
    scope.settle(run_id)
