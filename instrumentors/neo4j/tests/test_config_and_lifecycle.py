"""Configuration (env and kwargs), suppress_instrumentation, and uninstrument."""

from __future__ import annotations

import logging

import neo4j
import neo4j._async.driver as async_driver
import neo4j._sync.driver as sync_driver
import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from podcast_kg_otel_neo4j import Neo4jInstrumentor, config

QUERY = "MATCH (n:Nothing) WHERE n.x = 'lit' AND n.y = $y RETURN n // note"
BARE = "MATCH (n:Nothing) WHERE n.x = 'lit' RETURN n"


def _run(stack, monkeypatch, env: dict[str, str], **kwargs) -> list:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = Neo4jInstrumentor()
    instrumentor.instrument(tracer_provider=provider, **kwargs)
    try:
        with neo4j.GraphDatabase.driver(stack.neo4j_uri, auth=stack.neo4j_auth) as driver:
            driver.execute_query(QUERY, y=1)
            driver.execute_query(BARE)
    finally:
        instrumentor.uninstrument()
    return [dict(span.attributes).get("db.query.text") for span in exporter.get_finished_spans()]


def test_default_query_text_follows_semconv(stack, monkeypatch):
    texts = _run(stack, monkeypatch, {})
    assert texts == [
        "MATCH (n:Nothing) WHERE n.x = 'lit' AND n.y = $y RETURN n",  # parameterized, no comment
        "MATCH (n:Nothing) WHERE n.x = ? RETURN n",
    ]


def test_env_sanitized_and_length_cap(stack, monkeypatch):
    texts = _run(
        stack,
        monkeypatch,
        {config.ENV_QUERY_TEXT: "sanitized", config.ENV_QUERY_TEXT_MAX_LENGTH: "30"},
    )
    assert texts[0].startswith("MATCH (n:Nothing)") and len(texts[0]) == 30
    assert texts[0].endswith("[truncated]")
    assert "lit" not in texts[0] and "lit" not in texts[1]


def test_kwargs_win_over_env(stack, monkeypatch):
    texts = _run(stack, monkeypatch, {config.ENV_QUERY_TEXT: "raw"}, query_text="off")
    assert texts == [None, None]


def test_env_raw(stack, monkeypatch):
    assert _run(stack, monkeypatch, {config.ENV_QUERY_TEXT: "raw"})[1] == BARE


def test_bad_env_value_warns_once_and_keeps_default(stack, monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="podcast_kg_otel_util.env")
    texts = _run(stack, monkeypatch, {config.ENV_QUERY_TEXT: "loud"})
    assert texts[1] == "MATCH (n:Nothing) WHERE n.x = ? RETURN n"
    warnings = [r.getMessage() for r in caplog.records if config.ENV_QUERY_TEXT in r.getMessage()]
    assert len(warnings) == 1 and "'loud'" in warnings[0] and "'on'" in warnings[0]


def test_env_parameter_allowlist(stack, monkeypatch):
    monkeypatch.setenv(config.ENV_CAPTURE_PARAMETERS, "y, z")
    assert config.load({}).capture_parameters == frozenset({"y", "z"})


def test_suppress_instrumentation(driver, spans):
    with suppress_instrumentation():
        driver.execute_query("RETURN 1")
        with driver.session() as session:
            session.run("RETURN 1").consume()
            session.execute_read(lambda tx: tx.run("RETURN 1").consume())
    assert spans.neo4j() == []
    driver.execute_query("RETURN 1")
    assert len(spans.neo4j()) == 1


def test_uninstrument_restores_every_original(stack):
    originals = {
        (cls, name): cls.__dict__.get(name)
        for cls in (neo4j.Driver, neo4j.Session, neo4j.AsyncSession, neo4j.Transaction)
        for name in ("execute_query", "run", "execute_read", "execute_write", "_commit")
    }
    originals.update(
        {(module, "_work"): module.__dict__["_work"] for module in (sync_driver, async_driver)}
    )
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = Neo4jInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    assert neo4j.Session.__dict__["run"] is not originals[(neo4j.Session, "run")]
    assert sync_driver._work is not originals[(sync_driver, "_work")]
    with neo4j.GraphDatabase.driver(stack.neo4j_uri, auth=stack.neo4j_auth) as driver:
        driver.execute_query("RETURN 1")
        assert len(exporter.get_finished_spans()) == 1
        instrumentor.uninstrument()
        for (cls, name), original in originals.items():
            if original is not None:
                assert cls.__dict__.get(name) is original, (cls, name)
        driver.execute_query("RETURN 1")
        with driver.session() as session:
            session.run("RETURN 1").consume()
    assert len(exporter.get_finished_spans()) == 1


def test_instrumentation_dependencies_declare_supported_range():
    assert Neo4jInstrumentor().instrumentation_dependencies() == ("neo4j >= 5.8, < 7",)


@pytest.mark.parametrize("bad", [-1, "many", True])
def test_bad_kwarg_length_keeps_default(bad, caplog):
    caplog.set_level(logging.WARNING, logger="podcast_kg_otel_util.env")
    assert config.load({"query_text_max_length": bad}).query_text_max_length == 2048
