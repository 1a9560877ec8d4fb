"""Private by default: content only with the GenAI opt-in, and then size-capped."""

from __future__ import annotations

import json
import logging

import pytest
from langchain_core.documents import Document
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import FakeListLLM
from langchain_core.messages import ToolCall
from langchain_core.output_parsers import JsonOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool

from instrumentors.langchain.tests.fakes import ListRetriever, chat

PROMPT = ChatPromptTemplate.from_messages(
    [("system", "You extract entities."), ("human", "Text: {text}")]
)
CONTENT_KEYS = {
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "gen_ai.retrieval.query.text",
    "gen_ai.retrieval.documents",
}


@tool
def lookup(name: str) -> str:
    """Find a person."""
    return f"{name} is a mathematician"


def run_everything() -> None:
    (PROMPT | chat("Ada Lovelace")).invoke({"text": "secret transcript"})
    FakeListLLM(responses=["secret completion"]).invoke("secret prompt")
    lookup.invoke(ToolCall(name="lookup", args={"name": "Ada"}, id="c1", type="tool_call"))
    ListRetriever(documents=[Document("secret doc", id="doc-1")]).invoke("secret query")


def test_no_content_by_default(instrument, monkeypatch):
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    spans = instrument()  # after the variable is gone: the setting is read here

    run_everything()

    assert len(spans.all) == 5
    for span in spans.all:
        assert not CONTENT_KEYS & set(span.attributes), span.name
        assert not [v for v in span.attributes.values() if "secret" in str(v)], span.name


def test_content_with_opt_in(instrument, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    spans = instrument()

    run_everything()

    llm = spans.one("chat fake-model-1")
    assert json.loads(llm.attributes["gen_ai.input.messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "You extract entities."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Text: secret transcript"}]},
    ]
    assert json.loads(llm.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Ada Lovelace"}]}
    ]
    completion = spans.one("text_completion")
    assert "secret prompt" in completion.attributes["gen_ai.input.messages"]
    assert "secret completion" in completion.attributes["gen_ai.output.messages"]
    tool_span = spans.one("execute_tool lookup")
    assert json.loads(tool_span.attributes["gen_ai.tool.call.arguments"]) == {"name": "Ada"}
    assert tool_span.attributes["gen_ai.tool.call.result"] == "Ada is a mathematician"
    retrieval = spans.one("retrieval ListRetriever")
    assert retrieval.attributes["gen_ai.retrieval.query.text"] == "secret query"
    assert json.loads(retrieval.attributes["gen_ai.retrieval.documents"]) == [{"id": "doc-1"}]


def fail_with_content() -> None:
    with pytest.raises(OutputParserException, match="secret completion"):
        (PROMPT | chat("secret completion") | JsonOutputParser()).invoke({"text": "t"})
    with pytest.raises(ValueError, match="secret argument"):  # pydantic ValidationError
        lookup.invoke({"name": ["secret argument"]})


def recorded_text(span) -> str:
    events = [dict(e.attributes) for e in span.events]
    return f"{span.status.description} {events}"


def test_errors_quoting_content_are_recorded_without_it(instrument, monkeypatch):
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    spans = instrument()  # after the variable is gone: the setting is read here

    fail_with_content()

    for name in ("invoke_workflow RunnableSequence", "execute_tool lookup"):
        span = spans.one(name)
        assert span.status.status_code.name == "ERROR"
        assert [e.name for e in span.events] == ["exception"]
        assert "secret" not in recorded_text(span), name
    assert spans.one("execute_tool lookup").attributes["error.type"] == (
        "pydantic_core._pydantic_core.ValidationError"
    )


def test_errors_keep_their_message_with_opt_in(instrument, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    spans = instrument()

    fail_with_content()

    assert "secret completion" in recorded_text(spans.one("invoke_workflow RunnableSequence"))
    assert "secret argument" in recorded_text(spans.one("execute_tool lookup"))


def test_captured_error_messages_are_capped(instrument, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    monkeypatch.setenv("PODCAST_KG_OTEL_LANGCHAIN_CONTENT_MAX_LENGTH", "40")
    spans = instrument()

    with pytest.raises(OutputParserException):
        (PROMPT | chat("x" * 5000) | JsonOutputParser()).invoke({"text": "t"})

    span = spans.one("invoke_workflow RunnableSequence")
    (event,) = span.events
    assert len(event.attributes["exception.message"]) == 40
    assert "x" * 100 not in recorded_text(span)


def test_legacy_true_spelling_and_size_cap(instrument, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    monkeypatch.setenv("PODCAST_KG_OTEL_LANGCHAIN_CONTENT_MAX_LENGTH", "40")
    spans = instrument()

    chat("x" * 500).invoke("y" * 500)

    llm = spans.one("chat fake-model-1")
    for key in ("gen_ai.input.messages", "gen_ai.output.messages"):
        assert len(llm.attributes[key]) == 40
        assert llm.attributes[key].endswith("…[truncated]")


def test_bad_setting_warns_once_and_keeps_content_off(instrument, monkeypatch, caplog):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "maybe-later")
    caplog.set_level(logging.WARNING)
    spans = instrument()

    chat().invoke("secret")

    warnings = [r.getMessage() for r in caplog.records if "maybe-later" in r.getMessage()]
    assert len(warnings) == 1
    assert "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT" in warnings[0]
    assert "gen_ai.input.messages" not in spans.one("chat fake-model-1").attributes
