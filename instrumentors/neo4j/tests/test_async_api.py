"""Every async driver API against the real Neo4j, mirroring the sync tests."""

from __future__ import annotations

import neo4j
import pytest
from opentelemetry.trace import SpanKind, StatusCode

pytestmark = pytest.mark.usefixtures("cleanup")
NEO4J_MAJOR = int(neo4j.__version__.split(".")[0])


async def test_async_execute_query(async_driver, spans, label):
    records, _, _ = await async_driver.execute_query(
        f"CREATE (n:{label} {{v: $v}}) RETURN n.v AS v", {"v": 3}, database_="neo4j"
    )
    assert records[0]["v"] == 3
    [span] = spans.neo4j()
    a = dict(span.attributes)
    assert span.name == f"CREATE {label}" and span.kind == SpanKind.CLIENT
    assert a["neo4j.transaction.type"] == "execute_query"
    assert a["neo4j.transaction.attempts"] == 1
    assert a["db.namespace"] == "neo4j" and a["neo4j.counters.nodes_created"] == 1


async def test_async_execute_query_retry(async_driver, spans, label):
    calls = []

    async def transformer(result):
        calls.append(1)
        if len(calls) == 1:
            raise neo4j.exceptions.SessionExpired("simulated")
        return (await result.single())["x"]

    assert await async_driver.execute_query("RETURN 5 AS x", result_transformer_=transformer) == 5
    [span] = spans.neo4j()
    assert span.attributes["neo4j.transaction.attempts"] == 2
    [retry] = [e for e in span.events if e.name == "neo4j.transaction.retry"]
    assert retry.attributes["error.type"] == "neo4j.exceptions.SessionExpired"


async def test_async_result_transformer_runs_inside_the_execute_query_span(async_driver, spans):
    async def transformer(result):
        with spans.tracer.start_as_current_span("transform"):
            return (await result.single())["x"]

    assert await async_driver.execute_query("RETURN 1 AS x", result_transformer_=transformer) == 1
    query = spans.one("RETURN")
    [inner] = [s for s in spans.all() if s.name == "transform"]
    assert inner.parent.span_id == query.context.span_id


async def test_async_session_run_consumption(async_driver, spans, label):
    async with async_driver.session() as session:
        await (await session.run(f"UNWIND range(1, 4) AS i CREATE (:{label} {{i: i}})")).consume()
        result = await session.run(f"MATCH (n:{label}) RETURN n.i AS i ORDER BY i")
        assert [record["i"] async for record in result] == [1, 2, 3, 4]
        single = await (await session.run(f"MATCH (n:{label}) RETURN count(n) AS c")).single()
        assert single["c"] == 4
        assert len(await (await session.run(f"MATCH (n:{label}) RETURN n.i AS i")).data()) == 4
        await session.run(f"MATCH (n:{label}) RETURN n.i AS i")  # left to session close
    names = [s.name for s in spans.neo4j()]
    assert names == [f"UNWIND CREATE {label}"] + [f"MATCH {label}"] * 4
    assert all(s.attributes["neo4j.transaction.type"] == "auto_commit" for s in spans.neo4j())
    assert spans.neo4j()[0].attributes["neo4j.counters.nodes_created"] == 4


async def test_async_explicit_transaction(async_driver, spans, label):
    async with async_driver.session() as session:
        async with await session.begin_transaction() as tx:
            await (await tx.run(f"CREATE (:{label})")).consume()
        tx = await session.begin_transaction()
        await tx.run(f"CREATE (:{label})")
        await tx.rollback()
    names = [s.name for s in spans.neo4j()]
    assert names == [f"CREATE {label}", "COMMIT", f"CREATE {label}", "ROLLBACK"]


async def test_async_managed_transactions_and_retries(async_driver, spans, label):
    attempts = []

    async def work(tx, name):
        attempts.append(1)
        await (await tx.run(f"CREATE (:{label} {{name: $name}})", name=name)).consume()
        if len(attempts) == 1:
            raise neo4j.exceptions.SessionExpired("simulated")
        return len(attempts)

    async def read(tx):
        return (await (await tx.run("RETURN 1 AS x")).single())["x"]

    async with async_driver.session() as session:
        assert await session.execute_write(work, "a") == 2
        assert await session.execute_read(read) == 1
    parent = spans.one("execute_write")
    assert parent.kind == SpanKind.INTERNAL
    assert parent.attributes["neo4j.transaction.attempts"] == 2
    assert len([e for e in parent.events if e.name == "neo4j.transaction.retry"]) == 1
    creates = [s for s in spans.neo4j() if s.name == f"CREATE {label}"]
    assert [s.parent.span_id for s in creates] == [parent.context.span_id] * 2
    assert [s.attributes["neo4j.transaction.attempt"] for s in creates] == [1, 2]
    read_parent = spans.one("execute_read")
    child = spans.one("RETURN")
    assert child.parent.span_id == read_parent.context.span_id


async def test_async_legacy_transaction_functions(async_driver, spans):
    if NEO4J_MAJOR >= 6:
        assert not hasattr(neo4j.AsyncSession, "write_transaction")
        return

    async def work(tx):
        return (await (await tx.run("RETURN 2 AS x")).single())["x"]

    async with async_driver.session() as session:
        with pytest.warns(DeprecationWarning):
            assert await session.write_transaction(work) == 2
    parent = spans.one("write_transaction")
    assert spans.one("RETURN").parent.span_id == parent.context.span_id


async def test_async_failures(async_driver, spans, stack):
    async with async_driver.session() as session:
        with pytest.raises(neo4j.exceptions.CypherSyntaxError):
            await session.run("RETURN (")
    [span] = spans.neo4j()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == "Neo.ClientError.Statement.SyntaxError"
    spans.exporter.clear()
    async with neo4j.AsyncGraphDatabase.driver(stack.neo4j_uri, auth=("neo4j", "nope")) as bad:
        with pytest.raises(neo4j.exceptions.AuthError):
            await bad.execute_query("RETURN 1")
    [span] = spans.neo4j()
    assert span.attributes["error.type"] == "Neo.ClientError.Security.Unauthorized"
