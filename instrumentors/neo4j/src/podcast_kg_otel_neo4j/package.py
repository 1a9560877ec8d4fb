"""The driver versions this instrumentation supports (5.28 and 6.x are tested)."""

_instruments = ("neo4j >= 5.8, < 7",)
