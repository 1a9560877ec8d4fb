"""Episodes, entities and relations in Neo4j: MERGE in managed write transactions."""

from __future__ import annotations

from dataclasses import dataclass

import neo4j

from pipeline.extract import Extraction
from pipeline.feed import Episode

_WRITE_EPISODE = """
MERGE (e:Episode {guid: $guid})
SET e.title = $title, e.transcript = $transcript
"""
_WRITE_ENTITIES = """
MATCH (e:Episode {guid: $guid})
UNWIND $entities AS entity
MERGE (n:Entity {name: entity.name})
SET n.type = entity.type
MERGE (e)-[:MENTIONS]->(n)
"""
_WRITE_RELATIONS = """
UNWIND $relations AS rel
MATCH (a:Entity {name: rel.source})
WITH a, rel
MATCH (b:Entity {name: rel.target})
MERGE (a)-[r:RELATED {predicate: rel.predicate, episode: $guid}]->(b)
"""
_READ_EPISODE = """
MATCH (e:Episode {guid: $guid})
OPTIONAL MATCH (e)-[:MENTIONS]->(n:Entity)
WITH e, n ORDER BY n.name
RETURN e.title AS title, collect(n.name + ' (' + n.type + ')') AS entities,
       COUNT { (:Entity)-[r:RELATED {episode: $guid}]->(:Entity) } AS relations
"""


@dataclass(frozen=True)
class StoredEpisode:
    title: str
    entities: list[str]
    relations: int


def _write(
    tx: neo4j.ManagedTransaction, episode: Episode, transcript: str, found: Extraction
) -> None:
    tx.run(_WRITE_EPISODE, guid=episode.guid, title=episode.title, transcript=transcript)
    tx.run(
        _WRITE_ENTITIES,
        guid=episode.guid,
        entities=[{"name": name, "type": kind} for name, kind in found.entities],
    )
    tx.run(
        _WRITE_RELATIONS,
        guid=episode.guid,
        relations=[{"source": s, "predicate": p, "target": t} for s, p, t in found.relations],
    )


def _read(tx: neo4j.ManagedTransaction, guid: str) -> StoredEpisode | None:
    record = tx.run(_READ_EPISODE, guid=guid).single()
    if record is None:
        return None
    return StoredEpisode(record["title"], list(record["entities"]), record["relations"])


class GraphWriter:
    """Writes one episode's graph and reads it back, each in one managed transaction."""

    def __init__(self, driver: neo4j.Driver, database: str | None) -> None:
        self._driver = driver
        self._database = database

    @classmethod
    def connect(cls, uri: str, user: str, password: str, database: str | None) -> GraphWriter:
        driver = neo4j.GraphDatabase.driver(uri, auth=(user, password))
        return cls(driver, database)

    def write(self, episode: Episode, transcript: str, found: Extraction) -> None:
        with self._driver.session(database=self._database) as session:
            session.execute_write(_write, episode, transcript, found)

    def read_back(self, guid: str) -> StoredEpisode | None:
        with self._driver.session(database=self._database) as session:
            return session.execute_read(_read, guid)

    def close(self) -> None:
        self._driver.close()
