"""pytest plugin for langchain-core's own unit suite: our instrumentor on for the whole
session (`pytest -p lcsuite_instrument`).

The instrumentor uses its defaults and an SDK TracerProvider whose spans are ended and
then discarded (a SimpleSpanProcessor with a counting exporter: every span takes the
full SDK path, nothing accumulates). The number of spans is written to the file named by
`LCSUITE_SPANS_FILE` at the end, so the comparison can show the instrumentor was active.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from podcast_kg_otel_langchain import LangChainInstrumentor


class CountingExporter(SpanExporter):
    """Counts the spans it is given and drops them."""

    def __init__(self) -> None:
        self.count = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.count += len(spans)
        return SpanExportResult.SUCCESS


_exporter = CountingExporter()
_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(_exporter))


def pytest_configure(config: pytest.Config) -> None:
    LangChainInstrumentor().instrument(tracer_provider=_provider)


def pytest_unconfigure(config: pytest.Config) -> None:
    LangChainInstrumentor().uninstrument()
    path = os.environ.get("LCSUITE_SPANS_FILE")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            out.write(f"{_exporter.count}\n")
