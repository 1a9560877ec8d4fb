"""Fixtures for the jaeger_remote sampler tests: a scripted sampling endpoint for the
unit tests, and a Jaeger process of our own (the stack's binary, other ports) for the
end-to-end tests that rewrite its strategies file or stop it."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from podcast_kg_otel_util import env as envtools
from podcast_kg_otel_util import failopen

from stacktools.jaeger import JaegerClient
from stacktools.stack import STACK_DIR, stack_settings


@pytest.fixture(autouse=True)
def fresh_warnings() -> Iterator[None]:
    envtools._warned.clear()
    failopen._logged.clear()
    yield


def random_trace_ids(count: int, seed: int = 7) -> list[int]:
    generator = random.Random(seed)
    return [generator.getrandbits(128) for _ in range(count)]


@dataclass
class ScriptedEndpoint:
    """Answers every GET with ``body`` (and ``status``); records the queried paths."""

    url: str
    body: bytes = b"{}"
    status: int = 200
    requests: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def answer(self, payload: Any, status: int = 200) -> None:
        self.body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.status = status


@pytest.fixture
def endpoint() -> Iterator[ScriptedEndpoint]:
    scripted = ScriptedEndpoint(url="")
    scripted.release.set()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            scripted.requests.append(self.path)
            scripted.release.wait(10)
            self.send_response(scripted.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(scripted.body)))
            self.end_headers()
            self.wfile.write(scripted.body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    scripted.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield scripted
    scripted.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


# A Jaeger of our own ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def jaeger_binary() -> Path:
    settings = stack_settings()
    return (
        Path(settings["STACK_CACHE_DIR"])
        / "jaeger"
        / settings["STACK_JAEGER_MODULE_VERSION"]
        / "jaeger"
    )


@dataclass
class OwnJaeger:
    """A Jaeger v2 process with remote_sampling from ``strategies`` (re-read every
    ``reload_interval`` seconds), started and stopped by the test."""

    workdir: Path
    reload_interval: float = 0.5
    source: Path = STACK_DIR / "jaeger.yaml"
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    @property
    def strategies(self) -> Path:
        return self.workdir / "strategies.json"

    @property
    def sampling_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['SAMPLING_HTTP']}"

    @property
    def otlp_http_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['OTLP_HTTP']}"

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
        env["STACK_JAEGER_MAX_TRACES"] = "50000"
        env["STACK_JAEGER_SAMPLING_STRATEGIES"] = str(self.strategies)
        return env

    def config(self) -> Path:
        """The stack's config (``source``) with a short reload interval."""
        text = self.source.read_text()
        text = text.replace("reload_interval: 5s", f"reload_interval: {self.reload_interval}s")
        path = self.workdir / "jaeger.yaml"
        path.write_text(text)
        return path

    def start(self) -> None:
        if not self.ports:
            names = ("OTLP_GRPC", "OTLP_HTTP", "QUERY_HTTP", "QUERY_GRPC", "HEALTH")
            for name in (*names, "SAMPLING_HTTP", "SAMPLING_GRPC"):
                self.ports[name] = _free_port()
        log = open(self.workdir / "jaeger.log", "ab")  # noqa: SIM115 (the process owns it)
        self.process = subprocess.Popen(
            [str(jaeger_binary()), "--config", str(self.config())],
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"jaeger exited: {(self.workdir / 'jaeger.log').read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(f"{self.sampling_url}/?service=probe", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("own jaeger did not serve sampling strategies within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


@pytest.fixture
def own_jaeger(stack: object, tmp_path: Path) -> Iterator[OwnJaeger]:
    """Our own Jaeger, not started yet: write its strategies, then ``start()`` it (the
    stack must be up: it built the binary). Stopped after the test."""
    if not jaeger_binary().exists():
        pytest.fail(f"the Jaeger binary {jaeger_binary()} is missing; run deploy/local/up")
    jaeger = OwnJaeger(workdir=tmp_path)
    yield jaeger
    jaeger.stop()


def within_binomial(kept: int, count: int, rate: float, sigmas: float = 4.5) -> bool:
    """`kept` of `count` independent draws at `rate`, within `sigmas` standard deviations."""
    return abs(kept - count * rate) <= sigmas * (count * rate * (1 - rate)) ** 0.5 + 1
