"""End to end: spans exported over OTLP to the real Jaeger and read back from its API."""

from __future__ import annotations

import neo4j
import pytest
from podcast_kg_otel_neo4j import Neo4jInstrumentor

pytestmark = pytest.mark.usefixtures("cleanup")


def test_trace_in_jaeger(stack, jaeger, service_name, otlp_provider, label):
    instrumentor = Neo4jInstrumentor()
    instrumentor.instrument(tracer_provider=otlp_provider, capture_parameters=["name"])
    tracer = otlp_provider.get_tracer("e2e")
    try:
        driver = neo4j.GraphDatabase.driver(stack.neo4j_uri, auth=stack.neo4j_auth)
        with driver, tracer.start_as_current_span("pipeline"), driver.session() as session:

            def write(tx):
                tx.run(f"CREATE (:{label} {{name: $name, pw: $pw}})", name="ep1", pw="s3")
                return tx.run(f"MATCH (a:{label}), (b:{label}) RETURN count(*) AS c").single()

            session.execute_write(write)
            with pytest.raises(neo4j.exceptions.CypherSyntaxError):
                session.run("MATCH (n RETURN n")
    finally:
        instrumentor.uninstrument()
    otlp_provider.force_flush()

    trace = jaeger.wait_for_trace(service_name, min_spans=5)
    root = trace.one("pipeline")
    assert root.parent is None
    managed = trace.one("execute_write")
    assert managed.kind == "internal" and managed.parent is root
    assert managed.attributes["neo4j.transaction.attempts"] == 1
    create = trace.one(f"CREATE {label}")
    assert create.kind == "client" and create.parent is managed
    assert create.attributes["db.system.name"] == "neo4j"
    assert create.attributes["db.query.parameter.name"] == "ep1"
    assert "db.query.parameter.pw" not in create.attributes
    assert create.attributes["neo4j.counters.nodes_created"] == 1
    assert create.attributes["db.namespace"] == "neo4j"
    assert create.attributes["neo4j.transaction.type"] == "managed"
    match = trace.one(f"MATCH {label}")
    assert match.parent is managed and match.status_code == "UNSET"
    [notification] = [
        e
        for e in match.events_named("neo4j.notification")
        if e.attributes["neo4j.gql.status"] == "03N90"
    ]
    assert notification.attributes["neo4j.notification.category"] == "PERFORMANCE"
    failed = trace.one("MATCH")
    assert failed.parent is root and failed.kind == "client"
    assert failed.status_code == "ERROR"
    assert failed.attributes["db.response.status_code"] == "Neo.ClientError.Statement.SyntaxError"
    assert failed.attributes["error.type"] == "Neo.ClientError.Statement.SyntaxError"
    assert [e.name for e in failed.events] == ["exception"]
    assert len(trace.spans) == 5
