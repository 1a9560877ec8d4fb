"""pytest fixtures for tests that run against the real local stack.

`stack` starts the stack when it is not up and fails the test run loudly when it
cannot: a test that needs Jaeger, Neo4j or Redis is never skipped for want of them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from stacktools.jaeger import JaegerClient
from stacktools.stack import Stack, StackError, ensure_up

BIN_DIR = Path(sys.executable).parent


@pytest.fixture(scope="session")
def stack() -> Stack:
    try:
        return ensure_up()
    except StackError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def jaeger(stack: Stack) -> JaegerClient:
    return JaegerClient(stack.jaeger_query_url)


@pytest.fixture
def service_name(request: pytest.FixtureRequest) -> str:
    """A service name unique to this test, so its traces are easy to find in Jaeger."""
    return f"test-{request.node.name[:40]}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def otlp_provider(stack: Stack, service_name: str) -> Iterator[TracerProvider]:
    """A (non-global) TracerProvider that exports to the real Jaeger over OTLP/HTTP.

    Call `force_flush()` before reading traces back with the `jaeger` fixture.
    """
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    exporter = OTLPSpanExporter(endpoint=f"{stack.otlp_http_endpoint}/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=100))
    yield provider
    provider.shutdown()


RunInstrumented = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def run_instrumented(tmp_path: Path) -> RunInstrumented:
    """Run Python code under `opentelemetry-instrument` in a fresh process.

    `run_instrumented(code, env={...}, args=[...])` writes `code` to a script and runs
    `opentelemetry-instrument python script.py *args` with os.environ plus `env`.
    Returns the CompletedProcess (text output captured); a generous timeout only
    guards against hangs.
    """

    def run(
        code: str,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess:
        script = tmp_path / f"script_{uuid.uuid4().hex[:6]}.py"
        script.write_text(code)
        full_env = {**os.environ, **(env or {})}
        command = [str(BIN_DIR / "opentelemetry-instrument"), sys.executable, str(script)]
        return subprocess.run(
            command + list(args or []),
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tmp_path,
        )

    return run
