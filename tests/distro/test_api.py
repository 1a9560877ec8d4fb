"""The guide's Python API on an in-memory exporter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from opentelemetry import baggage, trace
from opentelemetry import context as context_api
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from podcast_kg_otel import (
    add_span_attributes,
    create_span,
    extract_context,
    get_tracer,
    inject_context,
    trace_async,
    trace_business_operation,
    trace_database,
    trace_method,
    trace_provider_call,
)
from podcast_kg_otel import spans as spans_module


class Boom(Exception):
    pass


def by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    spans = exporter.get_finished_spans()
    names = [span.name for span in spans]
    assert len(names) == len(set(names)), names
    return {span.name: span for span in spans}


def assert_failed_once(span: ReadableSpan, error: Exception) -> None:
    assert span.status.status_code is StatusCode.ERROR
    events = [event for event in span.events if event.name == "exception"]
    assert len(events) == 1
    assert events[0].attributes["exception.type"].endswith(type(error).__name__)
    assert span.attributes["error.type"] == f"{__name__}.Boom"


def test_trace_method_default_name_and_nesting(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    class Pipeline:
        @trace_method(tracer_provider=provider)
        def run(self, value: int) -> int:
            return self.step(value) + 1

        @trace_method(name="pipeline.step", attributes={"stage": "one"}, tracer_provider=provider)
        def step(self, value: int) -> int:
            return value * 2

    assert Pipeline().run(3) == 7
    assert Pipeline.run.__name__ == "run"
    spans = by_name(exporter)
    root_name = f"{__name__}.test_trace_method_default_name_and_nesting.<locals>.Pipeline.run"
    root, child = spans[root_name], spans["pipeline.step"]
    assert child.parent.span_id == root.context.span_id
    assert child.attributes["stage"] == "one"
    assert root.status.status_code is StatusCode.UNSET


def test_bare_decorator_keeps_the_function() -> None:
    @trace_method
    def plain(value: str) -> str:
        """Docstring kept."""
        return value * 2

    assert plain("ab") == "abab"
    assert plain.__name__ == "plain" and plain.__doc__ == "Docstring kept."
    assert plain.__wrapped__("c") == "cc"


def test_exception_is_recorded_once_and_reraised_unchanged(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    error = Boom("bad input")

    @trace_method(name="outer", tracer_provider=provider)
    def outer() -> None:
        inner()

    @trace_method(name="inner", tracer_provider=provider)
    def inner() -> None:
        raise error

    with pytest.raises(Boom) as raised:
        outer()
    assert raised.value is error
    spans = by_name(exporter)
    assert_failed_once(spans["inner"], error)
    assert_failed_once(spans["outer"], error)


async def test_trace_async_coroutine(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    @trace_async(name="fetch", tracer_provider=provider)
    async def fetch(value: int) -> int:
        await asyncio.sleep(0)
        with create_span("fetch.inner", tracer_provider=provider):
            await asyncio.sleep(0)
        return value

    @trace_async(name="fail", tracer_provider=provider)
    async def fail() -> None:
        await asyncio.sleep(0)
        raise Boom("async")

    assert await asyncio.gather(fetch(1), fetch(2)) == [1, 2]
    with pytest.raises(Boom):
        await fail()
    spans = exporter.get_finished_spans()
    fetches = [span for span in spans if span.name == "fetch"]
    inners = [span for span in spans if span.name == "fetch.inner"]
    assert len(fetches) == 2 and len(inners) == 2
    assert {inner.parent.span_id for inner in inners} == {f.context.span_id for f in fetches}
    assert_failed_once(next(span for span in spans if span.name == "fail"), Boom())


def test_generator_span_covers_iteration_and_is_not_current_in_the_consumer(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    seen_inside: list[int] = []

    @trace_method(name="produce", tracer_provider=provider)
    def produce(count: int) -> Iterator[int]:
        for index in range(count):
            seen_inside.append(trace.get_current_span().get_span_context().span_id)
            received = yield index
            if received is not None:
                seen_inside.append(received)
        return None

    with create_span("consumer", tracer_provider=provider) as consumer:
        generator = produce(3)
        assert next(generator) == 0
        assert trace.get_current_span() is consumer
        assert generator.send(42) == 1
        assert trace.get_current_span() is consumer
        assert list(generator) == [2]
    spans = by_name(exporter)
    produced = spans["produce"]
    assert produced.parent.span_id == spans["consumer"].context.span_id
    assert 42 in seen_inside
    assert {value for value in seen_inside if value != 42} == {produced.context.span_id}
    assert produced.status.status_code is StatusCode.UNSET


def test_generator_closed_early_and_failing_generator(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    @trace_method(name="endless", tracer_provider=provider)
    def endless() -> Iterator[int]:
        while True:
            yield 1

    @trace_method(name="broken", tracer_provider=provider)
    def broken() -> Iterator[int]:
        yield 1
        raise Boom("midway")

    generator = endless()
    next(generator)
    generator.close()
    with pytest.raises(Boom):
        list(broken())
    spans = by_name(exporter)
    assert spans["endless"].status.status_code is StatusCode.UNSET
    assert spans["endless"].end_time is not None
    assert_failed_once(spans["broken"], Boom())


def test_exception_thrown_into_generator_can_be_handled(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    @trace_method(name="resilient", tracer_provider=provider)
    def resilient() -> Iterator[str]:
        try:
            yield "first"
        except Boom:
            yield "recovered"

    generator = resilient()
    assert next(generator) == "first"
    assert generator.throw(Boom("from consumer")) == "recovered"
    generator.close()
    assert by_name(exporter)["resilient"].status.status_code is StatusCode.UNSET


async def test_async_generator(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    @trace_async(name="stream", tracer_provider=provider)
    async def stream(count: int) -> AsyncIterator[int]:
        for index in range(count):
            with create_span(f"item-{index}", tracer_provider=provider):
                await asyncio.sleep(0)
            yield index

    @trace_async(name="stream.fail", tracer_provider=provider)
    async def failing() -> AsyncIterator[int]:
        yield 1
        raise Boom("stream")

    assert [item async for item in stream(2)] == [0, 1]
    with pytest.raises(Boom):
        async for _ in failing():
            pass
    spans = by_name(exporter)
    assert spans["item-0"].parent.span_id == spans["stream"].context.span_id
    assert spans["item-1"].parent.span_id == spans["stream"].context.span_id
    assert_failed_once(spans["stream.fail"], Boom())


def test_create_span_attributes_kind_and_error(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    error = Boom("in block")
    with (
        pytest.raises(Boom) as raised,
        create_span(
            "custom_operation", {"data.size": 3}, SpanKind.PRODUCER, tracer_provider=provider
        ) as span,
    ):
        span.set_attribute("operation.type", "processing")
        raise error
    assert raised.value is error
    recorded = by_name(exporter)["custom_operation"]
    assert recorded.kind is SpanKind.PRODUCER
    assert recorded.attributes["data.size"] == 3
    assert recorded.attributes["operation.type"] == "processing"
    assert_failed_once(recorded, error)


def test_add_span_attributes(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    add_span_attributes({"ignored": 1})  # no recording span: nothing happens, nothing raises
    with create_span("stage", tracer_provider=provider):
        add_span_attributes(
            {
                "episode.id": "ep_1",
                "segments.count": 150,
                "tags": ["a", "b"],
                "meta": {"k": 1},
                "none": None,
            }
        )
    attributes = by_name(exporter)["stage"].attributes
    assert attributes["episode.id"] == "ep_1"
    assert attributes["segments.count"] == 150
    assert attributes["tags"] == ("a", "b")
    assert attributes["meta"] == "{'k': 1}"
    assert "none" not in attributes and "ignored" not in attributes


def test_trace_business_operation(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    with (
        trace_business_operation(
            "episode_processing",
            "knowledge_extraction",
            episode_id="ep_7",
            tracer_provider=provider,
        ),
        create_span("extract_entities", tracer_provider=provider),
    ):
        pass
    spans = by_name(exporter)
    business = spans["episode_processing.knowledge_extraction"]
    assert business.attributes["podcast_kg.operation.type"] == "episode_processing"
    assert business.attributes["podcast_kg.operation.name"] == "knowledge_extraction"
    assert business.attributes["episode.id"] == "ep_7"
    assert spans["extract_entities"].parent.span_id == business.context.span_id


def test_trace_database_follows_db_semconv_without_literals(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    @trace_database(
        "query",
        "neo4j",
        query="MATCH (n {name: 'Ada', age: 36}) RETURN n",
        tracer_provider=provider,
    )
    def get_all_nodes() -> list[str]:
        return ["n"]

    assert get_all_nodes() == ["n"]
    span = by_name(exporter)["neo4j.query"]
    assert span.kind is SpanKind.CLIENT
    assert span.attributes["db.system.name"] == "neo4j"
    assert span.attributes["db.operation.name"] == "query"
    assert span.attributes["db.query.text"] == "MATCH (n {name: ?, age: ?}) RETURN n"
    assert span.attributes["code.function.name"].endswith("get_all_nodes")


def test_trace_provider_call_llm_and_other(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    @trace_provider_call(
        "llm", "generate", model="gemini-pro", provider="gcp.gemini", tracer_provider=provider
    )
    def generate_summary(text: str) -> str:
        return text[:3]

    @trace_provider_call("embedding", "embed_batch", model="mini", tracer_provider=provider)
    def embed() -> list[float]:
        raise Boom("quota")

    assert generate_summary("abcdef") == "abc"
    with pytest.raises(Boom):
        embed()
    spans = by_name(exporter)
    llm = spans["generate_content gemini-pro"]
    assert llm.kind is SpanKind.CLIENT
    assert llm.attributes["gen_ai.operation.name"] == "generate_content"
    assert llm.attributes["gen_ai.request.model"] == "gemini-pro"
    assert llm.attributes["gen_ai.provider.name"] == "gcp.gemini"
    other = spans["embedding.embed_batch"]
    assert other.attributes["podcast_kg.provider.type"] == "embedding"
    assert other.attributes["podcast_kg.provider.model"] == "mini"
    assert_failed_once(other, Boom())


def test_inject_and_extract_round_trip(provider: TracerProvider) -> None:
    tracer = get_tracer(tracer_provider=provider)
    with tracer.start_as_current_span("client") as span:
        token = context_api.attach(baggage.set_baggage("episode.id", "ep_9"))
        try:
            headers = inject_context({})
        finally:
            context_api.detach(token)
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert headers["traceparent"].split("-")[1] == trace_id
    assert headers["baggage"] == "episode.id=ep_9"
    extracted = extract_context(headers)
    remote = trace.get_current_span(extracted).get_span_context()
    assert remote.is_remote and remote.span_id == span.get_span_context().span_id
    assert baggage.get_baggage("episode.id", extracted) == "ep_9"
    with create_span("server", context=extracted, tracer_provider=provider) as server:
        assert server.parent.span_id == span.get_span_context().span_id
        assert server.get_span_context().trace_id == span.get_span_context().trace_id


def test_get_tracer_scope(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    with get_tracer(tracer_provider=provider).start_as_current_span("manual"):
        pass
    scope = by_name(exporter)["manual"].instrumentation_scope
    assert scope.name == "podcast_kg_otel" and scope.version


def test_a_failure_of_ours_never_replaces_the_application_exception(
    monkeypatch: pytest.MonkeyPatch, provider: TracerProvider, our_warnings
) -> None:
    def broken_record_error(span: object, error: BaseException) -> None:
        raise RuntimeError("bug in our recording code")

    monkeypatch.setattr(spans_module, "record_error", broken_record_error)
    error = Boom("the app's own error")

    @trace_method(name="guarded", tracer_provider=provider)
    def guarded() -> None:
        raise error

    for _ in range(2):
        with pytest.raises(Boom) as raised:
            guarded()
        assert raised.value is error
    (message,) = our_warnings()
    assert "recording an exception" in message
