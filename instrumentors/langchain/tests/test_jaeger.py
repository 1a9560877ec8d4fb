"""End to end against the real Jaeger: the trace tree as stored, with a real HTTP span
from the requests instrumentation nested under the LangChain step that made it."""

from __future__ import annotations

import asyncio
import textwrap

import neo4j
import pytest
import requests
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from podcast_kg_otel_langchain import LangChainInstrumentor
from podcast_kg_otel_neo4j import Neo4jInstrumentor

from instrumentors.langchain.tests.fakes import HttpStreamingChat, UsageStreamingChat, chat

PROMPT = ChatPromptTemplate.from_messages([("human", "Which services know {topic}?")])


@pytest.fixture
def traced(otlp_provider):
    LangChainInstrumentor().instrument(tracer_provider=otlp_provider)
    RequestsInstrumentor().instrument(tracer_provider=otlp_provider)
    yield otlp_provider
    RequestsInstrumentor().uninstrument()
    LangChainInstrumentor().uninstrument()


def services_chain(stack):
    @tool
    def list_services(topic: str) -> str:
        """List the services Jaeger knows."""
        response = requests.get(f"{stack.jaeger_query_url}/api/services", timeout=10)
        return f"{topic}: {len(response.json()['data'])} services"

    def call_tool(text: str) -> str:
        return list_services.invoke({"topic": text})

    model = chat("graphs", cls=UsageStreamingChat)
    return PROMPT | model | StrOutputParser() | RunnableLambda(call_tool)


def assert_chain_tree(trace):
    root = trace.root
    assert root.name == "invoke_workflow RunnableSequence"
    assert root.attributes["gen_ai.operation.name"] == "invoke_workflow"
    assert sorted(c.name for c in root.children) == ["call_tool", "chat fake-model-1"]
    llm = trace.one("chat fake-model-1")
    assert llm.kind == "client"
    assert llm.attributes["gen_ai.provider.name"] == "mistral_ai"
    assert llm.attributes["gen_ai.usage.output_tokens"] == 3
    tool_span = trace.one("execute_tool list_services")
    assert tool_span.parent.name == "call_tool"
    assert tool_span.attributes["gen_ai.tool.name"] == "list_services"
    (http,) = tool_span.children
    assert http.kind == "client"
    assert http.name.startswith("GET")
    assert all(span.status_code != "ERROR" for span in trace.spans)


def test_chain_trace_in_jaeger(traced, stack, jaeger, service_name):
    assert services_chain(stack).invoke({"topic": "graphs"}).startswith("graphs:")
    traced.force_flush()

    trace = jaeger.wait_for_trace(service_name, min_spans=5)
    assert len(trace.spans) == 5, trace.render()
    assert_chain_tree(trace)


async def test_concurrent_async_chains_in_jaeger(traced, stack, jaeger, service_name):
    chain = services_chain(stack)

    await asyncio.gather(*(chain.ainvoke({"topic": f"t{i}"}) for i in range(3)))
    traced.force_flush()

    traces = jaeger.wait_for_traces(service_name, count=3, min_spans=5)
    assert len(traces) == 3
    for trace in traces:
        assert len(trace.spans) == 5, trace.render()
        assert_chain_tree(trace)


@pytest.mark.parametrize(
    "distro",
    [
        {"OTEL_PYTHON_DISTRO": "distro", "OTEL_PYTHON_CONFIGURATOR": "configurator"},
        {},
    ],
    ids=["stock-distro", "our-distro"],
)
def test_auto_instrumentation(run_instrumented, stack, jaeger, service_name, distro):
    code = textwrap.dedent(
        f"""
        import requests
        from langchain_core.language_models import FakeListChatModel
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate
        from langchain_core.runnables import RunnableLambda

        def fetch(text):
            requests.get("{stack.jaeger_query_url}/api/services", timeout=10)
            return text

        prompt = ChatPromptTemplate.from_messages([("human", "Tell me about {{topic}}")])
        chain = prompt | FakeListChatModel(responses=["ok"]) | StrOutputParser()
        print((chain | RunnableLambda(fetch)).invoke({{"topic": "graphs"}}))
        """
    )
    env = {**stack.otel_env(service_name), **distro}

    result = run_instrumented(code, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert "Failed to detach context" not in result.stderr
    trace = jaeger.wait_for_trace(service_name, min_spans=4)
    assert trace.root.name == "invoke_workflow RunnableSequence"
    assert trace.root.scope == "podcast_kg_otel_langchain"
    assert sorted(c.name for c in trace.root.children) == ["chat", "fetch"]
    (http,) = trace.one("fetch").children
    assert http.name.startswith("GET")


async def test_neo4j_query_in_a_retriever_nests_under_it(
    otlp_provider, stack, jaeger, service_name
):
    # GraphRAG shape: a retriever that queries the real Neo4j, traced by our neo4j plugin.
    class GraphRetriever(BaseRetriever):
        driver: object

        def _get_relevant_documents(self, query: str, *, run_manager) -> list[Document]:
            records, _, _ = self.driver.execute_query(
                "UNWIND range(1, $n) AS i RETURN i", n=len(query)
            )
            return [Document(f"{query}-{r['i']}") for r in records]

    LangChainInstrumentor().instrument(tracer_provider=otlp_provider)
    Neo4jInstrumentor().instrument(tracer_provider=otlp_provider)
    driver = neo4j.GraphDatabase.driver(stack.neo4j_uri, auth=stack.neo4j_auth)
    try:
        retriever = GraphRetriever(driver=driver)
        results = await asyncio.gather(retriever.ainvoke("ada"), retriever.ainvoke("grace"))
    finally:
        driver.close()
        Neo4jInstrumentor().uninstrument()
        LangChainInstrumentor().uninstrument()
    otlp_provider.force_flush()

    assert [len(docs) for docs in results] == [3, 5]
    traces = jaeger.wait_for_traces(service_name, count=2, min_spans=2)
    assert len(traces) == 2
    for trace in traces:
        root = trace.root
        assert root.name == "retrieval GraphRetriever"
        assert root.attributes["langchain.retrieval.documents.count"] in (3, 5)
        db_spans = [s for s in trace.spans if s.attributes.get("db.system.name") == "neo4j"]
        assert db_spans
        assert all(s.parent is root for s in db_spans), trace.render()


async def test_stream_consumer_spans_in_jaeger(traced, jaeger, service_name):
    model = chat("a b c", cls=HttpStreamingChat)
    model.tracer = traced.get_tracer("http-client")
    chain = PROMPT | model | StrOutputParser()
    tracer = traced.get_tracer("app")

    with tracer.start_as_current_span("request"):
        for _chunk in chain.stream({"topic": "sync"}):
            with tracer.start_as_current_span("handle chunk"):
                pass
        async for _chunk in chain.astream({"topic": "async"}):
            with tracer.start_as_current_span("handle chunk"):
                pass
    traced.force_flush()

    chunks = 5  # "a", " ", "b", " ", "c"
    trace = jaeger.wait_for_trace(service_name, min_spans=1 + 2 * (2 + 2 * chunks))
    assert trace.root.name == "request", trace.render()
    handles = trace.named("handle chunk")
    assert len(handles) == 2 * chunks
    assert all(h.parent is trace.root for h in handles), trace.render()
    workflows = trace.named("invoke_workflow RunnableSequence")
    assert len(workflows) == 2
    for workflow in workflows:
        assert workflow.parent is trace.root
        (llm,) = workflow.children
        assert llm.name == "chat fake-model-1"
        assert [c.name for c in llm.children] == ["read chunk"] * chunks
