"""The scale chain's capacity on this machine (deploy/scale's local stack, issue 15).

1. Sustained throughput with no loss: the scale test's workload (4 instrumented pipeline
   processes, half to each gateway, plus the instrumented HTTP server) at rising rates;
   a rate counts when every trace the collectors must keep is read back whole, no trace is
   split and the healthy share is within the binomial bound. Prints spans/s per rate.
2. End-to-end delay: error traces sent one per second from this process (SDK + OTLP/HTTP
   to a gateway); each is polled every 0.25 s on the query process until it is whole.
   The delay (span end -> visible) includes the collectors' decision_wait.
3. Memory: RSS of every process of the stack afterwards.

Run with the scale stack up (deploy/scale/local-up), optionally naming the rates:
    .venv/bin/python benchmarks/bench_scale_chain.py [TRACES_PER_S_PER_PROCESS...]
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.scale.scale_stack import (
    MUST_KEEP,
    SHARE,
    ScaleStack,
    read_back,
    rss_mib,
    run_workloads,
    scale_settings,
    wait_until_kept,
)

RATES = (40, 100, 200)  # traces per second per pipeline process
TRACES_PER_PROCESS_S = 20  # each step sends for about this long


def no_loss(stack: ScaleStack, sent: dict[str, dict]) -> tuple[bool, str]:
    wait_until_kept(stack, sent, timeout=120)
    states = read_back(stack, sent)
    must = Counter(states[t] for t, e in sent.items() if e["kind"] in MUST_KEEP)
    if must["absent"]:  # late (the store behind) or lost? Look again a minute later.
        time.sleep(60)
        absent = {t: e for t, e in sent.items() if e["kind"] in MUST_KEEP and states[t] == "absent"}
        late = read_back(stack, absent)
        must["whole after 60 s more"] = sum(state == "whole" for state in late.values())
    healthy = [states[t] for t, e in sent.items() if e["kind"] not in MUST_KEEP]
    kept, n = healthy.count("whole"), len(healthy)
    in_bound = abs(kept - n * SHARE) <= 4.5 * math.sqrt(n * SHARE * (1 - SHARE))
    ok = set(must) == {"whole"} and "split" not in healthy and in_bound
    return ok, f"must-keep {dict(must)}, healthy kept {kept}/{n}"


def throughput(stack: ScaleStack, rates: tuple[int, ...]) -> None:
    for rate in rates:
        with tempfile.TemporaryDirectory() as tmp:
            traces = rate * TRACES_PER_PROCESS_S
            sent, send_s = run_workloads(stack, Path(tmp), processes=4, traces=traces, rate=rate)
            spans = sum(entry["spans"] for entry in sent.values())
            ok, detail = no_loss(stack, sent)
            print(
                f"target {4 * rate} traces/s: {len(sent)} traces, {spans} spans in {send_s:.1f} s"
                f" = {spans / send_s:.0f} spans/s; {'no loss' if ok else 'LOSS'} ({detail});"
                f" load {os.getloadavg()[0]:.1f}"
            )
            if not ok or send_s > 1.5 * TRACES_PER_PROCESS_S:
                return  # lost data, or the senders could not keep the rate


def delay(stack: ScaleStack, probes: int = 10) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "scale-delay-probe"}))
    exporter = OTLPSpanExporter(endpoint=f"{stack.gateways[0]}/v1/traces")
    provider.add_span_processor(SimpleSpanProcessor(exporter))  # sent as each span ends
    tracer = provider.get_tracer("scale.delay")
    ended: dict[str, float] = {}
    for _ in range(probes):
        with tracer.start_as_current_span("probe") as span:
            span.set_status(Status(StatusCode.ERROR, "probe"))
        ended[format(span.get_span_context().trace_id, "032x")] = time.time()
        time.sleep(1)
    seen: dict[str, float] = {}
    deadline = time.time() + 120
    while len(seen) < probes and time.time() < deadline:
        for trace_id in ended.keys() - seen.keys():
            if stack.trace(trace_id) is not None:
                seen[trace_id] = time.time()
        time.sleep(0.25)
    provider.shutdown()
    delays = sorted(seen[t] - ended[t] for t in seen)
    print(
        f"delay span end -> query, {len(delays)}/{probes} probes: min {delays[0]:.1f} s,"
        f" median {delays[len(delays) // 2]:.1f} s, max {delays[-1]:.1f} s"
    )


def main() -> None:
    stack = ScaleStack(scale_settings())
    print(f"load before: {os.getloadavg()}")
    delay(stack)
    throughput(stack, tuple(int(rate) for rate in sys.argv[1:]) or RATES)
    rss = {name: round(rss_mib(stack.pid(name))) for name in stack.processes()}
    print(f"RSS MiB: {rss}")


if __name__ == "__main__":
    main()
