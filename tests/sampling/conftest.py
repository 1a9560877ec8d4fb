"""Fixtures for the jaeger_remote sampler tests: a scripted sampling endpoint for the
unit tests, and a Jaeger process of our own (the stack's binary, other ports) for the
end-to-end tests that rewrite its strategies file or stop it."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from podcast_kg_otel_util import env as envtools
from podcast_kg_otel_util import failopen

from stacktools.manifests import jaeger_binary
from stacktools.own_jaeger import OwnJaeger


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
