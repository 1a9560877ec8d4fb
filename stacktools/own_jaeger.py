"""A Jaeger of our own for tests and benchmarks that stop it, restart it or rewrite its
sampling strategies: the binary ``deploy/local/up`` built, with the local stack's config,
on free 127.0.0.1 ports, started and stopped by PID. It never touches the shared stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stacktools.jaeger import JaegerClient
from stacktools.listeners import free_port
from stacktools.manifests import jaeger_binary
from stacktools.stack import STACK_DIR

_PORTS = (
    "OTLP_GRPC",
    "OTLP_HTTP",
    "QUERY_HTTP",
    "QUERY_GRPC",
    "HEALTH",
    "SAMPLING_HTTP",
    "SAMPLING_GRPC",
)
_MEMORY = "        memory:\n          max_traces: ${env:STACK_JAEGER_MAX_TRACES}\n"

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


@dataclass
class OwnJaeger:
    """A Jaeger v2 process in ``workdir``: ``source`` (the local stack's config) with
    ``storage`` ``memory`` (as the stack) or ``badger`` (kept across a restart), and
    remote sampling from ``strategies`` (the repository's until ``write_strategies``),
    re-read every ``reload_interval`` seconds."""

    workdir: Path
    storage: str = "memory"
    reload_interval: float = 0.5
    source: Path = STACK_DIR / "jaeger.yaml"
    max_traces: int = 200_000
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    @property
    def strategies(self) -> Path:
        return self.workdir / "strategies.json"

    @property
    def log(self) -> Path:
        return self.workdir / "jaeger.log"

    @property
    def sampling_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['SAMPLING_HTTP']}"

    @property
    def otlp_http_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['OTLP_HTTP']}"

    def endpoint(self, protocol: str) -> str:
        """The OTLP endpoint for ``grpc`` or HTTP."""
        return f"http://127.0.0.1:{self.ports['OTLP_GRPC' if protocol == 'grpc' else 'OTLP_HTTP']}"

    @property
    def query(self) -> JaegerClient:
        return JaegerClient(f"http://127.0.0.1:{self.ports['QUERY_HTTP']}")

    def write_strategies(self, strategies: dict[str, Any]) -> None:
        """Replace the file in one step, so Jaeger never reads half of it."""
        temporary = self.strategies.with_suffix(".tmp")
        temporary.write_text(json.dumps(strategies))
        os.replace(temporary, self.strategies)

    def environment(self) -> dict[str, str]:
        env = {**os.environ}
        for name, port in self.ports.items():
            env[f"STACK_JAEGER_{name}_PORT"] = str(port)
        env["STACK_JAEGER_MAX_TRACES"] = str(self.max_traces)
        env["STACK_JAEGER_SAMPLING_STRATEGIES"] = str(self.strategies)
        return env

    def config(self) -> Path:
        """``source`` with the reload interval and the storage chosen."""
        text = self.source.read_text()
        text = text.replace("reload_interval: 5s", f"reload_interval: {self.reload_interval}s")
        if self.storage == "badger":
            assert _MEMORY in text, f"{self.source} changed: update stacktools/own_jaeger.py"
            store = self.workdir / "badger"
            text = text.replace(
                _MEMORY,
                "        badger:\n          directories:\n"
                f"            keys: {store}/keys\n            values: {store}/values\n"
                "          ephemeral: false\n",
            )
        path = self.workdir / "jaeger.yaml"
        path.write_text(text)
        return path

    def start(self) -> None:
        """Start it (on the same ports after a stop) and wait until it is healthy and
        serves sampling strategies."""
        if not self.ports:
            self.ports.update((name, free_port()) for name in _PORTS)
        if not self.strategies.exists():
            self.write_strategies(json.loads((STACK_DIR / "sampling-strategies.json").read_text()))
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(jaeger_binary()), "--config", str(self.config())],
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        ready = (
            f"http://127.0.0.1:{self.ports['HEALTH']}/status",
            f"{self.sampling_url}/?service=probe",
        )
        deadline = time.monotonic() + 60
        for url in ready:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"jaeger exited: {self.log.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(url, timeout=2):
                        break
                except OSError as error:
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            f"own jaeger not ready after 60 s; see {self.log}"
                        ) from error
                    time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
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
