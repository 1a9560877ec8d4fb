"""The openai and google-genai SDKs called directly under ``opentelemetry-instrument``
against the fake providers: one GenAI client span per call, read back from Jaeger."""

from __future__ import annotations

import json

from stacktools.jaeger import JaegerClient, Span, Trace
from stacktools.stack import Stack

from . import fakes
from .conftest import provider_env

# Heavy modules that must not be imported before the program imports them.
_HEAVY = """
import json, sys
HEAVY = ("openai", "google.genai", "httpx", "httpx2", "grpc", "opentelemetry.util.genai",
         "opentelemetry.instrumentation.openai_v2", "opentelemetry.instrumentation.httpx",
         "opentelemetry.instrumentation.google_genai", "opentelemetry.instrumentation.grpc")
print("START", json.dumps([name for name in HEAVY if name in sys.modules]))
"""

OPENAI = (
    _HEAVY
    + """
import asyncio
from opentelemetry import trace
import openai

BASE = {base!r} + "/v1"
MESSAGES = [{{"role": "user", "content": "Name the entities in: Ada wrote notes."}}]

async def call_async():
    client = openai.AsyncOpenAI(base_url=BASE, max_retries=0)
    reply = await client.chat.completions.create(model="gpt-fake", messages=MESSAGES)
    await client.close()
    return reply

with trace.get_tracer("provider-test").start_as_current_span("job"):
    client = openai.OpenAI(base_url=BASE, max_retries=0)
    reply = client.chat.completions.create(model="gpt-fake", messages=MESSAGES)
    print("SYNC", reply.usage.prompt_tokens, reply.usage.completion_tokens)
    reply = asyncio.run(call_async())
    print("ASYNC", reply.usage.prompt_tokens, reply.usage.completion_tokens)
    stream = client.chat.completions.create(
        model="gpt-stream", messages=MESSAGES, stream=True,
        stream_options={{"include_usage": True}},
    )
    print("STREAM", "".join(c.choices[0].delta.content or "" for c in stream if c.choices))
    try:
        client.chat.completions.create(model={fail!r}, messages=MESSAGES)
    except openai.BadRequestError as error:
        print("ERROR", error.status_code)
"""
)

GEMINI = (
    _HEAVY
    + """
import asyncio
from opentelemetry import trace
from google import genai
from google.genai import errors

PROMPT = "Name the topics of: Ada wrote notes."

async def call_async(client):
    return await client.aio.models.generate_content(model="gemini-fake", contents=PROMPT)

with trace.get_tracer("provider-test").start_as_current_span("job"):
    client = genai.Client(http_options={{"base_url": {base!r}}})
    reply = client.models.generate_content(model="gemini-fake", contents=PROMPT)
    print("SYNC", reply.usage_metadata.prompt_token_count)
    reply = asyncio.run(call_async(client))
    print("ASYNC", reply.usage_metadata.prompt_token_count)
    chunks = client.models.generate_content_stream(model="gemini-stream", contents=PROMPT)
    print("STREAM", "".join(chunk.text or "" for chunk in chunks))
    try:
        client.models.generate_content(model={fail!r}, contents=PROMPT)
    except errors.ClientError as error:
        print("ERROR", error.code)
"""
)


# Jaeger's query API shows an array attribute as its JSON text.
FINISHED = '["stop"]'


def _output(stdout: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in stdout.splitlines() if " " in line)


def _chat_spans(trace: Trace, operation: str) -> list[Span]:
    return [s for s in trace.spans if s.attributes.get("gen_ai.operation.name") == operation]


def _assert_http_child(span: Span, path: str) -> None:
    """The SDK's HTTP request nests under its GenAI span, in the stable HTTP names."""
    (http,) = span.children
    assert (http.name, http.kind) == ("POST", "client")
    assert http.attributes["http.request.method"] == "POST"
    assert path in http.attributes["url.full"]
    assert "http.method" not in http.attributes and "http.url" not in http.attributes


def _assert_no_content(trace: Trace) -> None:
    for span in trace.spans:
        for key in span.attributes:
            assert not key.startswith(("gen_ai.input", "gen_ai.output", "gen_ai.system_instr"))
        assert not [e for e in span.events if e.name.startswith("gen_ai.")]


def test_openai_sync_async_stream_and_error(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str, fake_openai
) -> None:
    code = OPENAI.format(base=fake_openai.base_url, fail=fakes.FAIL_MODEL)
    result = run_instrumented(code, env=provider_env(stack, service_name))
    assert result.returncode == 0, result.stderr
    out = _output(result.stdout)
    assert json.loads(out["START"]) == []  # applied lazily: nothing imported at start-up
    assert out["ERROR"] == "400" and out["STREAM"] == "".join(fakes.OPENAI_STREAM_PIECES)

    trace = jaeger.wait_for_trace(service_name, min_spans=9)
    root = trace.one("job")
    chats = _chat_spans(trace, "chat")
    assert [s.name for s in chats] == [
        "chat gpt-fake",
        "chat gpt-fake",
        "chat gpt-stream",
        f"chat {fakes.FAIL_MODEL}",
    ]
    usage = fakes.OPENAI_USAGE
    for span in chats:
        assert span.parent is root and span.kind == "client"
        assert span.attributes["gen_ai.provider.name"] == "openai"
        _assert_http_child(span, "/v1/chat/completions")
    for span in chats[:2]:  # sync and async
        assert span.status_code == "UNSET"
        assert span.attributes["gen_ai.response.model"] == "gpt-fake-2026-01-01"
        assert span.attributes["gen_ai.response.id"] == "chatcmpl-fake-1"
        assert span.attributes["gen_ai.usage.input_tokens"] == usage["prompt_tokens"]
        assert span.attributes["gen_ai.usage.output_tokens"] == usage["completion_tokens"]
        assert span.attributes["gen_ai.response.finish_reasons"] == FINISHED
    stream = chats[2]
    # Usage from the stream's last chunk; openai-v2 2.4b0 records no finish reasons for
    # streams (README, "LLM provider SDKs").
    assert (
        stream.attributes["gen_ai.usage.input_tokens"] == fakes.OPENAI_STREAM_USAGE["prompt_tokens"]
    )
    assert (
        stream.attributes["gen_ai.usage.output_tokens"]
        == fakes.OPENAI_STREAM_USAGE["completion_tokens"]
    )
    assert stream.attributes["gen_ai.response.model"] == "gpt-stream-2026-01-01"
    failed = chats[3]
    assert failed.status_code == "ERROR"
    assert "BadRequestError" in failed.attributes["error.type"]
    assert "gen_ai.usage.input_tokens" not in failed.attributes
    assert failed.children[0].attributes["http.response.status_code"] == 400
    _assert_no_content(trace)


def test_gemini_sync_async_stream_and_error(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str, fake_gemini
) -> None:
    code = GEMINI.format(base=fake_gemini.base_url, fail=fakes.FAIL_MODEL)
    result = run_instrumented(code, env=provider_env(stack, service_name))
    assert result.returncode == 0, result.stderr
    out = _output(result.stdout)
    assert json.loads(out["START"]) == []
    assert out["ERROR"] == "400" and out["STREAM"] == "".join(fakes.GEMINI_STREAM_PIECES)

    trace = jaeger.wait_for_trace(service_name, min_spans=9)
    root = trace.one("job")
    calls = _chat_spans(trace, "generate_content")
    assert [s.name for s in calls] == [
        "generate_content gemini-fake",
        "generate_content gemini-fake",
        "generate_content gemini-stream",
        f"generate_content {fakes.FAIL_MODEL}",
    ]
    for span in calls:
        assert span.parent is root and span.kind == "client"
        assert span.attributes["gen_ai.provider.name"] == "gemini"
        assert span.attributes["server.address"] == "127.0.0.1"
        _assert_http_child(span, f"/models/{span.attributes['gen_ai.request.model']}:")
    expected = [fakes.GEMINI_USAGE, fakes.GEMINI_USAGE, fakes.GEMINI_STREAM_USAGE]
    for span, usage in zip(calls[:3], expected, strict=True):
        assert span.status_code == "UNSET"
        model = span.attributes["gen_ai.request.model"]
        assert span.attributes["gen_ai.response.model"] == f"{model}-001"
        assert span.attributes["gen_ai.usage.input_tokens"] == usage["promptTokenCount"]
        assert span.attributes["gen_ai.usage.output_tokens"] == usage["candidatesTokenCount"]
        assert span.attributes["gen_ai.response.finish_reasons"] == FINISHED
    failed = calls[3]
    assert failed.status_code == "ERROR" and failed.attributes["error.type"] == "400"
    _assert_no_content(trace)


def test_content_opt_in_with_true(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str, fake_openai
) -> None:
    """The same `true` that opts our plugins in opts the provider SDK spans in (util-genai
    alone would warn about it and capture nothing)."""
    code = OPENAI.format(base=fake_openai.base_url, fail=fakes.FAIL_MODEL)
    env = provider_env(
        stack, service_name, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true"
    )
    result = run_instrumented(code, env=env)
    assert result.returncode == 0, result.stderr
    assert "not a valid option" not in result.stderr

    trace = jaeger.wait_for_trace(service_name, min_spans=9)
    first = _chat_spans(trace, "chat")[0]
    assert "Ada wrote notes" in first.attributes["gen_ai.input.messages"]
    assert fakes.OPENAI_TEXT in first.attributes["gen_ai.output.messages"]
