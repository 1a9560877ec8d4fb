"""SIGTERM (how Kubernetes, systemd and containers stop a process) flushes the spans first."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from stacktools.jaeger import JaegerClient
from stacktools.pytest_plugin import BIN_DIR
from stacktools.stack import Stack

from .conftest import runtime_env

WAITS_FOR_SIGTERM = """
import signal
import sys
import time
from opentelemetry import trace

{set_up}
tracer = trace.get_tracer("sigterm-test")
root = tracer.start_span("job.root")  # still open when the process is stopped
context = trace.set_span_in_context(root)
for index in range(5):
    tracer.start_span(f"item.{{index}}", context=context).end()
print("READY", signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, flush=True)
time.sleep(60)
"""

OWN_HANDLER = "signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))"


def _stop_with_sigterm(script: str, env: dict[str, str], tmp_path) -> tuple[int, str, str]:
    """Run ``script`` under opentelemetry-instrument, SIGTERM it once it is ready."""
    path = tmp_path / "job.py"
    path.write_text(script)
    command = [str(BIN_DIR / "opentelemetry-instrument"), sys.executable, str(path)]
    with subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    ) as process:
        ready = process.stdout.readline()
        assert ready.startswith("READY"), process.stderr.read()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)  # generous: only catches a hang
    return process.returncode, ready.split()[1], stderr


def _env(stack: Stack, service: str, protocol: str, **extra: str) -> dict[str, str]:
    endpoint = stack.otlp_http_endpoint if protocol == "http/protobuf" else stack.otlp_grpc_endpoint
    return runtime_env(
        stack,
        service,
        OTEL_BSP_SCHEDULE_DELAY="30000",  # nothing is exported before the signal
        OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        **extra,
    )


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_sigterm_exports_every_span_then_dies_by_the_signal(
    protocol: str, stack: Stack, jaeger: JaegerClient, service_name: str, tmp_path
) -> None:
    script = WAITS_FOR_SIGTERM.format(set_up="")
    status, default_handler, stderr = _stop_with_sigterm(
        script, _env(stack, service_name, protocol), tmp_path
    )
    assert default_handler == "False"  # ours was installed
    assert status == -signal.SIGTERM, stderr  # the parent still sees death by SIGTERM
    assert "Traceback" not in stderr
    trace = jaeger.wait_for_trace(service_name, min_spans=6, timeout=30)
    root = trace.root
    assert root.name == "job.root" and len(root.children) == 5
    assert root.attributes["podcast_kg_otel.span.ended_at_exit"] is True


def test_an_app_handler_for_sigterm_is_left_alone_and_its_exit_still_flushes(
    stack: Stack, jaeger: JaegerClient, service_name: str, tmp_path
) -> None:
    script = WAITS_FOR_SIGTERM.format(set_up=OWN_HANDLER)
    status, _, stderr = _stop_with_sigterm(
        script, _env(stack, service_name, "http/protobuf"), tmp_path
    )
    assert status == 3, stderr  # the app's own handler ran
    trace = jaeger.wait_for_trace(service_name, min_spans=6, timeout=30)
    assert trace.root.name == "job.root" and len(trace.root.children) == 5


def test_flush_on_sigterm_can_be_turned_off(stack: Stack, service_name: str, tmp_path) -> None:
    env = _env(stack, service_name, "http/protobuf", PODCAST_KG_OTEL_FLUSH_ON_SIGTERM="false")
    status, default_handler, stderr = _stop_with_sigterm(
        WAITS_FOR_SIGTERM.format(set_up=""), env, tmp_path
    )
    assert default_handler == "True"  # Python's default disposition is untouched
    assert status == -signal.SIGTERM, stderr
