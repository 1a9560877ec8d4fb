"""Fixtures: the instrumentor on a private TracerProvider with an in-memory exporter."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from podcast_kg_otel_langchain import LangChainInstrumentor


@pytest.fixture
def no_context_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The test logs no context error, no handler error and no warning about an ended
    span, and leaves no current span behind."""
    caplog.set_level(logging.WARNING)
    yield
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "Failed to detach context" in m], messages
    assert not [m for m in messages if "callback" in m or "podcast-kg-otel" in m], messages
    assert not [m for m in messages if "ended span" in m], messages
    assert not trace.get_current_span().get_span_context().is_valid


class EndCounter(SpanProcessor):
    """Counts how often each span is ended (an SDK span ended twice is only logged)."""

    def __init__(self) -> None:
        self.ends: Counter[int] = Counter()

    def on_end(self, span: ReadableSpan) -> None:
        self.ends[span.context.span_id] += 1


class Spans:
    """Finished spans with helpers to find them and their parents."""

    def __init__(self, exporter: InMemorySpanExporter, provider: TracerProvider) -> None:
        self.exporter = exporter
        self.provider = provider
        self.end_counter = EndCounter()
        provider.add_span_processor(self.end_counter)

    def assert_each_ended_once(self) -> None:
        assert self.end_counter.ends and set(self.end_counter.ends.values()) == {1}

    @property
    def all(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.all if s.name == name]

    def one(self, name: str) -> ReadableSpan:
        found = self.named(name)
        assert len(found) == 1, f"expected one {name!r}, got {[s.name for s in self.all]}"
        return found[0]

    def parent_of(self, span: ReadableSpan) -> ReadableSpan | None:
        if span.parent is None:
            return None
        for candidate in self.all:
            if candidate.context.span_id == span.parent.span_id:
                return candidate
        raise AssertionError(f"parent of {span.name!r} was not exported")

    def names(self) -> list[str]:
        return sorted(s.name for s in self.all)

    def clear(self) -> None:
        self.exporter.clear()


@pytest.fixture
def instrument() -> Iterator[Callable[..., Spans]]:
    """`instrument(**options)` instruments LangChain; uninstrumented after the test."""
    instrumentor = LangChainInstrumentor()

    def start(**options: Any) -> Spans:
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        instrumentor.instrument(tracer_provider=provider, **options)
        return Spans(exporter, provider)

    yield start
    instrumentor.uninstrument()


@pytest.fixture
def spans(instrument: Callable[..., Spans]) -> Spans:
    return instrument()
