"""LangChain memory soak: 100,000 chain invocations under our instrumentor, RSS sampled.

The invocations cycle through sync `invoke`, async `ainvoke`, sync `stream` and async
`astream` of two chains (`prompt | FakeListChatModel | StrOutputParser` and the same with
`FakeListLLM`), all in one event loop; every 2,000th is a stream abandoned after its
first chunk (sync and async in turn), a run that never reports its end. Spans go
through an SDK TracerProvider with a BatchSpanProcessor to a discarding exporter.

RSS is read from /proc/self/statm after a garbage collection every 5,000 invocations.
The first 20,000 are the warm-up (caches, the run map, the SDK's queue fill up); the
report is the least-squares slope of RSS over the rest, in MB per 100,000 invocations,
and the growth from the first to the last sample after the warm-up (goal: at most 5 MB).
`--plain` runs the same workload uninstrumented first, in its own process, as a baseline.

    python benchmarks/soak_langchain.py [--invocations 100000] [--plain]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import time
from typing import Any

SAMPLE_EVERY = 5_000
ABANDON_EVERY = 2_000
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    gc.collect()
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


def chains() -> list[Any]:
    from langchain_core.language_models import FakeListChatModel, FakeListLLM
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import PromptTemplate

    prompt = PromptTemplate.from_template("Tell me about {topic}")
    answers = ["a fine answer", "another answer"]
    return [
        prompt | FakeListChatModel(responses=answers) | StrOutputParser(),
        prompt | FakeListLLM(responses=answers) | StrOutputParser(),
    ]


async def workload(invocations: int) -> list[tuple[int, float]]:
    """Run the invocations; returns (invocations done, RSS MB) samples."""
    chain_pair = chains()
    inputs = {"topic": "graphs"}
    abandoned: list[Any] = []
    samples = [(0, rss_mb())]
    for i in range(1, invocations + 1):
        chain = chain_pair[i % 2]
        if i % ABANDON_EVERY == 0:
            if i % (2 * ABANDON_EVERY):
                stream: Any = chain.stream(inputs)
                next(stream)
            else:
                stream = chain.astream(inputs)
                await anext(stream)
            # Kept a while, then dropped without closing: the generator's finalizer
            # (or the event loop's) is all that ever ends it.
            abandoned.append(stream)
            del stream
            if len(abandoned) > 3:
                abandoned.pop(0)
        else:
            how = (i // 2) % 4
            if how == 0:
                chain.invoke(inputs)
            elif how == 1:
                await chain.ainvoke(inputs)
            elif how == 2:
                for _ in chain.stream(inputs):
                    pass
            else:
                async for _ in chain.astream(inputs):
                    pass
        if i % SAMPLE_EVERY == 0:
            await asyncio.sleep(0)  # let the loop finalize abandoned async generators
            samples.append((i, rss_mb()))
    return samples


def worker(instrumented: bool, invocations: int) -> dict[str, Any]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class Discard(SpanExporter):
        def __init__(self) -> None:
            self.count = 0
            self.orphans = 0

        def export(self, spans: Any) -> SpanExportResult:
            self.count += len(spans)
            self.orphans += sum(bool(s.attributes.get("langchain.run.orphaned")) for s in spans)
            return SpanExportResult.SUCCESS

    exporter = Discard()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    instrumentor = None
    if instrumented:
        from podcast_kg_otel_langchain import LangChainInstrumentor

        instrumentor = LangChainInstrumentor()
        instrumentor.instrument(tracer_provider=provider)
    started = time.perf_counter()
    samples = asyncio.run(workload(invocations))
    elapsed = time.perf_counter() - started
    open_runs = len(instrumentor._handler._runs) if instrumentor else 0
    if instrumentor:
        instrumentor.uninstrument()
    provider.shutdown()
    return {
        "samples": samples,
        "seconds": elapsed,
        "spans": exporter.count,
        "orphans": exporter.orphans,
        "open_runs_at_end": open_runs,
    }


def slope_per_100k(points: list[tuple[int, float]]) -> float:
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return sxy / sxx * 100_000


def report(name: str, result: dict[str, Any], warmup: int) -> None:
    samples = [(i, mb) for i, mb in result["samples"]]
    after = [(i, mb) for i, mb in samples if i >= warmup]
    print(f"{name}: {samples[-1][0]} invocations in {result['seconds']:.0f} s")
    print("  RSS MB: " + ", ".join(f"{i // 1000}k={mb:.1f}" for i, mb in samples))
    print(
        f"  after the {warmup // 1000}k warm-up: slope {slope_per_100k(after):+.2f} MB per "
        f"100k invocations, growth {after[-1][1] - after[0][1]:+.2f} MB "
        f"({after[0][1]:.1f} -> {after[-1][1]:.1f} MB)"
    )
    if name == "ours":
        print(
            f"  spans exported {result['spans']}, of which orphaned {result['orphans']}; "
            f"runs still open before uninstrument(): {result['open_runs_at_end']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invocations", type=int, default=100_000)
    parser.add_argument("--warmup", type=int, default=20_000)
    parser.add_argument("--plain", action="store_true", help="run uninstrumented first")
    parser.add_argument("--worker", choices=["ours", "plain"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker == "ours", args.invocations)))
        return
    env = {**os.environ, "OTEL_SDK_DISABLED": "false"}
    for mode in ("plain", "ours") if args.plain else ("ours",):
        out = subprocess.run(
            [sys.executable, __file__, "--worker", mode, "--invocations", str(args.invocations)],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        report(mode, json.loads(out.stdout.strip().splitlines()[-1]), args.warmup)


if __name__ == "__main__":
    main()
