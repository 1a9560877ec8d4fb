"""The scale set-up run for real: trace-id routing, tail sampling, a distributed store.

Pipeline processes under `opentelemetry-instrument` (half of them to each gateway) send
thousands of traces through deploy/scale's local stack; some fail, some are slow, some
continue in an instrumented HTTP server process. Read back from the query process over
Cassandra: every trace the collectors must keep is there whole (every span from both
processes, no span twice), the healthy ones are kept at the configured share, and no
trace is split. Then one tail-sampling collector is killed mid-run: what it held is lost,
counted; the traces routed to the other one are still kept whole.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from tests.scale.scale_stack import SCALE, ScaleStack, up, wait_for

HERE = Path(__file__).resolve().parent
INSTRUMENT = Path(sys.executable).parent / "opentelemetry-instrument"
SERVER_HOST = "127.0.0.9"
MUST_KEEP = {"error", "slow", "cross-error"}

COLLECTOR = yaml.safe_load((SCALE / "config" / "jaeger-collector.yaml").read_text())
TAIL = COLLECTOR["processors"]["tail_sampling"]
DECISION_WAIT_S = float(TAIL["decision_wait"].removesuffix("s"))
(BASELINE,) = [p for p in TAIL["policies"] if p["type"] == "probabilistic"]
SHARE = BASELINE["probabilistic"]["sampling_percentage"] / 100


def otel_env(service: str, gateway: str) -> dict[str, str]:
    return {
        **os.environ,
        "OTEL_SERVICE_NAME": service,
        "OTEL_EXPORTER_OTLP_ENDPOINT": gateway,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_SAMPLER": "parentbased_always_on",  # the collectors sample
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_BSP_MAX_QUEUE_SIZE": "100000",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def run_workloads(
    stack: ScaleStack, tmp_path: Path, processes: int, traces: int, rate: float, during=None
) -> tuple[dict[str, dict], float]:
    """Run the server and PROCESSES pipeline processes; return {trace id: sent} and the send time.

    DURING, if given, is called with the stack once a third of the traces are sent.
    """
    port = free_port(SERVER_HOST)
    server_manifest = tmp_path / "server.json"
    server = subprocess.Popen(
        [
            str(INSTRUMENT),
            sys.executable,
            str(HERE / "server.py"),
            SERVER_HOST,
            str(port),
            str(server_manifest),
        ],
        env=otel_env("scale-server", stack.gateways[-1]),
    )
    wait_for(lambda: _listening(SERVER_HOST, port), timeout=60, interval=0.5)
    workers = []
    for index in range(processes):
        manifest = tmp_path / f"pipeline-{index}.json"
        command = [str(INSTRUMENT), sys.executable, str(HERE / "workload.py"), str(manifest)]
        command += [str(traces), str(rate), str(index), f"http://{SERVER_HOST}:{port}"]
        gateway = stack.gateways[index % len(stack.gateways)]
        workers.append(
            (manifest, subprocess.Popen(command, env=otel_env(f"scale-pipeline-{index}", gateway)))
        )
    if during is not None:
        time.sleep(traces / rate / 3)
        during(stack)
    for _manifest, worker in workers:
        assert worker.wait(timeout=600) == 0
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=120) == 0
    server_spans = json.loads(server_manifest.read_text())
    sent: dict[str, dict] = {}
    send_s = 0.0
    for manifest, _worker in workers:
        data = json.loads(manifest.read_text())
        send_s = max(send_s, data["sent_s"])
        for trace_id, entry in data["traces"].items():
            entry["spans"] += server_spans.get(trace_id, 0)
            sent[trace_id] = entry
    return sent, send_s


def _listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) == 0


def check_trace(found: dict | None, sent: dict) -> str:
    """'absent', 'whole' or 'split' (whole: every span sent, none twice, both processes
    for the cross traces)."""
    if found is None:
        return "absent"
    span_ids = [span["spanID"] for span in found["spans"]]
    services = {process["serviceName"] for process in found["processes"].values()}
    both = "scale-server" in services and len(services) == 2
    if len(span_ids) == len(set(span_ids)) == sent["spans"] and (
        both or not sent["kind"].startswith("cross")
    ):
        return "whole"
    return "split"


def read_back(stack: ScaleStack, sent: dict[str, dict]) -> dict[str, str]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = pool.map(stack.trace, sent)
        return {
            trace_id: check_trace(trace, sent[trace_id])
            for trace_id, trace in zip(sent, found, strict=True)
        }


def wait_until_kept(stack: ScaleStack, sent: dict[str, dict], timeout: float) -> dict[str, float]:
    """Poll the must-keep traces until each is whole; return when each was first seen whole."""
    pending = {tid for tid, entry in sent.items() if entry["kind"] in MUST_KEEP}
    seen: dict[str, float] = {}

    def all_seen() -> bool:
        now = time.time()
        for trace_id, state in read_back(stack, {t: sent[t] for t in pending}).items():
            if state == "whole":
                seen[trace_id] = now
                pending.discard(trace_id)
        return not pending

    wait_for(all_seen, timeout=timeout)
    return seen


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def test_errors_and_slow_traces_kept_whole_the_rest_at_the_configured_share(scale_stack, tmp_path):
    sent, send_s = run_workloads(scale_stack, tmp_path, processes=4, traces=800, rate=40)
    kinds = Counter(entry["kind"] for entry in sent.values())
    assert len(sent) == 3200 and all(kinds[kind] > 0 for kind in (*MUST_KEEP, "cross"))

    seen = wait_until_kept(scale_stack, sent, timeout=DECISION_WAIT_S + 120)
    states = read_back(scale_stack, sent)

    must = {tid: states[tid] for tid, entry in sent.items() if entry["kind"] in MUST_KEEP}
    assert Counter(must.values()) == {"whole": len(must)}
    healthy = [states[tid] for tid, entry in sent.items() if entry["kind"] not in MUST_KEEP]
    assert "split" not in healthy  # a healthy trace is kept whole or not at all
    kept, n = healthy.count("whole"), len(healthy)
    # Binomial: within 4.5 standard deviations of the configured share (p < 1e-5 to fail).
    assert abs(kept - n * SHARE) <= 4.5 * math.sqrt(n * SHARE * (1 - SHARE)), (kept, n, SHARE)

    spans = sum(entry["spans"] for entry in sent.values())
    delays = sorted(seen[tid] - sent[tid]["end_ns"] / 1e9 for tid in seen)
    figures = {
        "traces": len(sent),
        "spans_sent": spans,
        "send_s": round(send_s, 1),
        "spans_per_s": round(spans / send_s),
        "kept_healthy": kept,
        "healthy": n,
        "must_keep_whole": len(must),
        "visibility_delay_s": {
            "p50": round(delays[len(delays) // 2], 1),
            "max": round(delays[-1], 1),
        },
        "rss_mib": {
            name: round(rss_mib(scale_stack.pid(name))) for name in scale_stack.processes()
        },
        "load": os.getloadavg(),
    }
    (scale_stack.run_dir / "scale-figures.json").write_text(json.dumps(figures, indent=1))
    print(json.dumps(figures, indent=1))


def test_a_tail_sampler_killed_mid_run_loses_what_it_held_and_the_rest_continue(
    scale_stack, tmp_path
):
    victim = "sampler-2"
    killed_at: list[float] = []

    def kill(stack: ScaleStack) -> None:
        os.kill(stack.pid(victim), signal.SIGKILL)
        killed_at.append(time.time())

    try:
        sent, _ = run_workloads(
            scale_stack, tmp_path, processes=2, traces=900, rate=30, during=kill
        )
        time.sleep(DECISION_WAIT_S + 5)
        wait_until_kept(scale_stack, sent, timeout=30)  # not all will come: half the ring is gone
        states = read_back(scale_stack, sent)
    finally:
        up()  # the killed collector back, for whatever runs next

    must = {tid: entry for tid, entry in sent.items() if entry["kind"] in MUST_KEEP}
    assert "split" not in states.values()  # whole or lost, never in parts
    after = [tid for tid, entry in must.items() if entry["end_ns"] / 1e9 > killed_at[0] + 1]
    whole_after = sum(states[tid] == "whole" for tid in after)
    lost = sum(states[tid] == "absent" for tid in must)
    print(
        f"must-keep traces: {len(must)}, lost: {lost}; "
        f"after the kill: {whole_after} of {len(after)} kept whole"
    )
    (scale_stack.run_dir / "scale-kill.json").write_text(
        json.dumps(
            {
                "must_keep": len(must),
                "lost": lost,
                "after_kill": len(after),
                "after_kill_whole": whole_after,
            }
        )
    )
    # The survivor's half of the hash ring goes on being sampled and stored.
    assert len(after) > 20 and 0.25 * len(after) <= whole_after < len(after)
