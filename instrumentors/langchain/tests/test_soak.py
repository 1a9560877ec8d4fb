"""Soak: 10,000 invocations through our handler and run map keep memory flat, even
with runs that are abandoned (never ended) along the way.

The long soak (100,000 chain invocations, sync, async and streaming, RSS sampled) is a
benchmark: benchmarks/soak_langchain.py."""

from __future__ import annotations

import contextvars
import gc
import itertools
import tracemalloc

from langchain_core.callbacks import CallbackManager
from langchain_core.runnables import RunnableLambda
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from podcast_kg_otel_langchain import LangChainInstrumentor

INVOCATIONS = 10_000
WARMUP = 1_000
CHECKPOINTS = 4
ABANDON_EVERY = 10
MAX_OPEN_RUNS = 128


class CountingExporter(InMemorySpanExporter):
    """Counts spans and drops them, so the exporter itself holds no memory."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.orphans = 0

    def export(self, spans):
        for span in spans:
            self.count += 1
            self.orphans += bool(span.attributes.get("langchain.run.orphaned"))
        return super().export(())


def traced_memory() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def invoke_many(step: RunnableLambda, count: int) -> None:
    for i in range(count):
        assert step.invoke(i) == i + 1
        if i % ABANDON_EVERY == 0:
            # A run whose end never comes (a crashed worker, a lost stream).
            CallbackManager.configure().on_chain_start(None, i, name="abandoned")


def soak() -> list[int]:
    """Warm up to the steady state (run map full), then sample memory at checkpoints."""
    step = RunnableLambda(lambda x: x + 1).with_config(run_name="soak")
    invoke_many(step, WARMUP)
    tracemalloc.start()
    try:
        samples = [traced_memory()]
        for _ in range(CHECKPOINTS):
            invoke_many(step, INVOCATIONS // CHECKPOINTS)
            samples.append(traced_memory())
        return samples
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_over_10k_invocations():
    exporter = CountingExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=provider, max_open_runs=MAX_OPEN_RUNS)
    try:
        # Abandoned runs attach to the context they start in: keep that one private.
        samples = contextvars.copy_context().run(soak)
        open_runs = len(instrumentor._handler._runs)
    finally:
        instrumentor.uninstrument()

    print(f"traced memory at checkpoints (bytes): {samples}")
    # The first checkpoint includes filling the map; after it, nothing may grow.
    growth = [after - before for before, after in itertools.pairwise(samples[1:])]
    assert max(growth) < 32 * 1024, samples
    assert samples[-1] < 1024 * 1024, samples
    assert open_runs <= MAX_OPEN_RUNS
    total = WARMUP + INVOCATIONS
    abandoned = total // ABANDON_EVERY
    # Every abandoned run was ended as an orphan: evicted on the way, or still in the
    # map and ended by uninstrument().
    assert exporter.orphans == abandoned
    assert exporter.count == total + abandoned
