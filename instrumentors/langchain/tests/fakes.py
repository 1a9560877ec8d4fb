"""Fake models and runnables for the tests: real langchain-core classes, no network."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.documents import Document
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.retrievers import BaseRetriever

USAGE = {"input_tokens": 12, "output_tokens": 3, "total_tokens": 15}


class ModelChat(GenericFakeChatModel):
    """A fake chat model that names its model and reports its sampling settings."""

    model: str = "fake-model-1"
    temperature: float = 0.2
    max_tokens: int = 64

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "mistralai"  # as langchain-mistralai reports it
        return params


class UsageStreamingChat(ModelChat):
    """Reports token usage when streaming, as real provider integrations do."""

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        yield from super()._stream(messages, stop, run_manager, **kwargs)
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata=USAGE,
                response_metadata={"model_name": "fake-model-1-0611", "finish_reason": "stop"},
            )
        )


class EarlyUsageChat(ModelChat):
    """Reports input usage in its first chunk, as Anthropic's message_start does."""

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata={"input_tokens": 12, "output_tokens": 0, "total_tokens": 12},
            )
        )
        yield from super()._stream(messages, stop, run_manager, **kwargs)


class FailingChat(ModelChat):
    """A chat model whose provider call fails."""

    def _generate(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("model server unreachable")


def answer(text: str = "hello world") -> AIMessage:
    return AIMessage(
        content=text,
        usage_metadata=USAGE,
        response_metadata={"model_name": "fake-model-1-0611", "finish_reason": "stop"},
    )


def chat(*texts: str, cls: type[ModelChat] = ModelChat) -> ModelChat:
    """A model answering `texts` in turn (cycling, so it can be invoked many times)."""
    replies = [answer(t) for t in texts or ("hello world",)]

    def forever() -> Iterator[AIMessage]:
        while True:
            yield from replies

    return cls(messages=forever())


class ListRetriever(BaseRetriever):
    """Returns a fixed list of documents."""

    documents: list[Document]

    def _get_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
        return list(self.documents)


class HttpStreamingChat(ModelChat):
    """Makes a client span for every chunk it reads, as an instrumented HTTP client
    reading a server-sent event stream would, in the model's own code between chunks."""

    tracer: Any = None

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in super()._stream(messages, stop, run_manager, **kwargs):
            with self.tracer.start_as_current_span("read chunk"):
                pass
            yield chunk


class HttpChat(ModelChat):
    """Makes a client span inside the provider call, as an HTTP instrumentation would."""

    tracer: Any = None

    def _generate(self, *args: Any, **kwargs: Any) -> Any:
        with self.tracer.start_as_current_span("POST /v1/chat/completions"):
            return super()._generate(*args, **kwargs)
