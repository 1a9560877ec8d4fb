"""Fixtures for the context-propagation tests: in-memory spans and the wrappers installed
for the test only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer
from podcast_kg_otel_util import failopen

from podcast_kg_otel import processes, threads


@pytest.fixture(autouse=True)
def fresh_warnings() -> Iterator[None]:
    failopen._logged.clear()
    yield


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer(exporter: InMemorySpanExporter) -> Iterator[Tracer]:
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider.get_tracer("context-test")
    provider.shutdown()


@pytest.fixture
def instrumented() -> Iterator[None]:
    """Both wrappers on (the pool modules are imported first, so they wrap at once)."""
    import concurrent.futures.process
    import concurrent.futures.thread  # noqa: F401
    import multiprocessing.pool  # noqa: F401

    threads.instrument()
    processes.instrument()
    yield
    processes.uninstrument()
    threads.uninstrument()
