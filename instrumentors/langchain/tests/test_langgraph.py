"""A real LangGraph graph: node spans under the graph's workflow span, and a
human-in-the-loop interrupt recorded as control flow, not as an error."""

from __future__ import annotations

import logging
import time
from typing import TypedDict

from langchain_core.language_models import FakeListChatModel
from langchain_core.runnables import RunnableLambda
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt
from opentelemetry import trace
from opentelemetry.trace import StatusCode

GRAPH = "invoke_workflow LangGraph"


class State(TypedDict):
    text: str
    approved: bool


def review_graph():
    model = FakeListChatModel(responses=["a draft"])

    def draft(state: State) -> dict:
        return {"text": model.invoke(state["text"]).content}

    def review(state: State) -> dict:
        return {"approved": interrupt({"question": "publish?"})}

    graph = StateGraph(State)
    graph.add_node("draft", draft)
    graph.add_node("review", review)
    graph.add_edge(START, "draft")
    graph.add_edge("draft", "review")
    graph.add_edge("review", END)
    return graph.compile(checkpointer=InMemorySaver())


def test_interrupt_is_control_flow_and_resume_is_traced(spans, caplog):
    caplog.set_level(logging.WARNING)
    app = review_graph()
    config = {"configurable": {"thread_id": "episode-7"}}

    paused = app.invoke({"text": "write it", "approved": False}, config)

    assert "__interrupt__" in paused
    assert not [s for s in spans.all if s.status.status_code is StatusCode.ERROR]
    graph = spans.one(GRAPH)
    assert graph.attributes["gen_ai.conversation.id"] == "episode-7"
    assert [e.name for e in graph.events] == ["langgraph.interrupt"]
    draft, review = spans.one("draft"), spans.one("review")
    assert spans.parent_of(draft) is graph
    assert spans.parent_of(review) is graph
    assert draft.attributes["langgraph.node"] == "draft"
    assert spans.parent_of(spans.one("chat")) is draft
    assert [e.name for e in review.events] == ["langgraph.interrupt"]
    assert review.events[0].attributes["exception.type"] == "langgraph.errors.GraphInterrupt"
    assert "error.type" not in review.attributes
    spans.clear()

    done = app.invoke(Command(resume=True), config)

    assert done == {"text": "a draft", "approved": True}
    assert sorted(spans.names()) == [GRAPH, "review"]
    assert not spans.one("review").events
    assert not spans.one(GRAPH).events
    assert not [r for r in caplog.records if "callback" in r.getMessage()]


async def test_interrupt_in_async_stream_is_control_flow(spans):
    app = review_graph()
    config = {"configurable": {"thread_id": "episode-8"}}

    updates = [u async for u in app.astream({"text": "x", "approved": False}, config)]

    assert any("__interrupt__" in u for u in updates)
    assert not [s for s in spans.all if s.status.status_code is StatusCode.ERROR]
    review = spans.one("review")
    assert [e.name for e in review.events] == ["langgraph.interrupt"]
    assert spans.parent_of(review) is spans.one(GRAPH)
    assert [e.name for e in spans.one(GRAPH).events] == ["langgraph.interrupt"]


def test_interrupt_raised_deep_in_a_node_marks_the_graph_once(spans):
    def ask(state: State) -> bool:
        return interrupt({"question": "publish?"})

    asker = RunnableLambda(ask)

    def review(state: State) -> dict:
        return {"approved": asker.invoke(state)}

    graph = StateGraph(State)
    graph.add_node("review", review)
    graph.add_edge(START, "review")
    graph.add_edge("review", END)
    app = graph.compile(checkpointer=InMemorySaver())

    paused = app.invoke({"text": "x", "approved": False}, {"configurable": {"thread_id": "e9"}})

    assert "__interrupt__" in paused
    assert [e.name for e in spans.one("ask").events] == ["langgraph.interrupt"]
    assert [e.name for e in spans.one("review").events] == ["langgraph.interrupt"]
    assert [e.name for e in spans.one(GRAPH).events] == ["langgraph.interrupt"]


def test_interrupt_after_the_graph_was_evicted_logs_nothing(instrument, caplog):
    caplog.set_level(logging.WARNING)
    spans = instrument(run_timeout=0.05)

    def ask(state: State) -> bool:
        return interrupt({"question": "publish?"})

    asker = RunnableLambda(ask)

    def review(state: State) -> dict:
        time.sleep(0.1)  # the graph's run times out; starting `ask` evicts it
        return {"approved": asker.invoke(state)}

    graph = StateGraph(State)
    graph.add_node("review", review)
    graph.add_edge(START, "review")
    graph.add_edge("review", END)
    app = graph.compile(checkpointer=InMemorySaver())

    app.invoke({"text": "x", "approved": False}, {"configurable": {"thread_id": "e10"}})

    assert spans.one(GRAPH).attributes["langchain.run.orphaned"] is True
    assert [e.name for e in spans.one("ask").events] == ["langgraph.interrupt"]
    assert not [r for r in caplog.records if "ended span" in r.getMessage()]
    # The evicted node ran in this thread's context and its attach outlived the graph:
    # later work must not land under the graph's ended span.
    assert not trace.get_current_span().get_span_context().is_valid
    FakeListChatModel(responses=["later"]).invoke("later")
    assert spans.one("chat").parent is None


def two_step_graph(tracer):
    model = FakeListChatModel(responses=["a draft"])

    def draft(state: State) -> dict:
        with tracer.start_as_current_span("SELECT draft"):
            return {"text": model.invoke(state["text"]).content}

    def polish(state: State) -> dict:
        return {"text": state["text"].upper()}

    graph = StateGraph(State)
    graph.add_node("draft", draft)
    graph.add_node("polish", polish)
    graph.add_edge(START, "draft")
    graph.add_edge("draft", "polish")
    graph.add_edge("polish", END)
    return graph.compile()


def assert_graph_stream_tree(spans, request):
    graph = spans.one(GRAPH)
    assert graph.parent.span_id == request.context.span_id
    draft, polish = spans.one("draft"), spans.one("polish")
    assert spans.parent_of(draft) is graph
    assert spans.parent_of(polish) is graph
    assert spans.parent_of(spans.one("SELECT draft")) is draft
    handles = spans.named("handle chunk")
    assert len(handles) == 2  # one update per node
    assert all(h.parent.span_id == request.context.span_id for h in handles)
    spans.assert_each_ended_once()


def test_consumer_spans_between_graph_stream_chunks(spans):
    tracer = spans.provider.get_tracer("app")
    app = two_step_graph(tracer)

    with tracer.start_as_current_span("request") as request:
        for _update in app.stream({"text": "x", "approved": False}, stream_mode="updates"):
            with tracer.start_as_current_span("handle chunk"):
                pass
        assert trace.get_current_span() is request

    assert_graph_stream_tree(spans, request)


async def test_consumer_spans_between_graph_astream_chunks(spans):
    tracer = spans.provider.get_tracer("app")
    app = two_step_graph(tracer)

    with tracer.start_as_current_span("request") as request:
        async for _update in app.astream({"text": "x", "approved": False}, stream_mode="updates"):
            with tracer.start_as_current_span("handle chunk"):
                pass
        assert trace.get_current_span() is request
        assert (await app.ainvoke({"text": "y", "approved": False}))["text"] == "A DRAFT"
        assert trace.get_current_span() is request

    spans_of_first = [s for s in spans.all if s.context.trace_id == request.context.trace_id]
    assert len(spans.named(GRAPH)) == 2
    assert all(g.parent.span_id == request.context.span_id for g in spans.named(GRAPH))
    assert len(spans_of_first) == len(spans.all)
    assert all(h.parent.span_id == request.context.span_id for h in spans.named("handle chunk"))
