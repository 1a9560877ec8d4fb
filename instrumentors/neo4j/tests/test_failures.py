"""Failure paths against the real server: the driver's exception is unchanged and the
span carries the Neo4j code, the GQL data and ERROR status."""

from __future__ import annotations

import threading

import neo4j
import pytest
from opentelemetry.trace import StatusCode

pytestmark = pytest.mark.usefixtures("cleanup")


def _error_attributes(span) -> dict:
    assert span.status.status_code == StatusCode.ERROR
    return dict(span.attributes)


def test_syntax_error_raises_from_run(driver, spans):
    with driver.session() as session, pytest.raises(neo4j.exceptions.CypherSyntaxError) as info:
        session.run("MATCH (n RETURN n")
    assert info.value.code == "Neo.ClientError.Statement.SyntaxError"
    [span] = spans.neo4j()
    a = _error_attributes(span)
    assert a["db.response.status_code"] == "Neo.ClientError.Statement.SyntaxError"
    assert a["error.type"] == "Neo.ClientError.Statement.SyntaxError"
    assert a["neo4j.error.retryable"] is False
    [exception] = [e for e in span.events if e.name == "exception"]
    assert exception.attributes["exception.type"] == "neo4j.exceptions.CypherSyntaxError"
    assert exception.attributes["exception.message"] == "Neo.ClientError.Statement.SyntaxError"


def test_constraint_violation_in_session_run(driver, spans, label):
    driver.execute_query(f"CREATE CONSTRAINT FOR (n:{label}) REQUIRE n.key IS UNIQUE")
    driver.execute_query(f"CREATE (:{label} {{key: 'duplicate-secret'}})")
    spans.exporter.clear()
    with driver.session() as session, pytest.raises(neo4j.exceptions.ConstraintError) as info:
        session.run(f"CREATE (:{label} {{key: $key}})", key="duplicate-secret").consume()
    assert "duplicate-secret" in str(info.value)  # the driver's message is untouched
    [span] = spans.neo4j()
    a = _error_attributes(span)
    assert a["db.response.status_code"] == "Neo.ClientError.Schema.ConstraintValidationFailed"
    assert a["error.type"] == a["db.response.status_code"]
    assert "duplicate-secret" not in str(span.to_json())  # server messages quote data


def test_runtime_error_while_streaming(driver, spans):
    with driver.session(fetch_size=10) as session:
        result = session.run("UNWIND range(100, 0, -1) AS x RETURN 10 / x AS y")
        first = [record["y"] for record in result.fetch(10)]
        assert len(first) == 10
        assert len(spans.neo4j()) == 0  # still streaming: the span is open
        with pytest.raises(neo4j.exceptions.ClientError) as info:
            list(result)
    [span] = spans.neo4j()
    a = _error_attributes(span)
    assert a["error.type"] == info.value.code == "Neo.ClientError.Statement.ArithmeticError"
    assert a["db.response.status_code"] == info.value.code


def test_constraint_violation_in_execute_query(driver, spans, label):
    driver.execute_query(f"CREATE CONSTRAINT FOR (n:{label}) REQUIRE n.key IS UNIQUE")
    driver.execute_query(f"CREATE (:{label} {{key: 1}})")
    spans.exporter.clear()
    with pytest.raises(neo4j.exceptions.ConstraintError):
        driver.execute_query(f"CREATE (:{label} {{key: 1}})")
    [span] = spans.neo4j()
    a = _error_attributes(span)
    assert a["error.type"] == "Neo.ClientError.Schema.ConstraintValidationFailed"
    assert a["neo4j.transaction.attempts"] == 1


def test_error_inside_managed_transaction(driver, spans, label):
    def work(tx):
        tx.run("RETURN 1/0 AS x").consume()

    with driver.session() as session, pytest.raises(neo4j.exceptions.ClientError) as info:
        session.execute_write(work)
    parent = spans.one("execute_write")
    child = spans.one("RETURN")
    assert _error_attributes(child)["error.type"] == info.value.code
    assert _error_attributes(parent)["error.type"] == info.value.code
    assert child.parent.span_id == parent.context.span_id


def test_authentication_failure(stack, spans):
    bad = neo4j.GraphDatabase.driver(stack.neo4j_uri, auth=("neo4j", "wrong-password-xyz"))
    with bad, pytest.raises(neo4j.exceptions.AuthError), bad.session() as session:
        session.run("RETURN 1")
    [span] = spans.neo4j()
    a = _error_attributes(span)
    assert a["error.type"] == "Neo.ClientError.Security.Unauthorized"
    assert "wrong-password-xyz" not in str(span.to_json())


def test_unreachable_server(spans):
    with (
        neo4j.GraphDatabase.driver(
            "bolt://127.0.0.1:9", auth=("neo4j", "x"), max_transaction_retry_time=0.3
        ) as down,
        pytest.raises(neo4j.exceptions.ServiceUnavailable),
    ):
        down.execute_query("RETURN 1")
    [span] = spans.neo4j()
    a = _error_attributes(span)
    assert a["error.type"] == "neo4j.exceptions.ServiceUnavailable"
    assert a["server.address"] == "127.0.0.1" and a["server.port"] == 9
    assert a["neo4j.transaction.attempts"] == 0  # no attempt ever reached tx.run


def test_failed_explicit_transaction_rollback_is_visible(driver, spans, label):
    driver.execute_query(f"CREATE CONSTRAINT FOR (n:{label}) REQUIRE n.key IS UNIQUE")
    driver.execute_query(f"CREATE (:{label} {{key: 5}})")
    spans.exporter.clear()
    with driver.session() as session:
        tx = session.begin_transaction()
        with pytest.raises(neo4j.exceptions.ConstraintError):
            tx.run(f"CREATE (:{label} {{key: 5}})").consume()
        tx.close()
    names = [s.name for s in spans.neo4j()]
    assert names == [f"CREATE {label}", "ROLLBACK"]
    assert spans.one(f"CREATE {label}").status.status_code == StatusCode.ERROR


def test_unfinished_result_of_failed_transaction_still_ends(driver, spans):
    with driver.session(fetch_size=1) as session:
        tx = session.begin_transaction()
        streaming = tx.run("UNWIND range(1, 50) AS i RETURN i")
        assert streaming.peek()["i"] == 1
        with pytest.raises(neo4j.exceptions.CypherSyntaxError):
            tx.run("RETURN (")
        tx.close()
    names = sorted(s.name for s in spans.neo4j())
    assert names == ["RETURN", "ROLLBACK", "UNWIND"]  # no span left open
    assert spans.one("RETURN").status.status_code == StatusCode.ERROR
    assert all(s.end_time for s in spans.neo4j())


def test_real_transient_error_is_retried(driver, spans, label):
    """Two managed transactions lock two nodes in opposite order: the server detects the
    deadlock (a TransientError), the driver retries the loser, and its span shows it."""
    driver.execute_query(f"CREATE (:{label} {{k: 'a'}}), (:{label} {{k: 'b'}})")
    spans.exporter.clear()
    barrier = threading.Barrier(2, timeout=20)
    outcomes: list[object] = []

    def worker(first: str, second: str) -> None:
        attempts = []

        def work(tx):
            attempts.append(1)
            tx.run(f"MATCH (n:{label} {{k: $k}}) SET n.v = 1", k=first).consume()
            if len(attempts) == 1:
                barrier.wait()
            tx.run(f"MATCH (n:{label} {{k: $k}}) SET n.v = 2", k=second).consume()
            return len(attempts)

        try:
            with driver.session() as session:
                outcomes.append(session.execute_write(work))
        except BaseException as exc:  # surfaced below
            outcomes.append(exc)

    threads = [
        threading.Thread(target=worker, args=("a", "b")),
        threading.Thread(target=worker, args=("b", "a")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == [1, 2], outcomes  # one went through, one was retried once
    parents = [s for s in spans.neo4j() if s.name == "execute_write"]
    [retried] = [s for s in parents if s.attributes["neo4j.transaction.attempts"] == 2]
    [event] = [e for e in retried.events if e.name == "neo4j.transaction.retry"]
    assert event.attributes["error.type"] == "Neo.TransientError.Transaction.DeadlockDetected"
    failed = [s for s in spans.neo4j() if s.status.status_code == StatusCode.ERROR]
    assert [s.attributes["error.type"] for s in failed] == [event.attributes["error.type"]]
    assert failed[0].attributes["neo4j.error.retryable"] is True
    assert failed[0].parent.span_id == retried.context.span_id
    assert retried.status.status_code == StatusCode.UNSET
