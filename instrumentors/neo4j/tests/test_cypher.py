"""The Cypher analysis on its own: sanitizing, comments, summaries, procedures."""

from __future__ import annotations

import pytest
from podcast_kg_otel_neo4j.cypher import SUMMARY_MAX_LENGTH, analyse


@pytest.mark.parametrize(
    ("query", "sanitized"),
    [
        ("MATCH (n {name: 'Al\\'ice', age: 42}) RETURN n", "MATCH (n {name: ?, age: ?}) RETURN n"),
        ('RETURN "x", 1.5e3, 0x1F, -7, true, FALSE', "RETURN ?, ?, ?, -?, ?, ?"),
        ("MATCH (n) WHERE n.x IS NULL OR n.y = null", "MATCH (n) WHERE n.x IS NULL OR n.y = ?"),
        ("MATCH (n) WHERE n.id IN [1, 2, 3] RETURN n", "MATCH (n) WHERE n.id IN ? RETURN n"),
        ("MATCH (a)-[:R*1..3]->(b) RETURN b", "MATCH (a)-[:R*?..?]->(b) RETURN b"),
        ("RETURN $p, $`odd p`, n1, `x 1`", "RETURN $p, $`odd p`, n1, `x 1`"),
        ("RETURN 1 // secret 'x'\n/* pw: hunter2 */", "RETURN ?"),
    ],
)
def test_sanitize(query, sanitized):
    assert analyse(query).sanitized == sanitized


def test_comments_removed_from_kept_text():
    assert analyse("MATCH (n) /* token=abc */ RETURN n // x").text == "MATCH (n)   RETURN n"


@pytest.mark.parametrize(
    ("query", "summary"),
    [
        (
            "MATCH (a:Person)-[:KNOWS|LIKES]->(b:`Odd Label`) RETURN b",
            "MATCH Person KNOWS LIKES Odd Label",
        ),
        ("CREATE (n:Episode {title: $t})", "CREATE Episode"),
        ("MERGE (p:P {id: 1}) ON CREATE SET p.c = 1 ON MATCH SET p.m = 1", "MERGE P"),
        ("MATCH (n) DETACH DELETE n", "MATCH DETACH DELETE"),
        ("OPTIONAL MATCH (a:A) WITH a MATCH (b:B) RETURN a, b", "OPTIONAL MATCH A MATCH B"),
        ("RETURN 1", "RETURN"),
        ("UNWIND $rows AS r CALL { WITH r CREATE (:T) } IN TRANSACTIONS", "UNWIND CALL CREATE T"),
        ("CREATE CONSTRAINT c FOR (p:Person) REQUIRE p.id IS UNIQUE", "CREATE CONSTRAINT Person"),
        ("SHOW INDEXES", "SHOW INDEXES"),
        ("MATCH (n:$($label)) RETURN n", "MATCH ?"),
        ("LOAD CSV FROM 'f' AS row CREATE (:Row)", "LOAD CSV CREATE Row"),
        ("MATCH (n {a: x.y}) RETURN n", "MATCH"),
    ],
)
def test_summary(query, summary):
    assert analyse(query).summary == summary


def test_procedure_name():
    query = "CALL db.index.vector.queryNodes('idx', 5, $v) YIELD node RETURN node"
    analysis = analyse(query)
    assert analysis.procedure == "db.index.vector.queryNodes"
    assert analysis.summary == "CALL db.index.vector.queryNodes"
    assert analyse("CALL a.b() CALL c.d()").procedure is None


def test_summary_capped_without_cutting_tokens():
    query = " ".join(f"MATCH (:Label{i})" for i in range(100))
    summary = analyse(query).summary
    assert len(summary) <= SUMMARY_MAX_LENGTH
    assert summary.split()[-1].startswith("Label") or summary.split()[-1] == "MATCH"
