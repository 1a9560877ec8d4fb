"""
OpenTelemetry instrumentation for LangChain (``langchain-core``).

It adds one callback handler to every LangChain callback manager, so every chain,
chat model, text LLM, tool, retriever and agent run becomes a span following the
GenAI semantic conventions, with parents taken from LangChain's run tree. Embedding
models, which emit no callbacks, get spans by wrapping their methods.

Usage
-----

.. code-block:: python

    from podcast_kg_otel_langchain import LangChainInstrumentor

    LangChainInstrumentor().instrument()  # or tracer_provider=provider

    chain = prompt | model | StrOutputParser()
    chain.invoke({"topic": "graphs"})  # invoke_workflow RunnableSequence > chat {model}

Under ``opentelemetry-instrument`` it is loaded through the ``podcast_kg_langchain``
entry point; ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=podcast_kg_langchain`` turns it off.

Options (keyword arguments of ``instrument()``, else environment variables)
---------------------------------------------------------------------------

* ``capture_content`` / ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``: record
  prompts, completions, tool arguments and results and retrieval queries (default off).
* ``content_max_length`` / ``PODCAST_KG_OTEL_LANGCHAIN_CONTENT_MAX_LENGTH`` (4096).
* ``show_all_runs`` / ``PODCAST_KG_OTEL_LANGCHAIN_SHOW_ALL_RUNS``: a span for every run,
  including plumbing such as prompt templates, parsers and sequences (default off).
* ``max_open_runs`` / ``PODCAST_KG_OTEL_LANGCHAIN_MAX_OPEN_RUNS`` (10000) and
  ``run_timeout`` / ``PODCAST_KG_OTEL_LANGCHAIN_RUN_TIMEOUT`` (3600 s): bounds of the
  run-to-span map; evicted runs end with ``langchain.run.orphaned=true``.

Suppress Instrumentation
------------------------

Runs started inside ``opentelemetry.instrumentation.utils.suppress_instrumentation()``
get no span.

API
---
"""

from __future__ import annotations

import atexit
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.trace import get_tracer
from wrapt import wrap_function_wrapper

from . import config
from .package import _instruments
from .version import __version__

__all__ = ["LangChainInstrumentor", "__version__"]

_MODULE = "langchain_core.callbacks.manager"


class LangChainInstrumentor(BaseInstrumentor):
    """Adds the span-making callback handler to every configured LangChain callback manager."""

    _handler: Any = None
    _embeddings: Any = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        # Imported here: loading the entry point must not import LangChain.
        from langchain_core.embeddings import Embeddings

        from . import async_ends, async_llm_start, streams
        from .embeddings import EmbeddingsPatcher
        from .handler import OtelCallbackHandler
        from .hook import TARGETS, AddHandler

        tracer = get_tracer(__name__, __version__, kwargs.get("tracer_provider"))
        handler = OtelCallbackHandler(tracer, config.load(kwargs))
        self._handler = handler
        for target in TARGETS:
            wrap_function_wrapper(_MODULE, target, AddHandler(handler))
        wrap_function_wrapper(*async_llm_start.TARGET, async_llm_start.StartWithoutUs(handler))
        wrap_function_wrapper(*async_llm_start.CALL_TARGET, async_llm_start.CallUnderRun(handler))
        for module, target, is_async in streams.TARGETS:
            streams.wrap(module, target, is_async)
        streams.wrap_langgraph_when_imported()
        for module, target in async_ends.END_TARGETS:
            wrap_function_wrapper(module, target, async_ends.detach_after_end)
        for module, target in async_ends.CALL_TARGETS:
            wrap_function_wrapper(module, target, async_ends.detach_after_call)
        self._embeddings = EmbeddingsPatcher(tracer)
        self._embeddings.patch(Embeddings)

    def _uninstrument(self, **kwargs: Any) -> None:
        import langchain_core.callbacks.manager as manager

        from . import async_ends, async_llm_start, streams

        for cls in (manager.CallbackManager, manager.AsyncCallbackManager):
            _unwrap_classmethod(cls, "configure")
        for module, target, *_ in (
            async_llm_start.TARGET,
            async_llm_start.CALL_TARGET,
            *streams.TARGETS,
            *async_ends.END_TARGETS,
            *async_ends.CALL_TARGETS,
        ):
            cls_name, method = target.split(".")
            unwrap(f"{module}.{cls_name}", method)
        streams.unwrap_langgraph()
        if self._embeddings is not None:
            self._embeddings.unpatch()
            self._embeddings = None
        handler = self._handler
        if handler is not None:
            # Managers built earlier still hold the handler: it stops starting spans
            # and ends the ones still open.
            atexit.unregister(handler.end_all)
            handler.enabled = False
            handler.end_all()
            self._handler = None


def _unwrap_classmethod(cls: type, name: str) -> None:
    """Put the original classmethod back.

    `opentelemetry.instrumentation.utils.unwrap` reads the attribute with getattr, which
    binds it: for a classmethod it would restore a method bound to `cls`, and subclasses
    calling it would build the wrong class. The descriptor is read from the class dict.
    """
    descriptor = cls.__dict__.get(name)
    original = getattr(descriptor, "__wrapped__", None)
    if isinstance(original, classmethod):
        setattr(cls, name, original)
