"""Zero-code: the entry point works under the STOCK opentelemetry-distro, read from Jaeger."""

from __future__ import annotations

SCRIPT = """
import asyncio, os, neo4j
uri, user, password = os.environ["T_URI"], os.environ["T_USER"], os.environ["T_PASSWORD"]
with neo4j.GraphDatabase.driver(uri, auth=(user, password)) as driver:
    driver.execute_query("RETURN $x AS x", x=1)
    with driver.session() as session:
        session.execute_read(lambda tx: tx.run("RETURN 2 AS y").single())
async def main():
    async with neo4j.AsyncGraphDatabase.driver(uri, auth=(user, password)) as driver:
        await driver.execute_query("CALL db.labels() YIELD label RETURN label")
asyncio.run(main())
print("done")
"""


def test_under_stock_distro(stack, jaeger, service_name, run_instrumented):
    env = {
        **stack.otel_env(service_name),
        "OTEL_PYTHON_DISTRO": "distro",
        "OTEL_PYTHON_CONFIGURATOR": "configurator",
        "T_URI": stack.neo4j_uri,
        "T_USER": stack.neo4j_user,
        "T_PASSWORD": stack.neo4j_password,
    }
    completed = run_instrumented(SCRIPT, env=env)
    assert completed.returncode == 0, completed.stderr
    assert "done" in completed.stdout
    traces = jaeger.wait_for_traces(service_name, count=3)
    spans = {span.name: span for trace in traces for span in trace.spans}
    assert set(spans) == {"RETURN", "execute_read", "CALL db.labels"}, sorted(spans)
    query = [s for t in traces for s in t.spans if s.name == "RETURN" and s.parent is None]
    assert query[0].kind == "client"
    assert query[0].attributes["neo4j.transaction.type"] == "execute_query"
    assert query[0].scope == "podcast_kg_otel_neo4j"
    managed = spans["execute_read"]
    assert [c.name for c in managed.children] == ["RETURN"]
    assert managed.children[0].attributes["neo4j.transaction.type"] == "managed"
    call = spans["CALL db.labels"]
    assert call.attributes["db.stored_procedure.name"] == "db.labels"
    assert stack.neo4j_password not in str([s.attributes for t in traces for s in t.spans])
