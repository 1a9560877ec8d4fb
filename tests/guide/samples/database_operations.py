"""The guide, Usage > Advanced Tracing > Database Operations, against the real Neo4j.

The query is the guide's with a label and a limit (the test database is shared); the
literal 25 is replaced by ? in the span.
"""

import os

import neo4j

from podcast_kg_otel import init_tracing, trace_database

QUERY = "MATCH (n:GuideSample) RETURN n LIMIT 25"


class Graph:
    def __init__(self, driver):
        self.driver = driver

    def query(self, cypher):
        return self.driver.execute_query(cypher).records


@trace_database("query", "neo4j", query=QUERY)
def get_all_nodes():
    return graph.query(QUERY)


if __name__ == "__main__":
    init_tracing()
    auth = (os.environ["NEO4J_USER"], os.environ["NEO4J_PASSWORD"])
    with neo4j.GraphDatabase.driver(os.environ["NEO4J_URI"], auth=auth) as driver:
        graph = Graph(driver)
        print(len(get_all_nodes()), "nodes")
