"""A Jaeger of our own for benchmarks: the binary ``deploy/local/up`` built, on free
127.0.0.1 ports, with badger storage in a folder (kept across a restart) or the local
stack's memory storage, started and stopped by PID; it never touches the shared stack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from stacktools.listeners import free_port
from stacktools.stack import stack_settings

REPO = Path(__file__).resolve().parent.parent

#: Run in a child process by ``count_spans``.
COUNT_SPANS = """
import json, sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=60) as response:
        data = json.load(response).get("data") or []
except urllib.error.HTTPError as error:  # 404: no span of the service stored
    data = [] if error.code == 404 else None
except OSError:
    data = None
print(-1 if data is None else sum(len(trace["spans"]) for trace in data))
"""


def count_spans(url: str) -> int:
    """Spans in a query-API answer, parsed in a child process: the answer for a burst
    is large, and a parent that grew would pass its peak RSS on to the next workload
    (Linux carries ``ru_maxrss`` across fork and exec)."""
    result = subprocess.run(
        [sys.executable, "-c", COUNT_SPANS, url], capture_output=True, text=True, check=True
    )
    return int(result.stdout)


class Jaeger:
    """A Jaeger of our own: the built binary, with badger storage in a temporary folder
    (kept across a restart) or memory storage (the local stack's)."""

    def __init__(self, folder: Path, storage: str = "badger") -> None:
        settings = stack_settings()
        self.binary = (
            Path(settings["STACK_CACHE_DIR"])
            / "jaeger"
            / settings["STACK_JAEGER_MODULE_VERSION"]
            / "jaeger"
        )
        names = ("GRPC", "HTTP", "QUERY_HTTP", "QUERY_GRPC", "HEALTH")
        self.ports = {name: free_port() for name in names}
        self.env = {
            **os.environ,
            "STACK_JAEGER_OTLP_GRPC_PORT": str(self.ports["GRPC"]),
            "STACK_JAEGER_OTLP_HTTP_PORT": str(self.ports["HTTP"]),
            "STACK_JAEGER_QUERY_HTTP_PORT": str(self.ports["QUERY_HTTP"]),
            "STACK_JAEGER_QUERY_GRPC_PORT": str(self.ports["QUERY_GRPC"]),
            "STACK_JAEGER_HEALTH_PORT": str(self.ports["HEALTH"]),
        }
        config = (REPO / "deploy" / "local" / "jaeger.yaml").read_text()
        memory = "        memory:\n          max_traces: ${env:STACK_JAEGER_MAX_TRACES}\n"
        assert memory in config, "deploy/local/jaeger.yaml changed: update bench_faults.py"
        store = folder / "badger"
        badger = (
            "        badger:\n          directories:\n"
            f"            keys: {store}/keys\n            values: {store}/values\n"
            "          ephemeral: false\n"
        )
        self.config = folder / "jaeger.yaml"
        self.config.write_text(config.replace(memory, badger) if storage == "badger" else config)
        self.env["STACK_JAEGER_MAX_TRACES"] = "200000"
        self.log = folder / "jaeger.log"
        self.process: subprocess.Popen | None = None

    def endpoint(self, protocol: str) -> str:
        return f"http://127.0.0.1:{self.ports['GRPC' if protocol == 'grpc' else 'HTTP']}"

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(self.binary), "--config", str(self.config)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        health = f"http://127.0.0.1:{self.ports['HEALTH']}/status"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jaeger exited; see {self.log}")
            try:
                with urllib.request.urlopen(health, timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise RuntimeError(f"jaeger not healthy after 60 s; see {self.log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def span_count(self, service: str, expected: int) -> int | None:
        """Spans of ``service``, polled until ``expected`` arrive or the count is stable;
        None when the query API never answered."""
        url = f"http://127.0.0.1:{self.ports['QUERY_HTTP']}/api/traces?" + urllib.parse.urlencode(
            {"service": service, "limit": 5000}
        )
        count, stable, deadline = -1, 0, time.monotonic() + 120
        while time.monotonic() < deadline:
            found = count_spans(url)
            if found < 0:  # no answer (a loaded machine): ask again
                continue
            stable = stable + 1 if found == count else 0
            count = found
            if count >= expected or stable >= 3:
                break
            time.sleep(1.0)
        return count if count >= 0 else None
