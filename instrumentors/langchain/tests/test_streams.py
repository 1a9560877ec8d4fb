"""Streams: spans the consumer makes between chunks nest under the consumer's own span,
while the stream's own work (steps, model reads, tools) nests under the run's span."""

from __future__ import annotations

import asyncio
import gc

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import (
    Runnable,
    RunnableBranch,
    RunnableLambda,
    RunnableParallel,
)
from langgraph.pregel import Pregel
from opentelemetry import trace
from podcast_kg_otel_langchain import LangChainInstrumentor
from wrapt import BaseObjectProxy

from instrumentors.langchain.tests.fakes import HttpStreamingChat, chat

PROMPT = ChatPromptTemplate.from_messages([("human", "Tell me about {topic}")])
WORKFLOW = "invoke_workflow RunnableSequence"
CHAT = "chat fake-model-1"
HANDLE = "handle chunk"
READ = "read chunk"


pytestmark = pytest.mark.usefixtures("no_context_errors")


async def settle() -> None:
    """Let the event loop finalize the abandoned async generators (LangChain's
    `astream` does not close the stream it iterates when it is closed itself)."""
    for _ in range(50):
        gc.collect()
        await asyncio.sleep(0.01)
        if not LangChainInstrumentor()._handler._runs:
            return


def streaming_chain(spans):
    model = chat("a b c", cls=HttpStreamingChat)
    model.tracer = spans.provider.get_tracer("http-client")
    return PROMPT | model | StrOutputParser()


def children(spans, parent, name):
    return [
        s
        for s in spans.named(name)
        if s.parent is not None and s.parent.span_id == parent.context.span_id
    ]


def assert_run_tree(spans, user_parent):
    """workflow under the consumer's span, chat under workflow, every read under chat."""
    workflow = spans.one(WORKFLOW)
    assert workflow.parent.span_id == user_parent.context.span_id
    llm = spans.one(CHAT)
    assert spans.parent_of(llm) is workflow
    reads = spans.named(READ)
    assert reads
    assert children(spans, llm, READ) == reads
    return workflow


def test_consumer_spans_between_sync_chunks_nest_under_the_consumer(spans):
    chain = streaming_chain(spans)
    tracer = spans.provider.get_tracer("app")

    with tracer.start_as_current_span("request") as request:
        chunks = []
        for chunk in chain.stream({"topic": "x"}):
            with tracer.start_as_current_span(HANDLE):
                chunks.append(chunk)
        assert trace.get_current_span() is request

    assert "".join(chunks) == "a b c"
    assert len(chunks) >= 3
    assert len(children(spans, request, HANDLE)) == len(chunks)
    assert len(spans.named(HANDLE)) == len(chunks)
    assert len(spans.named(READ)) == len(chunks)
    workflow = assert_run_tree(spans, request)
    assert "langchain.run.cancelled" not in workflow.attributes
    spans.assert_each_ended_once()


async def test_consumer_spans_between_async_chunks_nest_under_the_consumer(spans):
    chain = streaming_chain(spans)
    tracer = spans.provider.get_tracer("app")

    with tracer.start_as_current_span("request") as request:
        chunks = []
        async for chunk in chain.astream({"topic": "x"}):
            with tracer.start_as_current_span(HANDLE):
                chunks.append(chunk)
        assert trace.get_current_span() is request

    assert "".join(chunks) == "a b c"
    assert len(children(spans, request, HANDLE)) == len(chunks) >= 3
    assert_run_tree(spans, request)
    spans.assert_each_ended_once()


def test_early_break_of_a_sync_stream(spans):
    chain = streaming_chain(spans)
    tracer = spans.provider.get_tracer("app")

    with tracer.start_as_current_span("request") as request:
        for _chunk in chain.stream({"topic": "x"}):
            with tracer.start_as_current_span(HANDLE):
                pass
            break
        gc.collect()
        with tracer.start_as_current_span("after"):
            pass
        assert trace.get_current_span() is request

    assert len(children(spans, request, HANDLE)) == 1
    assert len(children(spans, request, "after")) == 1
    workflow = assert_run_tree(spans, request)
    assert workflow.attributes["langchain.run.cancelled"] is True
    spans.assert_each_ended_once()


async def test_early_break_of_an_async_stream(spans):
    chain = streaming_chain(spans)
    tracer = spans.provider.get_tracer("app")

    with tracer.start_as_current_span("request") as request:
        stream = chain.astream({"topic": "x"})
        async for _chunk in stream:
            with tracer.start_as_current_span(HANDLE):
                pass
            break
        await stream.aclose()
        await settle()
        with tracer.start_as_current_span("after"):
            pass
        assert trace.get_current_span() is request

    assert len(children(spans, request, HANDLE)) == 1
    assert len(children(spans, request, "after")) == 1
    workflow = assert_run_tree(spans, request)
    assert workflow.attributes["langchain.run.cancelled"] is True
    spans.assert_each_ended_once()


def test_consumer_spans_of_a_direct_model_stream(spans):
    model = chat("a b c", cls=HttpStreamingChat)
    model.tracer = spans.provider.get_tracer("http-client")
    tracer = spans.provider.get_tracer("app")

    with tracer.start_as_current_span("request") as request:
        for _chunk in model.stream("hi"):
            with tracer.start_as_current_span(HANDLE):
                pass

    llm = spans.one(CHAT)
    assert llm.parent.span_id == request.context.span_id
    assert len(children(spans, request, HANDLE)) == len(spans.named(HANDLE)) >= 3
    assert children(spans, llm, READ) == spans.named(READ)
    spans.assert_each_ended_once()


def test_stream_inside_a_runnable_lambda(spans):
    inner = streaming_chain(spans)
    tracer = spans.provider.get_tracer("app")

    def answer(topic: str) -> str:
        parts = []
        for chunk in inner.stream({"topic": topic}):
            with tracer.start_as_current_span(HANDLE):
                parts.append(chunk)
        return "".join(parts)

    assert RunnableLambda(answer).invoke("x") == "a b c"

    step = spans.one("invoke_workflow answer")
    # The inner sequence is plumbing (folded): the chat run hangs off the lambda.
    llm = spans.one(CHAT)
    assert spans.parent_of(llm) is step
    assert children(spans, step, HANDLE) == spans.named(HANDLE)
    assert len(spans.named(HANDLE)) >= 3
    assert children(spans, llm, READ) == spans.named(READ)
    spans.assert_each_ended_once()


async def test_astream_inside_an_async_runnable_lambda(spans):
    inner = streaming_chain(spans)
    tracer = spans.provider.get_tracer("app")

    async def answer(topic: str) -> str:
        parts = []
        async for chunk in inner.astream({"topic": topic}):
            with tracer.start_as_current_span(HANDLE):
                parts.append(chunk)
        return "".join(parts)

    assert await RunnableLambda(answer).ainvoke("x") == "a b c"

    step = spans.one("invoke_workflow answer")
    llm = spans.one(CHAT)
    assert spans.parent_of(llm) is step
    assert children(spans, step, HANDLE) == spans.named(HANDLE)
    assert children(spans, llm, READ) == spans.named(READ)
    spans.assert_each_ended_once()


def test_exception_thrown_into_a_stream_reaches_it(spans):
    chain = streaming_chain(spans)

    stream = chain.stream({"topic": "x"})
    next(stream)
    with pytest.raises(KeyError):
        stream.throw(KeyError("stop"))

    workflow = spans.one(WORKFLOW)
    assert workflow.attributes["error.type"] == "KeyError"
    spans.assert_each_ended_once()


async def test_closing_a_direct_model_astream_ends_its_run_at_once(spans):
    model = chat("a b c", cls=HttpStreamingChat)
    model.tracer = spans.provider.get_tracer("http-client")
    tracer = spans.provider.get_tracer("app")

    with tracer.start_as_current_span("request") as request:
        stream = model.astream("hi")
        async for _chunk in stream:
            with tracer.start_as_current_span(HANDLE):
                pass
            break
        await stream.aclose()
        assert trace.get_current_span() is request
        llm = spans.one(CHAT)

    assert llm.attributes["langchain.run.cancelled"] is True
    assert llm.parent.span_id == request.context.span_id
    assert children(spans, request, HANDLE) == spans.named(HANDLE)
    spans.assert_each_ended_once()


def test_uninstrument_removes_the_stream_wrappers(instrument):
    instrument()
    assert isinstance(Runnable.__dict__["_transform_stream_with_config"], BaseObjectProxy)
    assert isinstance(Pregel.__dict__["stream"], BaseObjectProxy)
    LangChainInstrumentor().uninstrument()

    assert not isinstance(Runnable.__dict__["_transform_stream_with_config"], BaseObjectProxy)
    assert not isinstance(BaseChatModel.__dict__["astream"], BaseObjectProxy)
    assert not isinstance(Pregel.__dict__["astream"], BaseObjectProxy)

    instrument()  # again: LangGraph's streams are wrapped once, not twice
    assert not isinstance(Pregel.__dict__["stream"].__wrapped__, BaseObjectProxy)


async def test_consumer_spans_between_astream_events(spans):
    chain = streaming_chain(spans)
    tracer = spans.provider.get_tracer("app")

    with tracer.start_as_current_span("request") as request:
        events = 0
        async for _event in chain.astream_events({"topic": "x"}, version="v2"):
            with tracer.start_as_current_span(HANDLE):
                events += 1
        assert trace.get_current_span() is request

    assert events > 5
    assert len(children(spans, request, HANDLE)) == events
    assert_run_tree(spans, request)
    spans.assert_each_ended_once()


def composite(kind, spans):
    prompt_model = streaming_chain(spans)
    if kind == "parallel":
        return RunnableParallel(one=prompt_model), "invoke_workflow RunnableParallel<one>"
    if kind == "branch":
        return RunnableBranch((lambda _: True, prompt_model), prompt_model), (
            "invoke_workflow RunnableBranch"
        )
    return prompt_model.with_fallbacks([prompt_model]), "invoke_workflow RunnableWithFallbacks"


@pytest.mark.parametrize("kind", ["parallel", "branch", "fallbacks"])
async def test_consumer_spans_of_composite_streams(spans, kind):
    runnable, root_name = composite(kind, spans)
    tracer = spans.provider.get_tracer("app")

    with tracer.start_as_current_span("request") as request:
        for _chunk in runnable.stream({"topic": "x"}):
            with tracer.start_as_current_span(HANDLE):
                pass
        async for _chunk in runnable.astream({"topic": "x"}):
            with tracer.start_as_current_span(HANDLE):
                pass
        assert trace.get_current_span() is request

    roots = spans.named(root_name)
    assert len(roots) == 2
    assert all(r.parent.span_id == request.context.span_id for r in roots)
    assert children(spans, request, HANDLE) == spans.named(HANDLE)
    assert len(spans.named(HANDLE)) >= 6
    for llm in spans.named(CHAT):
        assert spans.parent_of(llm) in roots
        assert children(spans, llm, READ)
    spans.assert_each_ended_once()
