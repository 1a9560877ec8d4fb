"""Fixtures for the neo4j instrumentor tests: an instrumented in-memory provider and
drivers against the real Neo4j of the local stack."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import neo4j
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from podcast_kg_otel_neo4j import Neo4jInstrumentor


class Spans:
    """The finished spans of one test."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = self.provider.get_tracer("test")

    def all(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def neo4j(self) -> list[ReadableSpan]:
        return [s for s in self.all() if s.instrumentation_scope.name == "podcast_kg_otel_neo4j"]

    def one(self, name: str) -> ReadableSpan:
        found = [s for s in self.neo4j() if s.name == name]
        assert len(found) == 1, [s.name for s in self.neo4j()]
        return found[0]


@pytest.fixture(autouse=True)
def _uninstrumented() -> Iterator[None]:
    """Each test starts and ends with the driver unpatched, whatever ran before it."""
    instrumentor = Neo4jInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    yield
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()


@pytest.fixture
def spans(_uninstrumented: None) -> Iterator[Spans]:
    recorded = Spans()
    instrumentor = Neo4jInstrumentor()
    instrumentor.instrument(tracer_provider=recorded.provider)
    yield recorded
    instrumentor.uninstrument()


@pytest.fixture
def label() -> str:
    """A label unique to this test, so tests sharing the database never collide."""
    return f"T{uuid.uuid4().hex[:12]}"


@pytest.fixture
def driver(stack, spans: Spans) -> Iterator[neo4j.Driver]:
    with neo4j.GraphDatabase.driver(
        stack.neo4j_uri, auth=stack.neo4j_auth, max_transaction_retry_time=2.0
    ) as created:
        yield created


@pytest.fixture
async def async_driver(stack, spans: Spans) -> AsyncIterator[neo4j.AsyncDriver]:
    async with neo4j.AsyncGraphDatabase.driver(
        stack.neo4j_uri, auth=stack.neo4j_auth, max_transaction_retry_time=2.0
    ) as created:
        yield created


@pytest.fixture
def cleanup(stack, label: str) -> Iterator[None]:
    yield
    with neo4j.GraphDatabase.driver(stack.neo4j_uri, auth=stack.neo4j_auth) as plain:
        plain.execute_query(f"MATCH (n:{label}) DETACH DELETE n")
        for record in plain.execute_query("SHOW CONSTRAINTS YIELD name, labelsOrTypes").records:
            if label in (record["labelsOrTypes"] or []):
                plain.execute_query(f"DROP CONSTRAINT {record['name']}")
