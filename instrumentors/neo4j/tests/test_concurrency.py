"""Many async tasks and threads at once: every span under the right parent, none twice."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

from opentelemetry.trace import SpanKind

TASKS = 24
THREADS = 8
ROUNDS = 3


def _check(spans, parents: dict[str, int], per_worker: int) -> None:
    all_spans = spans.all()
    ids = [s.context.span_id for s in all_spans]
    assert len(ids) == len(set(ids)), "a span was exported twice"
    by_id = {s.context.span_id: s for s in all_spans}
    counts: Counter[str] = Counter()
    for span in spans.neo4j():
        parent = by_id[span.parent.span_id]
        if parent.kind == SpanKind.INTERNAL and parent.name.startswith("execute_"):
            assert span.kind == SpanKind.CLIENT
            parent = by_id[parent.parent.span_id]
        worker = parent.name
        assert worker in parents, f"{span.name} has a foreign parent {worker}"
        assert span.context.trace_id == parents[worker]
        if span.kind == SpanKind.CLIENT:
            counts[worker] += 1
    assert len(counts) == len(parents)
    assert set(counts.values()) == {per_worker}


async def test_many_async_tasks(async_driver, spans):
    parents: dict[str, int] = {}

    async def worker(index: int) -> None:
        name = f"task-{index}"
        with spans.tracer.start_as_current_span(name) as parent:
            parents[name] = parent.get_span_context().trace_id
            async with async_driver.session() as session:
                result = await session.run("RETURN $w AS w", w=index)
                assert (await result.single())["w"] == index

                async def read(tx):
                    return (await (await tx.run("RETURN $w AS w", w=index)).single())["w"]

                assert await session.execute_read(read) == index
            records, _, _ = await async_driver.execute_query("RETURN $w AS w", w=index)
            assert records[0]["w"] == index

    await asyncio.gather(*(worker(i) for i in range(TASKS)))
    _check(spans, parents, per_worker=3)
    assert len(spans.neo4j()) == TASKS * 4  # 3 CLIENT + 1 INTERNAL each


def test_many_threads(driver, spans):
    parents: dict[str, int] = {}
    failures: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            for round_ in range(ROUNDS):
                name = f"thread-{index}-{round_}"
                with spans.tracer.start_as_current_span(name) as parent:
                    parents[name] = parent.get_span_context().trace_id
                    with driver.session() as session:
                        assert session.run("RETURN $w AS w", w=index).single()["w"] == index
                        got = session.execute_write(
                            lambda tx: tx.run("RETURN $w AS w", w=index).single()["w"]
                        )
                        assert got == index
                    assert driver.execute_query("RETURN $w AS w", w=index).records[0]["w"] == index
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    _check(spans, parents, per_worker=3)
    assert len(spans.neo4j()) == THREADS * ROUNDS * 4
