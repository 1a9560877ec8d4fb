"""Fixtures for the run-time behaviour tests: in-memory spans, importable throwaway
modules, and helpers for the subprocess runs against the real Jaeger."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from podcast_kg_otel_util import env as envtools
from podcast_kg_otel_util import failopen

from stacktools.stack import Stack


@pytest.fixture(autouse=True)
def fresh_warnings() -> Iterator[None]:
    envtools._warned.clear()
    failopen._logged.clear()
    yield


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    tracer_provider = TracerProvider(shutdown_on_exit=False)
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield tracer_provider
    tracer_provider.shutdown()


WriteModule = Callable[[str, str], str]


@pytest.fixture
def write_module(tmp_path: Path) -> Iterator[WriteModule]:
    """``write_module("pkg.sub", source)`` creates an importable module with a unique
    top-level package name and returns its dotted name; unloaded afterwards."""
    prefix = f"rt_{uuid.uuid4().hex[:8]}"
    sys.path.insert(0, str(tmp_path))

    def write(dotted: str, source: str) -> str:
        parts = f"{prefix}_{dotted}".split(".")
        folder = tmp_path
        for package in parts[:-1]:
            folder = folder / package
            folder.mkdir(exist_ok=True)
            init = folder / "__init__.py"
            if not init.exists():
                init.write_text("")
        (folder / f"{parts[-1]}.py").write_text(textwrap.dedent(source))
        return ".".join(parts)

    yield write
    sys.path.remove(str(tmp_path))
    for name in [name for name in sys.modules if name.startswith(prefix)]:
        del sys.modules[name]


def runtime_env(stack: Stack, service_name: str, **extra: str) -> dict[str, str]:
    """Only environment: our distro, traces over OTLP/HTTP to the real Jaeger."""
    return {**stack.otel_env(service_name), **extra}
