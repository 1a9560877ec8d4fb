"""Every span ends exactly once: success, error, early-stopped stream, control flow,
and runs that never report an end (evicted by the size cap or the timeout)."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import logging
import subprocess
import sys
import textwrap
import time
from collections import Counter
from uuid import uuid4

import pytest
from langchain_core.callbacks import CallbackManager
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from opentelemetry import trace
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.trace import StatusCode
from podcast_kg_otel_langchain import LangChainInstrumentor

from instrumentors.langchain.tests.fakes import EarlyUsageChat, FailingChat, chat

PROMPT = ChatPromptTemplate.from_messages([("human", "Tell me about {topic}")])
WORKFLOW = "invoke_workflow RunnableSequence"
CHAT = "chat fake-model-1"


class EndCounter(SpanProcessor):
    def __init__(self) -> None:
        self.ends: Counter[int] = Counter()

    def on_end(self, span) -> None:
        self.ends[span.context.span_id] += 1


@pytest.fixture
def counted(instrument, caplog):
    """Instrumented spans plus a per-span end counter; asserts nothing ended twice."""
    caplog.set_level(logging.WARNING)
    holder = {}

    def start(**options):
        spans = instrument(**options)
        counter = EndCounter()
        spans.provider.add_span_processor(counter)
        holder["counter"] = counter
        return spans

    yield start
    counter = holder.get("counter")
    if counter is not None:
        assert counter.ends and set(counter.ends.values()) == {1}
    assert not [r for r in caplog.records if "ended span" in r.getMessage()]


def open_runs() -> int:
    return len(LangChainInstrumentor()._handler._runs)


async def settle() -> None:
    """Let the event loop finalize abandoned async generators."""
    for _ in range(50):
        gc.collect()
        await asyncio.sleep(0.01)
        if open_runs() == 0:
            return


def test_error_marks_chat_and_workflow_and_propagates_unchanged(counted):
    spans = counted()
    chain = PROMPT | chat(cls=FailingChat) | StrOutputParser()

    with pytest.raises(ConnectionError, match="model server unreachable"):
        chain.invoke({"topic": "x"})

    for name in (WORKFLOW, CHAT):
        span = spans.one(name)
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes["error.type"] == "ConnectionError"
        assert [e.name for e in span.events] == ["exception"]
    assert open_runs() == 0


def test_success_ends_every_span_once(counted):
    spans = counted(show_all_runs=True)

    (PROMPT | chat() | StrOutputParser()).invoke({"topic": "x"})

    assert len(spans.all) == 4
    assert all(s.status.status_code is StatusCode.UNSET for s in spans.all)
    assert open_runs() == 0


def test_consumer_stopping_a_chain_stream_is_a_cancellation(counted):
    spans = counted()
    chain = PROMPT | chat("one two three four") | StrOutputParser()

    stream = chain.stream({"topic": "x"})
    next(stream)
    stream.close()
    gc.collect()

    workflow = spans.one(WORKFLOW)
    assert workflow.attributes["langchain.run.cancelled"] is True
    assert workflow.status.status_code is StatusCode.UNSET
    assert spans.one(CHAT).status.status_code is StatusCode.UNSET
    assert open_runs() == 0


def test_consumer_stopping_a_model_stream_is_a_cancellation(counted):
    spans = counted()

    for _chunk in chat("one two three").stream("hi"):
        break
    gc.collect()

    span = spans.one(CHAT)
    assert span.attributes["langchain.run.cancelled"] is True
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes["gen_ai.request.stream"] is True
    assert not span.events


def test_stopped_stream_keeps_the_partial_usage(counted):
    spans = counted()

    stream = chat("one two three", cls=EarlyUsageChat).stream("hi")
    for _ in range(3):
        next(stream)
    stream.close()

    span = spans.one(CHAT)
    assert span.attributes["langchain.run.cancelled"] is True
    assert span.attributes["gen_ai.usage.input_tokens"] == 12
    assert span.status.status_code is StatusCode.UNSET


async def test_consumer_stopping_an_async_stream_is_a_cancellation(counted):
    spans = counted()
    chain = PROMPT | chat("one two three four") | StrOutputParser()

    stream = chain.astream({"topic": "x"})
    async for _chunk in stream:
        break
    await stream.aclose()
    await settle()

    workflow = spans.one(WORKFLOW)
    assert workflow.attributes["langchain.run.cancelled"] is True
    assert workflow.status.status_code is StatusCode.UNSET
    llm = spans.one(CHAT)
    assert llm.attributes["langchain.run.cancelled"] is True
    assert llm.status.status_code is StatusCode.UNSET
    assert open_runs() == 0


async def test_abandoned_async_stream_ends_when_the_loop_finalizes_it(counted):
    spans = counted()
    chain = PROMPT | chat("one two three four") | StrOutputParser()

    async def consume_one():
        async for _chunk in chain.astream({"topic": "x"}):
            break

    await consume_one()
    await settle()

    assert spans.one(WORKFLOW).attributes["langchain.run.cancelled"] is True
    assert open_runs() == 0


async def test_cancelled_task_is_not_an_error(counted):
    spans = counted()

    async def slow(x):
        await asyncio.sleep(10)
        return x

    task = asyncio.ensure_future(RunnableLambda(slow).ainvoke("x"))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    span = spans.one("invoke_workflow slow")
    assert span.attributes["langchain.run.cancelled"] is True
    assert span.status.status_code is StatusCode.UNSET


class GraphBubbleUp(Exception):
    """Stands in for langgraph.errors.GraphBubbleUp (matched by class name)."""


class GraphInterrupt(GraphBubbleUp):
    pass


class MarkedInterrupt(Exception):
    is_bubble_up = True


@pytest.mark.parametrize("exc_type", [GraphInterrupt, MarkedInterrupt])
def test_graph_interrupt_is_control_flow_not_an_error(counted, exc_type):
    spans = counted()

    def ask_human(_):
        raise exc_type("need approval")

    chain = RunnableLambda(ask_human).with_config(run_name="approval")
    with pytest.raises(exc_type):
        chain.invoke("x")

    span = spans.one("invoke_workflow approval")
    assert span.status.status_code is StatusCode.UNSET
    assert [e.name for e in span.events] == ["langgraph.interrupt"]
    assert span.events[0].attributes["exception.type"].endswith(exc_type.__name__)
    assert "error.type" not in span.attributes


def test_size_cap_evicts_the_oldest_run_as_orphan(counted):
    spans = counted(max_open_runs=2)
    model = chat("a b c d")

    streams = [model.stream(str(i)) for i in range(3)]
    for stream in streams:
        next(stream)

    orphans = [s for s in spans.all if s.attributes.get("langchain.run.orphaned")]
    assert len(orphans) == 1
    assert open_runs() == 2
    for stream in streams:
        stream.close()
    assert len(spans.named(CHAT)) == 3
    assert open_runs() == 0


def test_timeout_ends_runs_that_never_finish(counted):
    spans = counted(run_timeout=0.05)
    model = chat("a b c d")

    stalled = model.stream("hi")
    next(stalled)
    time.sleep(0.1)
    model.invoke("next request")

    orphan = [s for s in spans.named(CHAT) if s.attributes.get("langchain.run.orphaned")]
    assert len(orphan) == 1
    assert open_runs() == 0
    stalled.close()
    assert len(spans.named(CHAT)) == 2


def test_evicting_an_orphan_keeps_the_callers_current_span(counted):
    spans = counted(run_timeout=0.05)
    tracer = spans.provider.get_tracer("app")
    stalled = chat("a b c d").stream("hi")
    next(stalled)
    time.sleep(0.1)

    with tracer.start_as_current_span("request") as request:
        chat().invoke("evicts the stalled stream")
        assert trace.get_current_span() is request
        with tracer.start_as_current_span("after"):
            pass

    assert spans.parent_of(spans.one("after")) is spans.one("request")
    stalled.close()


def test_uninstrument_ends_open_spans_and_stops_tracing(instrument):
    spans = instrument()
    stalled = chat("a b").stream("hi")
    next(stalled)

    LangChainInstrumentor().uninstrument()
    assert spans.one(CHAT).attributes["langchain.run.orphaned"] is True
    stalled.close()
    chat().invoke("after")
    (PROMPT | chat()).invoke({"topic": "x"})

    assert len(spans.all) == 1
    LangChainInstrumentor().instrument(tracer_provider=spans.provider)


async def test_abandoned_stream_never_becomes_the_parent_of_later_work(counted):
    spans = counted()
    chain = PROMPT | chat("one two three four") | StrOutputParser()

    async for _chunk in chain.astream({"topic": "first"}):
        break
    await settle()
    await chain.ainvoke({"topic": "second"})

    first, second = sorted(spans.named(WORKFLOW), key=lambda s: s.start_time)
    assert first.attributes["langchain.run.cancelled"] is True
    assert second.parent is None
    assert second.context.trace_id != first.context.trace_id
    assert not trace.get_current_span().get_span_context().is_valid


def test_runs_open_at_exit_are_ended_as_orphans(tmp_path):
    script = tmp_path / "open_stream.py"
    script.write_text(
        textwrap.dedent(
            """
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter

            class Print(SpanExporter):
                def export(self, spans):
                    for span in spans:
                        print(span.name, dict(span.attributes).get("langchain.run.orphaned"))
                    return 0

            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(Print()))
            from podcast_kg_otel_langchain import LangChainInstrumentor
            LangChainInstrumentor().instrument(tracer_provider=provider)
            from langchain_core.language_models import FakeListChatModel
            STREAM = FakeListChatModel(responses=["never finished"]).stream("hi")
            next(STREAM)
            print("exiting")
            """
        )
    )

    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["exiting", "chat True"]


def test_runs_open_at_exit_are_exported_when_the_provider_comes_after_instrument(tmp_path):
    script = tmp_path / "provider_after_instrument.py"
    script.write_text(
        textwrap.dedent(
            """
            from podcast_kg_otel_langchain import LangChainInstrumentor
            LangChainInstrumentor().instrument()  # before the app sets its provider

            from opentelemetry import trace
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

            class Print(SpanExporter):
                def export(self, spans):
                    for span in spans:
                        print(span.name, dict(span.attributes).get("langchain.run.orphaned"))
                    return 0

            provider = TracerProvider()
            provider.add_span_processor(BatchSpanProcessor(Print()))
            trace.set_tracer_provider(provider)
            from langchain_core.language_models import FakeListChatModel
            STREAM = FakeListChatModel(responses=["never finished"]).stream("hi")
            next(STREAM)
            print("exiting")
            """
        )
    )

    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["exiting", "chat True"]


def start_parent_and_child_with_one_run_id():
    """A chain run and a child run given the same run id (LangChain reports it as an
    error, then carries on); returns both run managers."""
    run_id = uuid4()
    parent = CallbackManager.configure().on_chain_start(None, {}, run_id=run_id, name="outer")
    child = parent.get_child().on_chain_start(None, {}, run_id=run_id, name="inner")
    return parent, child


def test_run_id_reused_for_parent_and_child_leaves_no_span_open(counted):
    spans = counted()

    # In a copy of the context: the runs attach there.
    parent, child = contextvars.copy_context().run(start_parent_and_child_with_one_run_id)
    child.on_chain_end({})
    parent.on_chain_end({})

    assert open_runs() == 0
    outer, inner = spans.one("invoke_workflow outer"), spans.one("inner")
    # The earlier run's end can no longer be matched: it ended when its id was reused.
    assert outer.attributes["langchain.run.orphaned"] is True
    assert "langchain.run.orphaned" not in inner.attributes
    assert inner.parent.span_id == outer.context.span_id


def test_uninstrument_ends_runs_whose_id_was_reused(counted):
    spans = counted()

    contextvars.copy_context().run(start_parent_and_child_with_one_run_id)
    LangChainInstrumentor().uninstrument()

    assert sorted(spans.names()) == ["inner", "invoke_workflow outer"]
    assert all(s.attributes["langchain.run.orphaned"] is True for s in spans.all)
    LangChainInstrumentor().instrument(tracer_provider=spans.provider)
