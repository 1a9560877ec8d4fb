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

from typing import Any

from . import scope

_MODULE = "langchain_core.callbacks.manager"

# (module, "Class.method"): every shielded end callback, and the model calls that
# deliver their end through `asyncio.gather`.
TARGETS = (
    (_MODULE, "AsyncCallbackManagerForChainRun.on_chain_end"),
    (_MODULE, "AsyncCallbackManagerForChainRun.on_chain_error"),
    (_MODULE, "AsyncCallbackManagerForLLMRun.on_llm_end"),
    (_MODULE, "AsyncCallbackManagerForLLMRun.on_llm_error"),
    (_MODULE, "AsyncCallbackManagerForRetrieverRun.on_retriever_end"),
    (_MODULE, "AsyncCallbackManagerForRetrieverRun.on_retriever_error"),
    ("langchain_core.language_models.chat_models", "BaseChatModel.agenerate"),
    ("langchain_core.language_models.llms", "BaseLLM.agenerate"),
)


async def detach_after(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    """wrapt wrapper: await the end (or the whole model call), then undo the attach
    of that run, and of any ended run of ours, on top of the context here."""
    try:
        return await wrapped(*args, **kwargs)
    finally:
        scope.settle(getattr(instance, "run_id", None))
