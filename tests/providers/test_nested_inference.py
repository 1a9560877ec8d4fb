"""Unit tests of the nested-inference rule (podcast_kg_otel.providers), in memory."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import INVALID_SPAN_CONTEXT, NonRecordingSpan, SpanKind, StatusCode, Tracer
from opentelemetry.trace.propagation import _SPAN_KEY
from podcast_kg_otel_util import failopen
from podcast_kg_otel_util.content import CAPTURE_CONTENT_ENV

from podcast_kg_otel import providers

CHAT = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"}


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def sdk(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider
    provider.shutdown()


@pytest.fixture
def sdk_tracer(sdk: TracerProvider) -> Tracer:
    """A tracer provider-SDK instrumentations do not use (a framework's, or HTTP's)."""
    return sdk.get_tracer("framework")


@pytest.fixture
def provider_tracer(sdk: TracerProvider) -> Tracer:
    """What an instrumentor given the nested-inference provider gets."""
    return providers.NestedInferenceTracerProvider(sdk).get_tracer("opentelemetry.util.genai")


def _call(tracer: Tracer, http: Tracer) -> None:
    """A provider SDK call as util-genai makes it: a span, current while the request runs."""
    span = tracer.start_span("chat m", kind=SpanKind.CLIENT, attributes=CHAT)
    with trace.use_span(span, end_on_exit=True):
        http.start_span("POST", kind=SpanKind.CLIENT).end()


def test_inside_another_instrumentations_chat_span_the_provider_span_is_not_recorded(
    exporter: InMemorySpanExporter, sdk_tracer: Tracer, provider_tracer: Tracer
) -> None:
    with sdk_tracer.start_as_current_span("chat m", kind=SpanKind.CLIENT, attributes=CHAT):
        _call(provider_tracer, sdk_tracer)
    post, chat = exporter.get_finished_spans()
    assert (post.name, chat.name) == ("POST", "chat m")
    assert chat.instrumentation_scope.name == "framework"
    assert post.parent.span_id == chat.context.span_id  # the request nests under ours


def test_what_the_provider_adds_that_the_outer_span_lacks_is_kept_on_it(
    exporter: InMemorySpanExporter, sdk_tracer: Tracer, provider_tracer: Tracer
) -> None:
    with sdk_tracer.start_as_current_span("chat m", kind=SpanKind.CLIENT, attributes=CHAT):
        start = {"gen_ai.request.model": "sdk-name", "server.address": "127.0.0.1"}
        inner = provider_tracer.start_span("chat sdk-name", attributes=start)
        assert inner.is_recording()
        inner.set_attribute("server.port", 8080)
        inner.set_attributes(
            {
                "gen_ai.operation.name": "generate_content",
                "gen_ai.usage.input_tokens": 5,
                "error.type": "400",
            }
        )
        inner.set_status(StatusCode.ERROR)
        inner.end()
    (chat,) = exporter.get_finished_spans()
    assert dict(chat.attributes) == {
        **CHAT,
        "server.address": "127.0.0.1",
        "server.port": 8080,
        "gen_ai.usage.input_tokens": 5,
    }
    assert chat.status.status_code is StatusCode.UNSET  # the outer span's own outcome


def test_called_directly_the_provider_span_is_recorded(
    exporter: InMemorySpanExporter, sdk_tracer: Tracer, provider_tracer: Tracer
) -> None:
    with sdk_tracer.start_as_current_span("job") as job:
        _call(provider_tracer, sdk_tracer)
    post, chat, root = exporter.get_finished_spans()
    assert chat.instrumentation_scope.name == "opentelemetry.util.genai"
    assert chat.parent.span_id == job.get_span_context().span_id
    assert post.parent.span_id == chat.context.span_id
    assert root.name == "job"


@pytest.mark.parametrize(
    "attributes",
    [
        {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup"},
        {"gen_ai.operation.name": "invoke_workflow"},
        {},
    ],
)
def test_inside_other_spans_the_provider_span_is_recorded(
    exporter: InMemorySpanExporter,
    sdk_tracer: Tracer,
    provider_tracer: Tracer,
    attributes: dict[str, str],
) -> None:
    with sdk_tracer.start_as_current_span("step", attributes=attributes):
        _call(provider_tracer, sdk_tracer)
    assert [s.name for s in exporter.get_finished_spans()] == ["POST", "chat m", "step"]


def test_a_model_call_inside_a_provider_call_is_its_own(
    exporter: InMemorySpanExporter, sdk_tracer: Tracer, provider_tracer: Tracer
) -> None:
    """A tool that calls a second model from inside an SDK call (automatic function
    calling) makes a second model call, not a duplicate of the first."""
    with provider_tracer.start_as_current_span("chat outer", attributes=CHAT):
        _call(provider_tracer, sdk_tracer)
    assert [s.name for s in exporter.get_finished_spans()] == ["POST", "chat m", "chat outer"]


def test_start_as_current_span_inside_a_chat_span_leaves_it_open(
    exporter: InMemorySpanExporter, sdk_tracer: Tracer, provider_tracer: Tracer
) -> None:
    with sdk_tracer.start_as_current_span("chat m", attributes=CHAT) as outer:
        with provider_tracer.start_as_current_span("embeddings m") as inner:
            assert inner.get_span_context() == outer.get_span_context()
        assert outer.is_recording()  # the inner exit did not end the outer span
    assert [s.name for s in exporter.get_finished_spans()] == ["chat m"]


class _Unreadable(NonRecordingSpan):
    """A recording span whose attributes cannot be read."""

    def is_recording(self) -> bool:
        return True

    @property
    def attributes(self) -> dict[str, str]:
        raise RuntimeError("broken span")


def test_an_unreadable_current_span_fails_open(
    exporter: InMemorySpanExporter,
    provider_tracer: Tracer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    failopen._logged.clear()
    context = Context({_SPAN_KEY: _Unreadable(INVALID_SPAN_CONTEXT)})
    with caplog.at_level(logging.WARNING):
        provider_tracer.start_span("chat m", context, attributes=CHAT).end()
        provider_tracer.start_span("chat m", context, attributes=CHAT).end()
    assert [s.name for s in exporter.get_finished_spans()] == ["chat m", "chat m"]
    assert len([r for r in caplog.records if "provider SDK call" in r.getMessage()]) == 1


def test_configure_adds_the_tracer_provider_unless_given() -> None:
    kwargs = providers.configure({"skip_dep_check": True})
    assert isinstance(kwargs["tracer_provider"], providers.NestedInferenceTracerProvider)
    assert kwargs["skip_dep_check"] is True
    # One provider for every provider instrumentor: each knows the others' scopes.
    assert providers.configure({})["tracer_provider"] is kwargs["tracer_provider"]
    own = TracerProvider()
    assert providers.configure({"tracer_provider": own})["tracer_provider"] is own


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", "SPAN_ONLY"),
        (" TRUE ", "SPAN_ONLY"),
        ("false", "NO_CONTENT"),
        ("SPAN_AND_EVENT", "SPAN_AND_EVENT"),
        ("EVENT_ONLY", "EVENT_ONLY"),
    ],
)
def test_a_boolean_content_setting_becomes_a_util_genai_mode(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    monkeypatch.setenv(CAPTURE_CONTENT_ENV, value)
    providers.configure({})
    assert os.environ[CAPTURE_CONTENT_ENV] == expected
