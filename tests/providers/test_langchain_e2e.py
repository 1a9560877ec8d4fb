"""LangChain driving the provider SDKs (langchain-openai, langchain-google-genai) under
``opentelemetry-instrument``: one chat span per model call, its tokens counted once."""

from __future__ import annotations

from stacktools.jaeger import JaegerClient, Span
from stacktools.stack import Stack

from . import fakes
from .conftest import provider_env

SCRIPT = """
import asyncio
import openai
from langchain_core.runnables import RunnableLambda
from langchain_google_genai import ChatGoogleGenerativeAI
from langchain_openai import ChatOpenAI
from opentelemetry import trace

OPENAI = {openai!r} + "/v1"
GEMINI = {gemini!r}

def chat(model, **extra):
    return ChatOpenAI(model=model, base_url=OPENAI, max_retries=0, **extra)

def gemini(model):
    return ChatGoogleGenerativeAI(model=model, base_url=GEMINI, max_retries=0)

def direct(text):
    # A chain step that calls the SDK itself: its provider span is the only chat span.
    client = openai.OpenAI(base_url=OPENAI, max_retries=0)
    messages = [{{"role": "user", "content": text}}]
    return client.chat.completions.create(model="gpt-direct", messages=messages)

with trace.get_tracer("provider-test").start_as_current_span("job"):
    chat("gpt-fake").invoke("Name the entities in: Ada wrote notes.")
    asyncio.run(chat("gpt-fake").ainvoke("Name the entities in: Ada wrote notes."))
    for _ in chat("gpt-stream", stream_usage=True).stream("Ada?"):
        pass
    gemini("gemini-fake").invoke("Name the topics of: Ada wrote notes.")
    for _ in gemini("gemini-stream").stream("Topics?"):
        pass
    RunnableLambda(direct).invoke("Ada?")
    try:
        chat({fail!r}).invoke("Ada?")
    except openai.BadRequestError:
        print("FAILED")
print("DONE")
"""

_INFERENCE = ("chat", "generate_content", "text_completion")


def _model_calls(spans: list[Span]) -> list[Span]:
    return [s for s in spans if s.attributes.get("gen_ai.operation.name") in _INFERENCE]


def test_one_chat_span_per_model_call_tokens_counted_once(
    run_instrumented,
    stack: Stack,
    jaeger: JaegerClient,
    service_name: str,
    fake_openai,
    fake_gemini,
) -> None:
    code = SCRIPT.format(
        openai=fake_openai.base_url, gemini=fake_gemini.base_url, fail=fakes.FAIL_MODEL
    )
    result = run_instrumented(code, env=provider_env(stack, service_name))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["FAILED", "DONE"]
    assert len(fake_openai.requests) == 5 and len(fake_gemini.requests) == 2

    trace = jaeger.wait_for_trace(service_name, min_spans=16)
    root = trace.one("job")
    calls = _model_calls(trace.spans)
    # Six model calls, six GenAI spans: LangChain's for the five it drives, the SDK's
    # for the one a chain step makes directly.
    assert [s.name for s in calls] == [
        "chat gpt-fake",
        "chat gpt-fake",
        "chat gpt-stream",
        "chat gemini-fake",
        "chat gemini-stream",
        "chat gpt-direct",
        f"chat {fakes.FAIL_MODEL}",
    ]
    langchain, direct, failed = calls[:5], calls[5], calls[6]
    for span in langchain:
        assert span.parent is root and span.scope == "podcast_kg_otel_langchain"
        # The SDK's request nests under the LangChain span: no provider span between.
        (http,) = span.children
        assert http.name == "POST" and http.attributes["http.request.method"] == "POST"
        assert not http.children
    for span in langchain[3:]:
        # Added from the SDK's own instrumentation: LangChain does not report it.
        assert span.attributes["server.address"] == "127.0.0.1"
    assert direct.scope != "podcast_kg_otel_langchain"
    assert direct.parent.name == "invoke_workflow direct" and direct.children[0].name == "POST"

    # A failed call: one chat span, in error with LangChain's exception type, above the
    # failed request.
    assert failed.scope == "podcast_kg_otel_langchain" and failed.status_code == "ERROR"
    assert failed.attributes["error.type"].endswith("OpenAIInvalidRequestError")
    assert failed.children[0].attributes["http.response.status_code"] == 400

    # Every HTTP request to a provider has exactly one GenAI span above it.
    posts = [s for s in trace.spans if s.name == "POST"]
    assert len(posts) == 7 and all(p.parent in calls for p in posts)

    assert "gen_ai.usage.input_tokens" not in failed.attributes
    usage = [
        (s.attributes["gen_ai.usage.input_tokens"], s.attributes["gen_ai.usage.output_tokens"])
        for s in calls[:6]
    ]
    openai_usage = (fakes.OPENAI_USAGE["prompt_tokens"], fakes.OPENAI_USAGE["completion_tokens"])
    stream = fakes.OPENAI_STREAM_USAGE
    gemini_usage = (
        fakes.GEMINI_USAGE["promptTokenCount"],
        fakes.GEMINI_USAGE["candidatesTokenCount"],
    )
    gemini_stream = fakes.GEMINI_STREAM_USAGE
    assert usage == [
        openai_usage,
        openai_usage,
        (stream["prompt_tokens"], stream["completion_tokens"]),
        gemini_usage,
        (gemini_stream["promptTokenCount"], gemini_stream["candidatesTokenCount"]),
        openai_usage,
    ]
    # Token totals over the trace equal what the fakes returned: counted once.
    expected_input = 3 * openai_usage[0] + stream["prompt_tokens"]
    expected_input += gemini_usage[0] + gemini_stream["promptTokenCount"]
    total_input = sum(s.attributes.get("gen_ai.usage.input_tokens", 0) for s in trace.spans)
    assert total_input == expected_input
