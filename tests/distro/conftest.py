"""Fixtures for the distro tests: an in-memory provider and fresh one-time warnings."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from podcast_kg_otel_util import env as envtools
from podcast_kg_otel_util import failopen

from podcast_kg_otel import config as config_module


@pytest.fixture(autouse=True)
def fresh_state() -> Iterator[None]:
    """Each test sees its warnings again and builds its own process configuration."""
    envtools._warned.clear()
    failopen._logged.clear()
    config_module._current = None
    yield
    config_module._current = None


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    """A non-global provider that keeps finished spans in memory."""
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield tracer_provider
    tracer_provider.shutdown()


@pytest.fixture
def our_warnings(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """Call it to get the WARNING messages our package logged so far."""
    caplog.set_level(logging.WARNING)

    def messages() -> list[str]:
        return [
            record.getMessage()
            for record in caplog.records
            if record.name.startswith("podcast_kg_otel") and record.levelno >= logging.WARNING
        ]

    return messages
