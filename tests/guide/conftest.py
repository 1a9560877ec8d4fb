"""Fixtures for the tracing guide's samples: run one as a program sending to the real Jaeger,
and a local HTTP endpoint that records what it receives."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from stacktools.stack import Stack

SAMPLES = Path(__file__).parent / "samples"
BIN_DIR = Path(sys.executable).parent

RunSample = Callable[..., subprocess.CompletedProcess]


def sample_command(path: Path, *args: str, instrumented: bool = False) -> list[str]:
    """`python path args`, under `opentelemetry-instrument` when `instrumented`."""
    command = [sys.executable, str(path), *args]
    if instrumented:
        command.insert(0, str(BIN_DIR / "opentelemetry-instrument"))
    return command


def without_otel(environ: dict[str, str]) -> dict[str, str]:
    """`environ` without OTEL_* and the guide's variables, so a test sets exactly its own."""
    legacy = ("JAEGER_", "TRACING_", "INSTRUMENT_", "OTEL_", "PODCAST_KG_OTEL_")
    return {
        key: value
        for key, value in environ.items()
        if not key.startswith(legacy) and key != "ENVIRONMENT"
    }


@pytest.fixture
def sample_env(stack: Stack, service_name: str) -> dict[str, str]:
    """The environment of a sample: ours without tracing variables, plus the stack's OTEL_*."""
    return {**without_otel(dict(os.environ)), **stack.otel_env(service_name)}


@pytest.fixture
def run_sample(sample_env: dict[str, str]) -> RunSample:
    """`run_sample("using_decorators", *args, env={...}, instrumented=False)` runs
    tests/guide/samples/using_decorators.py to the end and returns the finished process
    (it must exit 0)."""

    def run(
        name: str,
        *args: str,
        env: dict[str, str] | None = None,
        instrumented: bool = False,
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            sample_command(SAMPLES / f"{name}.py", *args, instrumented=instrumented),
            env=env if env is not None else sample_env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    return run


@dataclass
class Endpoint:
    """A local HTTP endpoint; `requests` holds (method, path, headers) of each request."""

    url: str
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    """An HTTP server on an ephemeral 127.0.0.1 port, in a thread, stopped after the test.
    It answers every GET and POST with 200 and records the request."""
    received: list[tuple[str, str, dict[str, str]]] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append(
                (self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
            )
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_GET = do_POST = answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield Endpoint(f"http://127.0.0.1:{server.server_port}/episodes", received)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
