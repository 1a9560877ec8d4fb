"""The query-analysis caches are bounded by characters as well as by entries."""

from __future__ import annotations

import threading

import podcast_kg_otel_neo4j.cypher as cypher_module
import podcast_kg_otel_neo4j.query as query_module
from podcast_kg_otel_neo4j.cache import BoundedCache
from podcast_kg_otel_neo4j.config import Settings
from podcast_kg_otel_neo4j.query import start_attributes


def test_character_budget_evicts_oldest_first():
    cache = BoundedCache(max_entries=100, max_chars=10)
    cache.put("a", 1, 4)
    cache.put("b", 2, 4)
    cache.put("c", 3, 4)  # 12 > 10: "a" goes
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, 2, 3)
    assert cache.chars == 8 and len(cache) == 2


def test_entry_limit_and_oversized_values():
    cache = BoundedCache(max_entries=2, max_chars=100)
    for key in "abc":
        cache.put(key, key.upper(), 1)
    assert cache.get("a") is None and len(cache) == 2
    cache.put("huge", "H", 101)  # larger than the whole budget: not kept, nothing evicted
    assert cache.get("huge") is None and len(cache) == 2
    cache.put("b", "again", 50)  # already there: kept as it was
    assert cache.get("b") == "B" and cache.chars == 2


def test_concurrent_puts_keep_the_accounting_exact():
    cache = BoundedCache(max_entries=50, max_chars=500)

    def fill(worker: int) -> None:
        for i in range(500):
            cache.put((worker, i), i, 1 + i % 20)

    threads = [threading.Thread(target=fill, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(cache) <= 50 and cache.chars <= 500
    assert cache.chars == sum(1 + key[1] % 20 for key in cache._sizes)


def test_analysis_cache_holds_at_most_its_budget(monkeypatch):
    monkeypatch.setattr(cypher_module, "_ANALYSES", BoundedCache(max_entries=512, max_chars=20_000))
    for i in range(40):
        literals = ", ".join(f"'v{i}-{j}'" for j in range(200))  # about 2000 characters
        analysis = cypher_module.analyse(f"MATCH (n:Big{i}) WHERE n.v IN [{literals}] RETURN n")
        assert analysis.summary == f"MATCH Big{i}"
        assert analysis.sanitized == f"MATCH (n:Big{i}) WHERE n.v IN ? RETURN n"
    cache = cypher_module._ANALYSES
    assert 0 < cache.chars <= 20_000 and len(cache) < 40


def test_start_attribute_cache_holds_at_most_its_budget(monkeypatch):
    monkeypatch.setattr(query_module, "_SHAPES", BoundedCache(max_entries=1024, max_chars=20_000))
    settings = Settings()
    for i in range(40):
        query = f"MATCH (n:Big{i}) WHERE n.v IN [{', '.join(str(j) for j in range(500))}] RETURN n"
        name, attributes = start_attributes(
            settings, query, None, {}, "neo4j", "r", "auto_commit", ("db", 7687)
        )
        assert name == f"MATCH Big{i}"
        assert attributes["db.query.text"] == f"MATCH (n:Big{i}) WHERE n.v IN ? RETURN n"
    cache = query_module._SHAPES
    assert 0 < cache.chars <= 20_000 and len(cache) < 40
