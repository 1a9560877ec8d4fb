"""Span names, kinds and GenAI attributes for each kind of LangChain run."""

from __future__ import annotations

import pytest
from langchain_core.agents import AgentAction
from langchain_core.callbacks import CallbackManager
from langchain_core.documents import Document
from langchain_core.language_models import FakeListChatModel, FakeListLLM
from langchain_core.messages import AIMessage, ToolCall
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from opentelemetry.trace import SpanKind
from podcast_kg_otel_langchain import extract

from instrumentors.langchain.tests.fakes import USAGE, ListRetriever, ModelChat, answer, chat

PROMPT = ChatPromptTemplate.from_messages([("human", "Tell me about {topic}")])


def test_chain_gets_workflow_and_chat_spans_with_plumbing_folded(spans):
    chain = PROMPT | chat("graphs are nice") | StrOutputParser()

    assert chain.invoke({"topic": "graphs"}) == "graphs are nice"

    assert spans.names() == ["chat fake-model-1", "invoke_workflow RunnableSequence"]
    root = spans.one("invoke_workflow RunnableSequence")
    assert root.kind is SpanKind.INTERNAL
    assert root.parent is None
    assert root.attributes["gen_ai.operation.name"] == "invoke_workflow"
    assert root.attributes["gen_ai.workflow.name"] == "RunnableSequence"
    llm = spans.one("chat fake-model-1")
    assert spans.parent_of(llm) is root
    assert llm.kind is SpanKind.CLIENT
    assert llm.attributes["gen_ai.operation.name"] == "chat"
    assert llm.attributes["gen_ai.provider.name"] == "mistral_ai"
    assert llm.attributes["gen_ai.request.model"] == "fake-model-1"
    assert llm.attributes["gen_ai.request.temperature"] == 0.2
    assert llm.attributes["gen_ai.request.max_tokens"] == 64
    assert llm.attributes["gen_ai.response.model"] == "fake-model-1-0611"
    assert llm.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert llm.attributes["gen_ai.usage.input_tokens"] == 12
    assert llm.attributes["gen_ai.usage.output_tokens"] == 3
    assert "gen_ai.request.stream" not in llm.attributes
    assert isinstance(llm.attributes["langchain.run.id"], str)


def test_show_all_runs_option_keeps_every_run(instrument):
    spans = instrument(show_all_runs=True)
    chain = PROMPT | chat() | StrOutputParser()

    chain.invoke({"topic": "graphs"})

    assert spans.names() == [
        "ChatPromptTemplate",
        "StrOutputParser",
        "chat fake-model-1",
        "invoke_workflow RunnableSequence",
    ]
    root = spans.one("invoke_workflow RunnableSequence")
    assert all(spans.parent_of(s) is root for s in spans.all if s is not root)
    assert spans.one("StrOutputParser").attributes["langchain.run.type"] == "parser"


def test_show_all_runs_from_environment(instrument, monkeypatch):
    monkeypatch.setenv("PODCAST_KG_OTEL_LANGCHAIN_SHOW_ALL_RUNS", "true")
    spans = instrument()

    (PROMPT | chat()).invoke({"topic": "x"})

    assert "ChatPromptTemplate" in spans.names()


def test_user_function_step_keeps_a_span(spans):
    def enrich(text: str) -> str:
        return text.upper()

    chain = PROMPT | chat("abc") | StrOutputParser() | RunnableLambda(enrich)

    assert chain.invoke({"topic": "x"}) == "ABC"

    step = spans.one("enrich")
    assert spans.parent_of(step).name == "invoke_workflow RunnableSequence"
    assert step.attributes["langchain.run.type"] == "chain"


def test_model_without_model_name_is_still_traced(spans):
    FakeListChatModel(responses=["ok"]).invoke("hi")

    llm = spans.one("chat")
    assert llm.attributes["gen_ai.provider.name"] == "fakelistchatmodel"
    assert "gen_ai.request.model" not in llm.attributes


def test_text_llm_gets_text_completion_span(spans):
    assert FakeListLLM(responses=["done"]).invoke("complete me") == "done"

    span = spans.one("text_completion")
    assert span.kind is SpanKind.CLIENT
    assert span.attributes["gen_ai.operation.name"] == "text_completion"
    assert "langchain.run.type" not in span.attributes


def test_request_parameters_from_bound_kwargs(spans):
    chat().bind(stop=["END"]).invoke("hi")

    llm = spans.one("chat fake-model-1")
    assert llm.attributes["gen_ai.request.stop_sequences"] == ("END",)


def test_tool_span_has_name_call_id_and_description(spans):
    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    call = ToolCall(name="add", args={"a": 1, "b": 2}, id="call_42", type="tool_call")
    result = add.invoke(call)

    assert result.content == "3"
    span = spans.one("execute_tool add")
    assert span.kind is SpanKind.INTERNAL
    assert span.attributes["gen_ai.operation.name"] == "execute_tool"
    assert span.attributes["gen_ai.tool.name"] == "add"
    assert span.attributes["gen_ai.tool.type"] == "function"
    assert span.attributes["gen_ai.tool.call.id"] == "call_42"
    assert span.attributes["gen_ai.tool.description"] == "Add two integers."
    assert "gen_ai.tool.call.arguments" not in span.attributes
    assert "gen_ai.tool.call.result" not in span.attributes


def test_retriever_span_counts_documents(spans):
    retriever = ListRetriever(documents=[Document("a", id="d1"), Document("b", id="d2")])

    docs = retriever.invoke("what is a graph")

    assert len(docs) == 2
    span = spans.one("retrieval ListRetriever")
    assert span.kind is SpanKind.CLIENT
    assert span.attributes["gen_ai.operation.name"] == "retrieval"
    assert span.attributes["langchain.retrieval.documents.count"] == 2
    assert "gen_ai.retrieval.query.text" not in span.attributes


def test_chain_named_agent_is_an_agent_span(spans):
    agent = (PROMPT | chat()).with_config(run_name="research_agent")

    agent.invoke({"topic": "x"})

    span = spans.one("invoke_agent research_agent")
    assert span.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert span.attributes["gen_ai.agent.name"] == "research_agent"
    assert spans.parent_of(spans.one("chat fake-model-1")) is span


def test_agent_action_turns_a_chain_into_an_agent(spans):
    manager = CallbackManager.configure()
    run = manager.on_chain_start(None, {"q": "x"}, name="Planner")
    run.on_agent_action(AgentAction(tool="search", tool_input="x", log=""))
    run.on_chain_end({"output": "y"})

    span = spans.one("invoke_agent Planner")
    assert span.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert span.attributes["gen_ai.agent.name"] == "Planner"


def test_conversation_id_and_graph_node_from_metadata(spans):
    chain = PROMPT | chat()

    chain.invoke(
        {"topic": "x"},
        config={"metadata": {"thread_id": "t-1", "langgraph_node": "extract", "langgraph_step": 3}},
    )

    llm = spans.one("chat fake-model-1")
    assert llm.attributes["gen_ai.conversation.id"] == "t-1"
    assert llm.attributes["langgraph.node"] == "extract"
    assert llm.attributes["langgraph.step"] == 3


def test_message_ids_from_provider_become_response_id(spans):
    model = chat()
    model.messages = iter([AIMessage(content="x", id="chatcmpl-123")])

    model.invoke("hi")

    assert spans.one("chat fake-model-1").attributes["gen_ai.response.id"] == "chatcmpl-123"


def test_usage_shared_by_several_choices_is_counted_once(spans):
    class TwoChoicesChat(ModelChat):
        """Answers with n=2 choices; like langchain-openai, every choice's message carries
        the usage of the whole request."""

        def _generate(self, *args, **kwargs) -> ChatResult:
            return ChatResult(generations=[ChatGeneration(message=answer(t)) for t in "ab"])

    TwoChoicesChat(messages=iter(())).invoke("hi")

    llm = spans.one("chat fake-model-1")
    assert llm.attributes["gen_ai.usage.input_tokens"] == USAGE["input_tokens"]
    assert llm.attributes["gen_ai.usage.output_tokens"] == USAGE["output_tokens"]
    assert llm.attributes["gen_ai.response.finish_reasons"] == ("stop", "stop")


@pytest.mark.parametrize(
    ("metadata", "params", "expected"),
    [
        (
            {"ls_provider": "openai", "ls_model_name": "gpt-x", "ls_temperature": 0.5},
            {"temperature": 0.9, "top_p": 0.8, "top_k": 40, "seed": 7, "n": 2},
            {
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-x",
                "gen_ai.request.temperature": 0.5,
                "gen_ai.request.top_p": 0.8,
                "gen_ai.request.top_k": 40,
                "gen_ai.request.seed": 7,
                "gen_ai.request.choice.count": 2,
            },
        ),
        (
            {},
            {
                "model": "m",
                "temperature": 1,
                "frequency_penalty": 0.1,
                "presence_penalty": True,
                "max_output_tokens": 100,
                "n": 1,
                "stop": "END",
                "stream": True,
            },
            {
                "gen_ai.request.model": "m",
                "gen_ai.request.temperature": 1,
                "gen_ai.request.frequency_penalty": 0.1,
                "gen_ai.request.max_tokens": 100,
                "gen_ai.request.stop_sequences": ["END"],
                "gen_ai.request.stream": True,
            },
        ),
        (
            {"ls_max_tokens": 0, "ls_stop": ["a", "b"], "thread_id": 3},
            {"model_id": "mid", "max_tokens": 0, "num_predict": 55, "top_k": "40"},
            {
                "gen_ai.request.model": "mid",
                "gen_ai.request.max_tokens": 55,
                "gen_ai.request.stop_sequences": ["a", "b"],
                "gen_ai.conversation.id": "3",
            },
        ),
        ({"ls_temperature": None}, {"temperature": 0.3, "max_tokens": 0}, {}),
    ],
)
def test_request_attributes_from_metadata_and_invocation_params(metadata, params, expected):
    attrs = {}
    extract.request(metadata, params, attrs)
    assert attrs == expected
