"""Fixtures: tiny real Whisper models built offline once per run, and in-memory tracing.

The models come from stacktools.tiny_whisper: "scripted" transcribes any audio as exactly
one segment [0.00 -> 1.00] " hello world" per 30 s window, "random" decodes gibberish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from faster_whisper import WhisperModel
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from podcast_kg_otel_faster_whisper import FasterWhisperInstrumentor

from stacktools.tiny_whisper import build_tiny_model


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("whisper-models")


@pytest.fixture(scope="session")
def scripted_dir(models_dir: Path) -> Path:
    return build_tiny_model(models_dir / "tiny-scripted", "scripted")


@pytest.fixture(scope="session")
def random_dir(models_dir: Path) -> Path:
    return build_tiny_model(models_dir / "tiny-random", "random")


@pytest.fixture(scope="session")
def multilingual_dir(models_dir: Path) -> Path:
    return build_tiny_model(models_dir / "tiny-multi", "scripted", multilingual=True)


class Spans:
    """Finished spans of the in-memory exporter, by name."""

    def __init__(self, exporter: InMemorySpanExporter, provider: TracerProvider) -> None:
        self.exporter = exporter
        self.provider = provider

    def all(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.all() if span.name == name]

    def one(self, name: str) -> ReadableSpan:
        found = self.named(name)
        assert len(found) == 1, f"{name}: {[s.name for s in self.all()]}"
        return found[0]

    def clear(self) -> None:
        self.exporter.clear()


@pytest.fixture
def instrumented() -> Iterator[Callable[..., Spans]]:
    """`instrumented(**instrument_kwargs)`: the instrumentor on a private in-memory
    provider; removed after the test."""

    def start(**kwargs: object) -> Spans:
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        FasterWhisperInstrumentor().instrument(tracer_provider=provider, **kwargs)
        return Spans(exporter, provider)

    yield start
    FasterWhisperInstrumentor().uninstrument()


@pytest.fixture
def spans(instrumented: Callable[..., Spans]) -> Spans:
    return instrumented()


@pytest.fixture
def model(spans: Spans, scripted_dir: Path) -> WhisperModel:
    """The scripted model, loaded while instrumented; the load span is cleared."""
    loaded = WhisperModel(str(scripted_dir), device="cpu", compute_type="float32", cpu_threads=1)
    spans.clear()
    return loaded
