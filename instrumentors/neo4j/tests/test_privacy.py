"""Private by default, proven against the real auth-enabled server: no password, auth
token, parameter value or record value in any attribute, event or log line."""

from __future__ import annotations

import asyncio
import logging

import neo4j
import pytest
from podcast_kg_otel_neo4j import Neo4jInstrumentor

pytestmark = pytest.mark.usefixtures("cleanup")
RECORD_VALUE = "record-value-7c1f"
PARAM_VALUE = "param-value-93ab"


def _exercise(uri: str, auth: tuple[str, str], label: str) -> None:
    with neo4j.GraphDatabase.driver(uri, auth=auth) as driver:
        driver.execute_query(f"CREATE (:{label} {{v: $v, r: $r}})", v=PARAM_VALUE, r=RECORD_VALUE)
        driver.execute_query("RETURN $x AS x", x=PARAM_VALUE, auth_=auth)
        with driver.session() as session:
            session.run(f"MATCH (n:{label}) WHERE n.r <> 'literal-9d2e' RETURN n.r AS r").data()
            cartesian = f"MATCH (a:{label} {{r: 'literal-9d2e'}}), (b:{label}) RETURN a.v, b.v"
            session.run(cartesian).consume()  # its notification quotes the pattern
            session.execute_read(lambda tx: tx.run(f"MATCH (n:{label}) RETURN n").data())
            with session.begin_transaction() as tx:
                tx.run(f"MATCH (n:{label}) RETURN n.v, n.r").single()


def test_no_secret_anywhere(stack, spans, label, caplog):
    caplog.set_level(logging.DEBUG)
    password = stack.neo4j_password
    _exercise(stack.neo4j_uri, stack.neo4j_auth, label)
    with pytest.raises(neo4j.exceptions.AuthError):
        _exercise(stack.neo4j_uri, (stack.neo4j_user, password + "-wrong"), label)

    async def run_async() -> None:
        async with neo4j.AsyncGraphDatabase.driver(stack.neo4j_uri, auth=stack.neo4j_auth) as d:
            await d.execute_query("RETURN $x AS x", x=PARAM_VALUE)

    asyncio.run(run_async())
    exported = [span.to_json() for span in spans.neo4j()]
    assert len(exported) >= 8
    for text in exported:
        assert password not in text
        assert RECORD_VALUE not in text
        assert PARAM_VALUE not in text
        assert "db.query.parameter" not in text
        assert "literal-9d2e" not in text  # literals of unparameterized text become ?
    logged = [record.getMessage() for record in caplog.records] + [caplog.text]
    assert caplog.records, "driver DEBUG logging was captured"
    assert all(password not in line for line in logged)


def test_parameter_allowlist_is_opt_in(stack, label):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = Neo4jInstrumentor()
    instrumentor.instrument(tracer_provider=provider, capture_parameters=["episode"])
    try:
        with neo4j.GraphDatabase.driver(stack.neo4j_uri, auth=stack.neo4j_auth) as driver:
            driver.execute_query("RETURN $episode, $secret", episode=42, secret=PARAM_VALUE)
    finally:
        instrumentor.uninstrument()
    [span] = exporter.get_finished_spans()
    assert span.attributes["db.query.parameter.episode"] == "42"
    assert "db.query.parameter.secret" not in span.attributes
    assert PARAM_VALUE not in span.to_json()


def test_driver_error_quoting_a_parameter_value_stays_out(driver, spans):
    """The driver's own errors can quote a parameter (packing an out-of-range integer
    raises "Integer <value> out of range"): the span keeps only the error type."""
    too_big = 2**70 + 424242
    with pytest.raises(OverflowError, match=str(too_big)):
        driver.execute_query("RETURN $x AS x", x=too_big)
    with driver.session() as session, pytest.raises(OverflowError, match=str(too_big)):
        session.run("RETURN $x AS x", x=too_big)
    failed = spans.neo4j()
    assert len(failed) == 2
    for span in failed:
        assert span.attributes["error.type"] == "OverflowError"
        assert [e.name for e in span.events] == ["exception"]
        assert str(too_big) not in span.to_json()


def test_notification_quoting_the_pattern_keeps_no_literal(driver, spans, label):
    """The server quotes the pattern in single quotes around the query's own quoted
    literals ('(a:L {r: 'x'}), (b:L)'): the nesting must not let the literal through."""
    query = (
        f"MATCH (a:{label} {{r: 'plainsecret'}}), (b:{label} {{q: \"othersecret\"}}) RETURN a, b"
    )
    driver.execute_query(query)
    [span] = spans.neo4j()
    [cartesian] = [
        e for e in span.events if e.attributes.get("neo4j.gql.status", "").startswith("03N90")
    ]
    assert "cartesian product" in cartesian.attributes["neo4j.notification.description"]
    assert "plainsecret" not in span.to_json()
    assert "othersecret" not in span.to_json()
