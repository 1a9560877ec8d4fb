"""Parents come from LangChain's run tree in sync, async, threaded, batch and streaming
code, and spans of other instrumentations nest under the step that made them."""

from __future__ import annotations

import asyncio
import contextvars
from concurrent.futures import ThreadPoolExecutor

import pytest
from langchain_core.documents import Document
from langchain_core.language_models import FakeListLLM
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from opentelemetry import trace

from instrumentors.langchain.tests.fakes import (
    FailingChat,
    HttpChat,
    ListRetriever,
    UsageStreamingChat,
    chat,
)

PROMPT = ChatPromptTemplate.from_messages([("human", "Tell me about {topic}")])
WORKFLOW = "invoke_workflow RunnableSequence"
CHAT = "chat fake-model-1"
HTTP = "POST /v1/chat/completions"


pytestmark = pytest.mark.usefixtures("no_context_errors")


def http_chain(spans):
    model = chat("graphs", cls=HttpChat)
    model.tracer = spans.provider.get_tracer("http-client")
    return PROMPT | model | StrOutputParser()


def assert_tree(spans, workflow, user_parent=None):
    """workflow -> chat -> HTTP, all in one trace, workflow under `user_parent`."""
    children = [s for s in spans.all if s.parent and s.parent.span_id == workflow.context.span_id]
    assert [s.name for s in children] == [CHAT]
    http = [s for s in spans.all if s.parent and s.parent.span_id == children[0].context.span_id]
    assert [s.name for s in http] == [HTTP]
    assert {workflow.context.trace_id} == {
        children[0].context.trace_id,
        http[0].context.trace_id,
    }
    if user_parent is None:
        assert workflow.parent is None
    else:
        assert workflow.parent.span_id == user_parent.context.span_id


async def test_work_after_ainvoke_is_not_parented_to_the_ended_run(spans):
    # LangChain delivers async end events from a shielded task with a copied context,
    # so the attach made at start cannot be undone there: it must be harmless instead.
    tracer = spans.provider.get_tracer("app")

    with tracer.start_as_current_span("request") as request:
        await http_chain(spans).ainvoke({"topic": "x"})
        trace.get_current_span().set_attribute("app.after", True)
        with tracer.start_as_current_span("after"):
            pass
        await http_chain(spans).ainvoke({"topic": "y"})

    assert spans.one("after").parent.span_id == request.context.span_id
    assert spans.one("request").attributes["app.after"] is True
    for workflow in spans.named(WORKFLOW):
        assert_tree(spans, workflow, user_parent=request)
    assert not trace.get_current_span().get_span_context().is_valid


def test_sync_invoke_nests_http_span_under_chat_span(spans):
    http_chain(spans).invoke({"topic": "x"})

    assert_tree(spans, spans.one(WORKFLOW))


async def test_ainvoke_nests_http_span_under_chat_span(spans):
    await http_chain(spans).ainvoke({"topic": "x"})

    assert_tree(spans, spans.one(WORKFLOW))


async def test_gather_of_chains_keeps_each_tree_separate(spans):
    chain = http_chain(spans)
    tracer = spans.provider.get_tracer("app")

    with tracer.start_as_current_span("request") as request:
        results = await asyncio.gather(*(chain.ainvoke({"topic": str(i)}) for i in range(5)))

    assert results == ["graphs"] * 5
    workflows = spans.named(WORKFLOW)
    assert len(workflows) == 5
    for workflow in workflows:
        assert_tree(spans, workflow, user_parent=request)


async def test_abatch_runs_are_siblings(spans):
    chain = http_chain(spans)
    tracer = spans.provider.get_tracer("app")

    with tracer.start_as_current_span("request") as request:
        await chain.abatch([{"topic": "a"}, {"topic": "b"}, {"topic": "c"}])

    workflows = spans.named(WORKFLOW)
    assert len(workflows) == 3
    for workflow in workflows:
        assert_tree(spans, workflow, user_parent=request)


def test_batch_runs_are_siblings_not_nested(spans):
    chain = http_chain(spans)
    tracer = spans.provider.get_tracer("app")

    with tracer.start_as_current_span("request") as request:
        chain.batch([{"topic": "a"}, {"topic": "b"}, {"topic": "c"}])

    workflows = spans.named(WORKFLOW)
    assert len(workflows) == 3
    for workflow in workflows:
        assert_tree(spans, workflow, user_parent=request)


def test_threads_with_copied_context_join_the_callers_trace(spans):
    chain = http_chain(spans)
    tracer = spans.provider.get_tracer("app")

    with tracer.start_as_current_span("request") as request, ThreadPoolExecutor(4) as pool:
        futures = [
            pool.submit(contextvars.copy_context().run, chain.invoke, {"topic": str(i)})
            for i in range(4)
        ]
        assert [f.result() for f in futures] == ["graphs"] * 4

    workflows = spans.named(WORKFLOW)
    assert len(workflows) == 4
    for workflow in workflows:
        assert_tree(spans, workflow, user_parent=request)


def test_threads_without_context_start_their_own_traces(spans):
    chain = http_chain(spans)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(chain.invoke, [{"topic": str(i)} for i in range(4)]))

    workflows = spans.named(WORKFLOW)
    assert len({w.context.trace_id for w in workflows}) == 4
    for workflow in workflows:
        assert_tree(spans, workflow)


def test_sync_stream_parents_and_time_to_first_chunk(spans):
    chain = PROMPT | chat("a b c", cls=UsageStreamingChat) | StrOutputParser()

    assert "".join(chain.stream({"topic": "x"})) == "a b c"

    workflow, llm = spans.one(WORKFLOW), spans.one(CHAT)
    assert spans.parent_of(llm) is workflow
    assert llm.attributes["gen_ai.request.stream"] is True
    assert 0 < llm.attributes["gen_ai.response.time_to_first_chunk"] < 60
    assert llm.attributes["gen_ai.usage.input_tokens"] == 12
    assert llm.attributes["gen_ai.usage.output_tokens"] == 3
    assert llm.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert "langchain.run.cancelled" not in workflow.attributes


async def test_astream_parents_and_time_to_first_chunk(spans):
    chain = PROMPT | chat("a b c", cls=UsageStreamingChat) | StrOutputParser()

    chunks = [chunk async for chunk in chain.astream({"topic": "x"})]

    assert "".join(chunks) == "a b c"
    workflow, llm = spans.one(WORKFLOW), spans.one(CHAT)
    assert spans.parent_of(llm) is workflow
    assert llm.attributes["gen_ai.request.stream"] is True
    assert llm.attributes["gen_ai.response.time_to_first_chunk"] > 0
    assert llm.attributes["gen_ai.usage.output_tokens"] == 3


def test_span_made_inside_a_tool_nests_under_the_tool_span(spans):
    tracer = spans.provider.get_tracer("neo4j-like")

    @tool
    def lookup(name: str) -> str:
        """Look a node up."""
        with tracer.start_as_current_span("MATCH (n:Person)"):
            return name

    chain = RunnableLambda(lambda q: {"name": q}) | lookup
    chain.invoke("ada")

    query = spans.one("MATCH (n:Person)")
    tool_span = spans.parent_of(query)
    assert tool_span.name == "execute_tool lookup"
    assert spans.parent_of(tool_span).name == "invoke_workflow RunnableSequence"


async def test_span_made_inside_an_async_step_nests_under_it(spans):
    tracer = spans.provider.get_tracer("db")

    async def fetch(topic: str) -> str:
        await asyncio.sleep(0)
        with tracer.start_as_current_span("SELECT"):
            return topic

    chain = RunnableLambda(lambda x: x["topic"]) | RunnableLambda(fetch)
    await asyncio.gather(chain.ainvoke({"topic": "a"}), chain.ainvoke({"topic": "b"}))

    for query in spans.named("SELECT"):
        step = spans.parent_of(query)
        assert step.name == "fetch"
        assert spans.parent_of(step).name == WORKFLOW
        assert step.context.trace_id == query.context.trace_id


def test_nested_chain_inside_a_step_is_a_child_not_a_new_trace(spans):
    inner = (PROMPT | chat()).with_config(run_name="inner")

    def outer_step(topic: str):
        return inner.invoke({"topic": topic})

    outer = RunnableLambda(outer_step).with_config(run_name="outer")
    outer.invoke("x")

    root = spans.one("invoke_workflow outer")
    inner_span = spans.one("inner")
    assert spans.parent_of(inner_span) is root
    assert spans.parent_of(spans.one(CHAT)) is inner_span


def test_current_span_inside_a_step_behaves_like_the_step_span(spans):
    seen = {}

    def step(x):
        current = trace.get_current_span()
        current.set_attribute("app.seen", True)
        seen["name"] = current.name
        seen["context"] = current.get_span_context()
        return x

    RunnableLambda(step).invoke(1)

    span = spans.one("invoke_workflow step")
    assert seen["name"] == "invoke_workflow step"
    assert seen["context"] == span.context
    assert span.attributes["app.seen"] is True


def test_callers_span_is_its_own_object_again_after_sync_calls(spans):
    tracer = spans.provider.get_tracer("app")
    chain = http_chain(spans)

    with tracer.start_as_current_span("request") as request:
        chain.invoke({"topic": "x"})
        assert trace.get_current_span() is request
        chain.batch([{"topic": "a"}, {"topic": "b"}])
        assert trace.get_current_span() is request
        assert list(chain.stream({"topic": "y"}))
        assert trace.get_current_span() is request


async def test_callers_span_is_its_own_object_again_after_async_calls(spans):
    tracer = spans.provider.get_tracer("app")
    chain = http_chain(spans)
    retriever = ListRetriever(documents=[Document("d")])

    with tracer.start_as_current_span("request") as request:
        await chain.ainvoke({"topic": "x"})
        assert trace.get_current_span() is request
        await chat().ainvoke("a model as the root run")
        assert trace.get_current_span() is request
        await FakeListLLM(responses=["ok"]).ainvoke("a text LLM as the root run")
        assert trace.get_current_span() is request
        await retriever.ainvoke("a retriever as the root run")
        assert trace.get_current_span() is request
        await chain.abatch([{"topic": "a"}, {"topic": "b"}])
        assert trace.get_current_span() is request
        assert [chunk async for chunk in chain.astream({"topic": "y"})]
        assert trace.get_current_span() is request
        with pytest.raises(ConnectionError):
            await (PROMPT | chat(cls=FailingChat)).ainvoke({"topic": "z"})
        assert trace.get_current_span() is request

    assert len(spans.named(WORKFLOW)) == 5
    assert all(w.parent.span_id == request.context.span_id for w in spans.named(WORKFLOW))
