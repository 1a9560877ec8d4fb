"""An error inside the handler never changes the chain's result or exception; the
instrumentation honours suppress_instrumentation and can be removed."""

from __future__ import annotations

import logging

import pytest
from langchain_core.callbacks import AsyncCallbackManager, CallbackManager
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from opentelemetry.instrumentation.utils import suppress_instrumentation
from podcast_kg_otel_langchain import LangChainInstrumentor, extract, scope
from podcast_kg_otel_langchain.handler import OtelCallbackHandler

from instrumentors.langchain.tests.fakes import FailingChat, chat

PROMPT = ChatPromptTemplate.from_messages([("human", "Tell me about {topic}")])


def broken(*args, **kwargs):
    raise RuntimeError("bug in the instrumentation")


def test_handler_bug_keeps_result_and_is_logged_once(spans, monkeypatch, caplog):
    caplog.set_level(logging.WARNING)
    monkeypatch.setattr(extract, "request", broken)
    monkeypatch.setattr(extract, "response", broken)
    chain = PROMPT | chat("unchanged") | StrOutputParser()

    assert chain.invoke({"topic": "x"}) == "unchanged"
    assert chain.invoke({"topic": "y"}) == "unchanged"

    ours = [r for r in caplog.records if "podcast-kg-otel-langchain" in r.getMessage()]
    assert len(ours) == 1
    assert "on_chat_model_start" in ours[0].getMessage()
    assert not [r for r in caplog.records if "Error in OtelCallbackHandler" in r.getMessage()]
    assert [s.name for s in spans.all] == ["invoke_workflow RunnableSequence"] * 2


def test_handler_bug_keeps_the_users_exception(spans, monkeypatch):
    monkeypatch.setattr(extract, "request", broken)
    chain = PROMPT | chat(cls=FailingChat)

    with pytest.raises(ConnectionError, match="model server unreachable"):
        chain.invoke({"topic": "x"})


def test_bad_instrument_arguments_warn_and_never_raise_or_drop_spans(instrument, caplog):
    caplog.set_level(logging.WARNING)
    spans = instrument(
        capture_content="false", max_open_runs=0, run_timeout="soon", content_max_length=-1
    )

    (PROMPT | chat()).invoke({"topic": "secret"})

    assert spans.names() == ["chat fake-model-1", "invoke_workflow RunnableSequence"]
    for span in spans.all:
        assert "langchain.run.orphaned" not in span.attributes
        assert "gen_ai.input.messages" not in span.attributes
    warned = " ".join(r.getMessage() for r in caplog.records)
    for name in ("max_open_runs", "run_timeout", "content_max_length"):
        assert name in warned


def test_suppressed_runs_get_no_span(spans):
    with suppress_instrumentation():
        (PROMPT | chat()).invoke({"topic": "x"})

    (PROMPT | chat()).invoke({"topic": "y"})

    assert spans.names() == ["chat fake-model-1", "invoke_workflow RunnableSequence"]


def test_every_callback_manager_gets_the_handler_once(spans):
    for cls in (CallbackManager, AsyncCallbackManager):
        manager = cls.configure(inheritable_callbacks=cls.configure())
        handlers = [h for h in manager.inheritable_handlers if isinstance(h, OtelCallbackHandler)]
        assert len(handlers) == 1
        assert handlers[0].run_inline is True
        assert manager.copy().handlers == manager.handlers

    class GroupManager(CallbackManager):
        pass

    assert type(GroupManager.configure()) is GroupManager


def test_uninstrument_removes_the_handler(spans):
    LangChainInstrumentor().uninstrument()

    manager = CallbackManager.configure()
    (PROMPT | chat()).invoke({"topic": "x"})

    assert not [h for h in manager.handlers if isinstance(h, OtelCallbackHandler)]
    assert spans.all == []
    for cls in (CallbackManager, AsyncCallbackManager):
        assert type(cls.__dict__["configure"]) is classmethod
    LangChainInstrumentor().instrument(tracer_provider=spans.provider)
    (PROMPT | chat()).invoke({"topic": "x"})
    assert len(spans.all) == 2


def test_copied_configs_share_the_one_handler(spans):
    import copy

    manager = CallbackManager.configure()
    handler = next(h for h in manager.handlers if isinstance(h, OtelCallbackHandler))

    assert copy.deepcopy(handler) is handler
    assert copy.copy(handler) is handler


async def test_context_restore_bug_keeps_async_results_and_errors(spans, monkeypatch, caplog):
    caplog.set_level(logging.WARNING)
    monkeypatch.setattr(scope, "settle", broken)
    chain = PROMPT | chat("unchanged") | StrOutputParser()

    assert await chain.ainvoke({"topic": "x"}) == "unchanged"
    assert await chain.ainvoke({"topic": "y"}) == "unchanged"
    with pytest.raises(ConnectionError):
        await (PROMPT | chat(cls=FailingChat)).ainvoke({"topic": "z"})

    ours = [r for r in caplog.records if "podcast-kg-otel-langchain" in r.getMessage()]
    assert len(ours) == 1
    assert "restore the caller's context" in ours[0].getMessage()
    assert len(spans.named("invoke_workflow RunnableSequence")) == 3
