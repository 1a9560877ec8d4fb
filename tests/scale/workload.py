"""A pipeline process for the scale test, run under `opentelemetry-instrument`.

It sends TRACES traces at about RATE traces per second through the gateway it was given
(OTEL_EXPORTER_OTLP_ENDPOINT). Each trace has a kind: `healthy`, `error` (a step fails
here), `slow` (the job lasts longer than the collectors' latency threshold), `cross` (a
call to the instrumented HTTP server, context in the request headers) or `cross-error`
(the server's part fails, this process's part does not). Every span that ends in this
process is counted per trace by a span processor on the distro's provider; the manifest
(JSON: kind, spans ended here, end time per trace id) is written when the process exits.

Usage: workload.py MANIFEST TRACES RATE SEED SERVER_URL
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

SLOW_S = 5.5  # above the collectors' latency threshold (5 s)
KINDS = {"error": 0.04, "slow": 0.01, "cross": 0.15, "cross-error": 0.02}


class EndedSpans(SpanProcessor):
    """Counts spans ended in this process, per trace id (what the exporter is handed)."""

    def __init__(self) -> None:
        self.per_trace: Counter[str] = Counter()
        self.last_end: dict[str, int] = {}
        self._lock = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        trace_id = format(span.context.trace_id, "032x")
        with self._lock:
            self.per_trace[trace_id] += 1
            self.last_end[trace_id] = max(self.last_end.get(trace_id, 0), span.end_time or 0)


def pick_kind(rng: random.Random) -> str:
    draw = rng.random()
    for kind, share in KINDS.items():
        if draw < share:
            return kind
        draw -= share
    return "healthy"


def run_trace(tracer: trace.Tracer, kind: str, steps: int, server: str) -> str:
    with tracer.start_as_current_span("scale.job", attributes={"scale.kind": kind}) as job:
        trace_id = format(job.get_span_context().trace_id, "032x")
        for step in range(steps):
            with tracer.start_as_current_span("scale.step", attributes={"scale.step": step}):
                pass
        if kind == "error":
            try:
                with tracer.start_as_current_span("scale.failing_step"):
                    raise ValueError("a step failed")
            except ValueError:
                pass
        if kind.startswith("cross"):
            # The requests instrumentation injects traceparent into the headers.
            requests.get(f"{server}/work", params={"fail": int(kind == "cross-error")}, timeout=10)
        if kind == "slow":
            time.sleep(SLOW_S)
    return trace_id


def main(manifest: str, traces: int, rate: float, seed: int, server: str) -> None:
    counter = EndedSpans()
    trace.get_tracer_provider().add_span_processor(counter)
    tracer = trace.get_tracer("scale.workload")
    rng = random.Random(seed)
    kinds: dict[str, str] = {}
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:  # slow traces sleep in parallel
        futures = []
        for index in range(traces):
            kind = pick_kind(rng)
            futures.append((kind, pool.submit(run_trace, tracer, kind, rng.randint(1, 4), server)))
            delay = started + (index + 1) / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        for kind, future in futures:
            kinds[future.result()] = kind
    sent_s = time.monotonic() - started
    Path(manifest).write_text(
        json.dumps(
            {
                "sent_s": sent_s,
                "traces": {
                    tid: {
                        "kind": kind,
                        "spans": counter.per_trace[tid],
                        "end_ns": counter.last_end[tid],
                    }
                    for tid, kind in kinds.items()
                },
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
