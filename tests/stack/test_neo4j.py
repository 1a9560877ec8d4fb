"""The stack's Neo4j is real and runs with authentication on."""

import uuid

import neo4j
import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError

from stacktools.stack import Stack


def test_cypher_write_and_read_with_the_password(stack: Stack) -> None:
    marker = uuid.uuid4().hex
    with GraphDatabase.driver(stack.neo4j_uri, auth=stack.neo4j_auth) as driver:
        driver.execute_query("CREATE (:SmokeTest {marker: $marker, n: 42})", marker=marker)
        records, summary, _ = driver.execute_query(
            "MATCH (s:SmokeTest {marker: $marker}) RETURN s.n AS n",
            marker=marker,
            routing_=neo4j.RoutingControl.READ,
        )
        driver.execute_query("MATCH (s:SmokeTest {marker: $marker}) DELETE s", marker=marker)
        agent = driver.get_server_info().agent
    assert [record["n"] for record in records] == [42]
    assert summary.database == "neo4j"
    assert agent.startswith("Neo4j/5.26")


def test_wrong_password_is_rejected(stack: Stack) -> None:
    wrong = (stack.neo4j_user, "wrong")
    with GraphDatabase.driver(stack.neo4j_uri, auth=wrong) as driver, pytest.raises(AuthError):
        driver.execute_query("RETURN 1")
