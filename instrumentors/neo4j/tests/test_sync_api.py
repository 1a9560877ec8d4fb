"""Every sync driver API against the real Neo4j: span names, kinds, parents, attributes."""

from __future__ import annotations

import neo4j
import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import SpanKind, StatusCode

pytestmark = pytest.mark.usefixtures("cleanup")
NEO4J_MAJOR = int(neo4j.__version__.split(".")[0])


def test_execute_query_one_client_span(driver, spans, label):
    records, _, _ = driver.execute_query(
        f"CREATE (n:{label} {{name: $name}}) RETURN n.name AS name", name="secret-value"
    )
    assert [r["name"] for r in records] == ["secret-value"]
    span = spans.one(f"CREATE {label}")
    a = dict(span.attributes)
    assert span.kind == SpanKind.CLIENT and span.parent is None
    assert a["db.system.name"] == "neo4j"
    assert a["db.query.text"] == f"CREATE (n:{label} {{name: $name}}) RETURN n.name AS name"
    assert a["db.query.summary"] == f"CREATE {label}"
    assert a["db.namespace"] == "neo4j"  # resolved from the summary (home database)
    assert a["server.address"] == "127.0.0.1" and a["server.port"] == 7687
    assert a["network.peer.port"] == 7687 and a["network.protocol.name"] == "bolt"
    assert a["network.protocol.version"].startswith("5.")
    assert a["neo4j.transaction.type"] == "execute_query"
    assert a["neo4j.access_mode"] == "WRITE"
    assert a["neo4j.transaction.attempts"] == 1
    assert a["neo4j.query.type"] == "rw"
    assert a["neo4j.counters.nodes_created"] == 1
    assert a["neo4j.counters.labels_added"] == 1
    assert "neo4j.counters.nodes_deleted" not in a  # zero counters are omitted
    assert isinstance(a["neo4j.result.available_after_ms"], int)
    assert "db.query.parameter.name" not in a
    assert all("secret-value" not in str(v) for v in a.values())
    assert len(spans.neo4j()) == 1  # the inner tx.run is folded into this span


def test_execute_query_retry_counts_attempts_on_one_span(driver, spans, label):
    calls = []

    def transformer(result):
        calls.append(1)
        if len(calls) == 1:
            raise neo4j.exceptions.SessionExpired("simulated lost leader")
        return result.single()["x"]

    value = driver.execute_query(
        f"MATCH (n:{label}) RETURN count(n) AS x",
        routing_=neo4j.RoutingControl.READ,
        database_="neo4j",
        result_transformer_=transformer,
    )
    assert value == 0 and len(calls) == 2
    [span] = spans.neo4j()
    a = dict(span.attributes)
    assert a["neo4j.transaction.attempts"] == 2
    assert a["neo4j.access_mode"] == "READ" and a["db.namespace"] == "neo4j"
    [retry] = [e for e in span.events if e.name == "neo4j.transaction.retry"]
    assert retry.attributes["neo4j.transaction.attempt"] == 2
    assert retry.attributes["error.type"] == "neo4j.exceptions.SessionExpired"
    assert span.status.status_code == StatusCode.UNSET


def test_execute_query_options_given_positionally_and_double_underscore_parameters(driver, spans):
    assert driver.execute_query("RETURN $a AS x", {"a": 1}, "r", "neo4j").records[0]["x"] == 1
    assert driver.execute_query("RETURN 'lit', $x__ AS x", x__=5).records[0]["x"] == 5
    positional, double = spans.neo4j()
    assert positional.attributes["neo4j.access_mode"] == "READ"
    assert positional.attributes["db.namespace"] == "neo4j"
    assert positional.attributes["db.query.text"] == "RETURN $a AS x"
    # `x__` is a query parameter (only a single trailing "_" marks an option), so the
    # query counts as parameterized and its text is kept as written
    assert double.attributes["db.query.text"] == "RETURN 'lit', $x__ AS x"


def test_execute_query_with_a_query_object(driver, spans):
    query = neo4j.Query("RETURN $x AS x, 'lit' AS y", timeout=5, metadata={"app": "test"})
    assert driver.execute_query(query, x=3).records[0]["x"] == 3
    [span] = spans.neo4j()
    assert span.attributes["db.query.text"] == "RETURN $x AS x, 'lit' AS y"
    assert span.attributes["neo4j.transaction.attempts"] == 1
    assert span.attributes["neo4j.query.type"] == "r"


def test_result_transformer_runs_inside_the_execute_query_span(driver, spans):
    def transformer(result):
        with spans.tracer.start_as_current_span("transform"):
            return result.single()["x"]

    assert driver.execute_query("RETURN 1 AS x", result_transformer_=transformer) == 1
    query = spans.one("RETURN")
    [inner] = [s for s in spans.all() if s.name == "transform"]
    assert inner.parent.span_id == query.context.span_id
    assert query.attributes["neo4j.transaction.attempts"] == 1


def test_execute_query_of_a_suppressed_call_is_not_counted_by_the_outer_one(driver, spans):
    def transformer(result):
        with suppress_instrumentation():
            assert driver.execute_query("RETURN 2 AS y").records[0]["y"] == 2
        return result.single()["x"]

    assert driver.execute_query("RETURN 1 AS x", result_transformer_=transformer) == 1
    [span] = spans.neo4j()
    assert span.attributes["neo4j.transaction.attempts"] == 1


def test_session_run_consumption_styles(driver, spans, label):
    with driver.session() as session:
        session.run(f"UNWIND range(1, 5) AS i CREATE (:{label} {{i: i}})").consume()
        assert [r["i"] for r in session.run(f"MATCH (n:{label}) RETURN n.i AS i ORDER BY i")] == [
            1,
            2,
            3,
            4,
            5,
        ]
        assert session.run(f"MATCH (n:{label}) RETURN count(n) AS c").single()["c"] == 5
        assert len(session.run(f"MATCH (n:{label}) RETURN n.i AS i").data()) == 5
        assert session.run(f"MATCH (n:{label}) RETURN n.i AS i ORDER BY i").value() == [
            1,
            2,
            3,
            4,
            5,
        ]
        eager = session.run(f"MATCH (n:{label}) RETURN n.i AS i").to_eager_result()
        assert len(eager.records) == 5
        graph = session.run(f"MATCH (n:{label}) RETURN n").graph()
        assert len(graph.nodes) == 5
        lazy = session.run(f"MATCH (n:{label}) RETURN n.i AS i ORDER BY i")
        assert next(iter(lazy))["i"] == 1  # partially consumed, then left to the session
        pending = [s.name for s in spans.neo4j()]
    names = [s.name for s in spans.neo4j()]
    assert f"UNWIND CREATE {label}" in names
    assert names.count(f"MATCH {label}") == 7
    assert len(pending) == 7  # the partly consumed result's span ends at session close
    for span in spans.neo4j():
        a = dict(span.attributes)
        assert span.kind == SpanKind.CLIENT
        assert a["neo4j.transaction.type"] == "auto_commit"
        assert a["db.namespace"] == "neo4j" and "neo4j.query.type" in a


def test_session_run_outside_session_and_early_close(driver, spans, label):
    session = driver.session(database="neo4j", default_access_mode=neo4j.READ_ACCESS)
    result = session.run("UNWIND range(1, 3) AS i RETURN i")
    session.close()  # the driver buffers or discards; the span ends here
    [span] = spans.neo4j()
    a = dict(span.attributes)
    assert a["db.namespace"] == "neo4j" and a["neo4j.access_mode"] == "READ"
    assert a["neo4j.result.consumed_after_ms"] >= 0
    with pytest.raises(neo4j.exceptions.ResultConsumedError):
        result.single()


def test_explicit_transaction_commit_and_rollback(driver, spans, label):
    with driver.session() as session:
        with session.begin_transaction() as tx:
            tx.run(f"CREATE (:{label})").consume()
        tx = session.begin_transaction()
        tx.run(f"CREATE (:{label})")
        tx.rollback()
        count = session.run(f"MATCH (n:{label}) RETURN count(n) AS c").single()["c"]
    assert count == 1
    names = [s.name for s in spans.neo4j()]
    assert names == [f"CREATE {label}", "COMMIT", f"CREATE {label}", "ROLLBACK", f"MATCH {label}"]
    creates = [s for s in spans.neo4j() if s.name == f"CREATE {label}"]
    assert all(s.attributes["neo4j.transaction.type"] == "explicit" for s in creates)
    assert creates[1].attributes.get("neo4j.counters.nodes_created") == 1
    assert spans.one("COMMIT").kind == SpanKind.CLIENT


def test_managed_transactions_internal_parent(driver, spans, label):
    def write(tx, name):
        tx.run(f"CREATE (:{label} {{name: $name}})", name=name).consume()
        return tx.run(f"MATCH (n:{label}) RETURN count(n) AS c").single()["c"]

    with driver.session() as session:
        assert session.execute_write(write, "a") == 1
        assert session.execute_read(lambda tx: tx.run("RETURN 1 AS x").single()["x"]) == 1
    parent = spans.one("execute_write")
    assert parent.kind == SpanKind.INTERNAL
    assert parent.attributes["neo4j.transaction.attempts"] == 1
    children = [s for s in spans.neo4j() if s.parent and s.parent.span_id == parent.context.span_id]
    assert [s.name for s in children] == [f"CREATE {label}", f"MATCH {label}"]
    for child in children:
        assert child.kind == SpanKind.CLIENT
        assert child.attributes["neo4j.transaction.type"] == "managed"
        assert child.attributes["neo4j.transaction.attempt"] == 1
        assert child.attributes["neo4j.access_mode"] == "WRITE"
    read = spans.one("execute_read")
    assert read.attributes["neo4j.access_mode"] == "READ"


def test_managed_transaction_retry_events(driver, spans, label):
    attempts = []

    def flaky(tx):
        attempts.append(1)
        tx.run(f"CREATE (:{label})").consume()
        if len(attempts) < 3:
            raise neo4j.exceptions.SessionExpired("simulated failover")
        return len(attempts)

    with driver.session() as session:
        assert session.execute_write(flaky) == 3
    parent = spans.one("execute_write")
    assert parent.attributes["neo4j.transaction.attempts"] == 3
    retries = [e for e in parent.events if e.name == "neo4j.transaction.retry"]
    assert [e.attributes["neo4j.transaction.attempt"] for e in retries] == [2, 3]
    assert {e.attributes["error.type"] for e in retries} == {"neo4j.exceptions.SessionExpired"}
    creates = [s for s in spans.neo4j() if s.name == f"CREATE {label}"]
    assert [s.attributes["neo4j.transaction.attempt"] for s in creates] == [1, 2, 3]
    assert parent.status.status_code == StatusCode.UNSET


def test_legacy_transaction_functions_follow_driver_major(driver, spans, label):
    session_cls = neo4j.Session
    if NEO4J_MAJOR >= 6:
        assert not hasattr(session_cls, "read_transaction")
        return
    with driver.session() as session, pytest.warns(DeprecationWarning):
        value = session.read_transaction(lambda tx: tx.run("RETURN 7 AS x").single()["x"])
    assert value == 7
    parent = spans.one("read_transaction")
    [child] = [s for s in spans.neo4j() if s.parent and s.parent.span_id == parent.context.span_id]
    assert child.attributes["neo4j.transaction.type"] == "managed"


def test_call_procedure_and_notification_event(driver, spans, label):
    with driver.session() as session:
        session.run("CALL db.labels() YIELD label RETURN label").consume()
        session.run(f"MATCH (a:{label}), (b:{label}) RETURN count(*) AS c").consume()
    call = spans.one("CALL db.labels")
    assert call.attributes["db.stored_procedure.name"] == "db.labels"
    product = spans.one(f"MATCH {label}")
    events = [e for e in product.events if e.name == "neo4j.notification"]
    [event] = [e for e in events if e.attributes["neo4j.notification.code"].endswith("Product")]
    assert event.attributes["neo4j.gql.status"] == "03N90"
    assert event.attributes["neo4j.notification.position.line"] == 1


def test_result_to_df_keeps_working(driver, spans, label):
    with driver.session() as session:
        session.run(f"UNWIND range(1, 3) AS i CREATE (:{label} {{i: i}})").consume()
        frame = session.run(f"MATCH (n:{label}) RETURN n.i AS i ORDER BY i").to_df()
    transformed = driver.execute_query(
        f"MATCH (n:{label}) RETURN n.i AS i ORDER BY i",
        result_transformer_=neo4j.Result.to_df,
    )
    assert list(frame["i"]) == [1, 2, 3]
    assert list(transformed["i"]) == [1, 2, 3]
    names = [s.name for s in spans.neo4j()]
    assert names == [f"UNWIND CREATE {label}", f"MATCH {label}", f"MATCH {label}"]
    assert all(s.status.status_code == StatusCode.UNSET for s in spans.neo4j())
