"""The local scale stack (deploy/scale/local-up) as the scale test sees it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SCALE = REPO / "deploy" / "scale"


@dataclass(frozen=True)
class ScaleStack:
    """Where the running scale stack listens, and its process ids (from its PID files)."""

    settings: dict[str, str]

    @property
    def run_dir(self) -> Path:
        return Path(self.settings["SCALE_RUN_DIR"])

    @property
    def gateways(self) -> list[str]:
        return [f"http://{host}:4318" for host in self.settings["SCALE_GATEWAY_HOSTS"].split()]

    @property
    def query_url(self) -> str:
        return f"http://{self.settings['SCALE_QUERY_HOST']}:16686"

    def pid(self, name: str) -> int:
        return int((self.run_dir / f"{name}.pid").read_text())

    def sampler_metric(self, name: str, metric: str) -> float:
        """The sum of METRIC's samples in tail-sampling collector NAME's own telemetry
        ("sampler-2": the second of SCALE_SAMPLER_HOSTS); 0 before it has any."""
        host = self.settings["SCALE_SAMPLER_HOSTS"].split()[int(name.rsplit("-", 1)[1]) - 1]
        with urllib.request.urlopen(f"http://{host}:8888/metrics", timeout=10) as response:
            lines = response.read().decode().splitlines()
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in lines
            if line.startswith((f"{metric}{{", f"{metric} "))
        )

    def processes(self) -> list[str]:
        return sorted(path.stem for path in self.run_dir.glob("*.pid"))

    def trace(self, trace_id: str) -> dict | None:
        """The trace as the query process returns it, or None when it has none."""
        try:
            with urllib.request.urlopen(f"{self.query_url}/api/traces/{trace_id}", timeout=30) as r:
                (found,) = json.load(r)["data"]
                return found
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise


def scale_settings() -> dict[str, str]:
    script = f'. "{SCALE}/lib/common.sh"; load_scale_env; env'
    out = subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if line.startswith("SCALE_"))


def up() -> None:
    """Start whatever part of the scale stack is not running (idempotent)."""
    result = subprocess.run([str(SCALE / "local-up")], capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        pytest.fail(f"deploy/scale/local-up failed:\n{result.stderr[-3000:]}", pytrace=False)


def wait_for(check, timeout: float, interval: float = 2.0):
    """Poll CHECK until it returns a truthy value or TIMEOUT passes; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


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

    DURING, if given, is called with the stack once the pipeline processes are started.
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
