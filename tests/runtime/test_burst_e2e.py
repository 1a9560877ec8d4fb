"""Bursts from a program's first instant and SIGTERM in a tight loop, against the real
Jaeger: what arrives is what was sent minus exactly what the exit line reports."""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from stacktools.pytest_plugin import BIN_DIR
from stacktools.stack import Stack

from .conftest import runtime_env

BURST = """
from opentelemetry import trace

tracer = trace.get_tracer("burst-test")
for index in range({traces}):
    with tracer.start_as_current_span("burst.root"):
        for child in range(49):
            tracer.start_span("burst.child").end()
"""

# Each span's index goes to a shared counter once its end() returned, so the parent
# knows exactly which spans had ended when the signal came.
TIGHT_LOOP = """
import mmap, struct, sys
from opentelemetry import trace

handle = open(sys.argv[1], "r+b")
counter = mmap.mmap(handle.fileno(), 8)
tracer = trace.get_tracer("sigterm-loop")
index = 0
print("READY", flush=True)
while True:
    with tracer.start_as_current_span("loop.batch"):
        for _ in range(100):
            with tracer.start_as_current_span("loop.item", attributes={"index": index}) as span:
                span.set_attribute("loop.half", index // 2)
            index += 1
            counter[:8] = struct.pack("q", index)
"""

SDK_WARNINGS = ("Setting attribute on ended span", "Calling end() on an ended span")
_DROPPED = re.compile(r"dropped (\d+) of (\d+) span\(s\) in all")


def _endpoint(stack: Stack, protocol: str) -> str:
    return stack.otlp_http_endpoint if protocol == "http/protobuf" else stack.otlp_grpc_endpoint


def _span_indexes(stack: Stack, service: str, expected: int) -> list[dict]:
    """Every span of ``service`` in Jaeger, polled until ``expected`` or stable."""
    url = f"{stack.jaeger_query_url}/api/traces?" + urllib.parse.urlencode(
        {"service": service, "limit": 5000}
    )
    spans: list[dict] = []
    deadline = time.monotonic() + 60
    stable = 0
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                data = json.load(response).get("data") or []
        except urllib.error.HTTPError:  # the service is not known yet
            data = []
        found = [span for trace in data for span in trace["spans"]]
        stable = stable + 1 if found and len(found) == len(spans) else 0
        spans = found
        if len(spans) >= expected or stable >= 4:
            break
        time.sleep(0.5)
    return spans


def _reported_drops(stderr: str) -> int:
    match = _DROPPED.search(stderr)
    return int(match.group(1)) if match else 0


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_a_burst_from_the_first_instant_arrives_minus_exactly_what_is_reported(
    protocol: str, run_instrumented, stack: Stack, service_name: str
) -> None:
    """The default 2,048-span queue overflows in such a burst, as it does without us;
    every span dropped is in the exit line, and none before the exporter was built."""
    env = runtime_env(
        stack,
        service_name,
        OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
        OTEL_EXPORTER_OTLP_ENDPOINT=_endpoint(stack, protocol),
    )
    result = run_instrumented(BURST.format(traces=400), env=env)
    assert result.returncode == 0, result.stderr
    dropped = _reported_drops(result.stderr)

    spans = _span_indexes(stack, service_name, 20000 - dropped)

    assert len(spans) == 20000 - dropped, result.stderr
    assert len(spans) > 2560  # everything but the first batches was lost before the fix
    if dropped:
        assert f"{dropped} because the export queue was full" in result.stderr


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_a_burst_with_room_in_the_queue_arrives_whole(
    protocol: str, run_instrumented, stack: Stack, service_name: str
) -> None:
    env = runtime_env(
        stack,
        service_name,
        OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
        OTEL_EXPORTER_OTLP_ENDPOINT=_endpoint(stack, protocol),
        OTEL_BSP_MAX_QUEUE_SIZE="25000",
    )
    result = run_instrumented(BURST.format(traces=400), env=env)
    assert result.returncode == 0, result.stderr
    assert "podcast-kg-otel" not in result.stderr  # nothing dropped, nothing to report

    spans = _span_indexes(stack, service_name, 20000)

    assert len(spans) == 20000
    roots = [span for span in spans if span["operationName"] == "burst.root"]
    assert len(roots) == 400


def _stop_tight_loop(env: dict[str, str], tmp_path, after: float) -> tuple[int, int, str]:
    """Run the tight loop, SIGTERM it ``after`` s into the loop; (status, spans ended
    before the signal, stderr)."""
    script = tmp_path / "loop.py"
    script.write_text(TIGHT_LOOP)
    counter_file = tmp_path / "counter"
    counter_file.write_bytes(b"\0" * 8)
    command = [str(BIN_DIR / "opentelemetry-instrument"), sys.executable, str(script)]
    with subprocess.Popen(
        [*command, str(counter_file)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    ) as process:
        assert process.stdout.readline().startswith("READY"), process.stderr.read()
        time.sleep(after)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)  # generous: only catches a hang
    # Read once the process is gone: the loop may run on until the handler runs.
    (ended,) = struct.unpack("q", counter_file.read_bytes()[:8])
    return process.returncode, ended, stderr


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_sigterm_in_a_tight_loop_delivers_every_ended_span_without_sdk_warnings(
    protocol: str, stack: Stack, service_name: str, tmp_path
) -> None:
    """The signal lands anywhere in span code, many times over; each time every span that
    had ended arrives (and the one in progress, ended at exit), with no SDK warning."""
    for attempt, after in enumerate((0.15, 0.3, 0.45, 0.6)):
        service = f"{service_name}-{attempt}"
        env = runtime_env(
            stack,
            service,
            OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
            OTEL_EXPORTER_OTLP_ENDPOINT=_endpoint(stack, protocol),
            OTEL_BSP_MAX_QUEUE_SIZE="200000",  # this test is about the signal, not the queue
        )
        status, ended, stderr = _stop_tight_loop(env, tmp_path, after)

        assert status == -signal.SIGTERM, stderr
        assert not [line for line in stderr.splitlines() if line.startswith(SDK_WARNINGS)]
        assert "podcast-kg-otel" not in stderr  # nothing dropped
        spans = _span_indexes(stack, service, ended + ended // 100 + 1)  # items + batches
        items = [span for span in spans if span["operationName"] == "loop.item"]
        indexes = sorted(
            next(tag["value"] for tag in span["tags"] if tag["key"] == "index") for span in items
        )
        assert ended > 0 and indexes[:ended] == list(range(ended)), (ended, len(indexes))
        assert len(indexes) in (ended, ended + 1)  # + the span open when the signal came
