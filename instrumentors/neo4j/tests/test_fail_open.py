"""Fail open: when our code breaks, the driver call behaves exactly as without us."""

from __future__ import annotations

import logging

import neo4j
import podcast_kg_otel_neo4j.query as query_module
import podcast_kg_otel_neo4j.results as results_module
import pytest
from podcast_kg_otel_neo4j.cache import BoundedCache


def _boom(*args, **kwargs):
    raise RuntimeError("instrumentation bug")


def test_broken_span_start_never_reaches_the_app(driver, spans, monkeypatch, caplog):
    caplog.set_level(logging.WARNING)
    monkeypatch.setattr(query_module, "_SHAPES", BoundedCache(max_entries=8, max_chars=1000))
    monkeypatch.setattr(query_module, "_shape", _boom)
    assert driver.execute_query("RETURN 1 AS x").records[0]["x"] == 1
    with driver.session() as session:
        assert session.run("RETURN 2 AS x").single()["x"] == 2
        assert session.execute_read(lambda tx: tx.run("RETURN 3 AS x").single()["x"]) == 3
        with session.begin_transaction() as tx:
            assert tx.run("RETURN 4 AS x").single()["x"] == 4
        with pytest.raises(neo4j.exceptions.CypherSyntaxError) as info:
            session.run("RETURN (")
    assert info.value.code == "Neo.ClientError.Statement.SyntaxError"
    assert {s.name for s in spans.neo4j()} == {"execute_read", "COMMIT"}  # no query spans
    ours = [r for r in caplog.records if r.name.startswith("podcast_kg_otel_neo4j")]
    assert ours and all("unaffected" in r.getMessage() for r in ours)
    assert len({r.getMessage() for r in ours}) == len(ours)  # each place logged once


def test_broken_summary_still_ends_span(driver, spans, monkeypatch):
    monkeypatch.setattr(results_module.summary, "apply", _boom)
    with driver.session() as session:
        assert session.run("UNWIND range(1, 3) AS i RETURN i").value() == [1, 2, 3]
    [span] = spans.neo4j()
    assert span.end_time is not None


def test_user_values_and_exceptions_pass_through(driver, spans):
    sentinel = object()
    error = ValueError("the user's own error")

    def fails(tx):
        raise error

    with driver.session() as session:
        assert session.execute_write(lambda tx: sentinel) is sentinel
        with pytest.raises(ValueError) as info:
            session.execute_write(fails)
    assert info.value is error
    failed = [s for s in spans.neo4j() if s.status.status_code.name == "ERROR"]
    assert [s.attributes["error.type"] for s in failed] == ["ValueError"]


def test_non_callable_transaction_function_keeps_driver_error(driver, spans):
    with driver.session() as session, pytest.raises(TypeError, match="not callable"):
        session.execute_read("not a function")
    assert spans.neo4j() == []


def test_result_laziness_is_kept(driver, spans):
    with driver.session(fetch_size=2) as session:
        result = session.run("UNWIND range(1, 10) AS i RETURN i")
        assert result.peek()["i"] == 1
        assert [r["i"] for r in result.fetch(3)] == [1, 2, 3]
        assert spans.neo4j() == []  # not finished yet: more records to stream
        summary = result.consume()
    assert summary.query_type == "r"
    [span] = spans.neo4j()
    assert span.attributes["neo4j.query.type"] == "r"
