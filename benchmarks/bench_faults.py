"""Collector faults, bursts and SIGTERM: our distro against the stock one, in one run.

    python benchmarks/bench_faults.py [--scenarios down,silent,restart,late,burst,warm,
                                      sigterm,burst-term] [--protocols http,grpc] [--reps 2]
                                      [--storage badger|memory] [--ours-env NAME=VALUE ...]

Each case is a fresh ``opentelemetry-instrument python workload.py`` process; ours and
stock alternate case by case. Stock is selected in the same venv with
``OTEL_PYTHON_DISTRO=distro OTEL_PYTHON_CONFIGURATOR=configurator``; metrics and logs
export are off for both (Jaeger takes traces only). The benchmark starts its own Jaeger
(the binary ``deploy/local/up`` built, ``deploy/local/jaeger.yaml`` with badger storage so
a restart keeps what it stored, or with ``--storage memory`` the local stack's memory
storage as it is) on free ports, stops and starts it by PID, and reads the
delivered spans back from its query API. It never touches the shared stack.

``--ours-env`` sets a variable for our runs only (e.g. ``OTEL_BSP_MAX_QUEUE_SIZE=16384`` to
measure what a queue size buys); the header prints it.

Where a burst's time goes (per span in process, and in the collector) is measured by
``bench_burst_cost.py``.

Per case: spans ended (a counter the workload bumps after each ``end()``, read after the
process is gone, so it is exact even after SIGTERM), spans delivered (in Jaeger), spans
the distro reported lost (ours: its exit line; stock reports no count), exit delay
(program end, or the signal, to process exit), max RSS, stderr lines (the stock loader's
``Configuration of ...`` notice not counted).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from stacktools.listeners import free_port, silent_listener  # noqa: E402
from stacktools.own_jaeger import OwnJaeger  # noqa: E402

BIN = Path(sys.executable).parent
INSTRUMENT = str(BIN / "opentelemetry-instrument")
# Stock loads every installed instrumentor at start-up; ours would drag in faster-whisper's
# and LangChain's stacks (about +170 MB RSS), which is not what this benchmark measures.
STOCK = {
    "OTEL_PYTHON_DISTRO": "distro",
    "OTEL_PYTHON_CONFIGURATOR": "configurator",
    "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "podcast_kg_neo4j,podcast_kg_langchain,"
    "podcast_kg_faster_whisper",
}

WORKLOAD = """
import mmap, struct, sys, time
from opentelemetry import trace

traces, per_second, warm_up = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
handle = open(sys.argv[1], "r+b")
counter = mmap.mmap(handle.fileno(), 8)
if warm_up:
    time.sleep(warm_up)
tracer = trace.get_tracer("bench-faults")
print("READY", time.time(), flush=True)
started, ended = time.perf_counter(), 0
for index in range(traces):
    with tracer.start_as_current_span("job"):
        for step in range(49):
            tracer.start_span("step").end()
            ended += 1
            counter[:8] = struct.pack("q", ended)
    ended += 1
    counter[:8] = struct.pack("q", ended)
    if per_second:
        delay = started + ended / per_second - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
print("PROGRAM-END", time.time(), flush=True)
"""

_OUR_LINE = re.compile(r"dropped (\d+) of (\d+) span\(s\) in all")


@dataclass
class Outcome:
    ended: int
    delivered: int | None
    reported: int | None
    exit_delay: float
    max_rss_mb: float
    stderr_lines: int


def _run(
    folder: Path,
    env: dict[str, str],
    traces: int,
    per_second: float,
    warm_up: float = 0.0,
    during: Callable[[float], None] | None = None,
    sigterm_after: float | None = None,
) -> tuple[int, str, float, float]:
    """Run the workload once: (spans ended, stderr, exit delay, max RSS MB)."""
    script = folder / "workload.py"
    script.write_text(WORKLOAD)
    counter = folder / f"counter-{uuid.uuid4().hex[:6]}"
    counter.write_bytes(b"\0" * 8)
    out, err = folder / "stdout.txt", folder / "stderr.txt"
    command = [INSTRUMENT, sys.executable, str(script), str(counter), str(traces)]
    command += [str(per_second), str(warm_up)]
    with open(out, "w") as stdout, open(err, "w") as stderr:
        process = subprocess.Popen(command, env=env, stdout=stdout, stderr=stderr, cwd=folder)
    ready = None
    while ready is None and process.poll() is None:
        line = out.read_text().partition("READY")[2]
        if "\n" in line:  # the whole line written
            ready = float(line.split()[0])
        else:
            time.sleep(0.005)
    signalled = None
    if during is not None and ready is not None:
        during(ready)
    if sigterm_after is not None and ready is not None:
        time.sleep(max(0.0, ready + sigterm_after - time.time()))
        signalled = time.time()
        process.send_signal(signal.SIGTERM)
    _, _, usage = os.wait4(process.pid, 0)
    finished = time.time()
    process.returncode = 0  # reaped by wait4
    stdout_text = out.read_text()
    if signalled is not None:
        delay = finished - signalled
    elif "PROGRAM-END" in stdout_text:
        delay = finished - float(stdout_text.split("PROGRAM-END", 1)[1].split()[0])
    else:
        delay = float("nan")
    (ended,) = struct.unpack("q", counter.read_bytes()[:8])
    return ended, err.read_text(), delay, usage.ru_maxrss / 1024


def _stderr_lines(stderr: str) -> int:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return sum(1 for line in lines if not line.startswith("Configuration of"))


def _reported(stderr: str, ours: bool) -> int | None:
    if not ours:
        return None  # stock prints no count of what it lost
    match = _OUR_LINE.search(stderr)
    return int(match.group(1)) if match else 0


def _env(
    endpoint: str, protocol: str, ours: bool, service: str, ours_env: dict[str, str]
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PODCAST_KG_"))}
    env.update(
        OTEL_SERVICE_NAME=service,
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        OTEL_EXPORTER_OTLP_PROTOCOL="grpc" if protocol == "grpc" else "http/protobuf",
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
    )
    env.update(ours_env if ours else STOCK)
    return env


def _case(
    jaeger: OwnJaeger,
    folder: Path,
    scenario: str,
    protocol: str,
    ours: bool,
    silent_port: int,
    ours_env: dict[str, str],
) -> Outcome:
    service = f"bench-faults-{scenario}-{uuid.uuid4().hex[:8]}"
    reads_jaeger = scenario not in ("down", "silent")
    if scenario == "down":
        endpoint = f"http://127.0.0.1:{free_port()}"
    elif scenario == "silent":
        endpoint = f"http://127.0.0.1:{silent_port}"
    else:
        endpoint = jaeger.endpoint(protocol)
    env = _env(endpoint, protocol, ours, service, ours_env)
    if scenario in ("down", "silent"):
        ended, stderr, delay, rss = _run(folder, env, traces=40, per_second=1000)
    elif scenario in ("restart", "late"):
        back = 2.5 if scenario == "restart" else 9.5

        def restart(ready: float) -> None:
            time.sleep(max(0.0, ready + 1.0 - time.time()))
            jaeger.stop()
            time.sleep(max(0.0, ready + back - time.time()))
            started = time.monotonic()
            jaeger.start()
            healthy = time.monotonic() - started
            if healthy > 1.0:  # a slow restart changes what the row measures: say so
                print(f"  (Jaeger healthy {healthy:.1f} s after its restart)", flush=True)

        ended, stderr, delay, rss = _run(folder, env, traces=100, per_second=500, during=restart)
    elif scenario in ("burst", "warm"):
        warm_up = 1.0 if scenario == "warm" else 0.0
        ended, stderr, delay, rss = _run(folder, env, traces=1000, per_second=0, warm_up=warm_up)
    elif scenario == "sigterm":
        ended, stderr, delay, rss = _run(folder, env, traces=200, per_second=1000, sigterm_after=3)
    else:  # SIGTERM 1 s into a burst
        ended, stderr, delay, rss = _run(folder, env, traces=1000, per_second=0, sigterm_after=1)
    delivered: int | None = jaeger.span_count(service, ended) if reads_jaeger else 0
    return Outcome(ended, delivered, _reported(stderr, ours), delay, rss, _stderr_lines(stderr))


SCENARIOS = {
    "down": "collector down for the whole run (2,000 spans at 1/ms)",
    "silent": "listener that never answers (2,000 spans at 1/ms)",
    "restart": "collector stopped at 1 s, started at 2.5 s (5,000 spans at 1 per 2 ms)",
    "late": "collector stopped at 1 s, back at 9.5 s, as the program ends (the same 5,000)",
    "burst": "50,000 spans (1,000 traces of 50) from the first instant",
    "warm": "the same burst after a 1 s idle warm-up",
    "sigterm": "SIGTERM 3 s into a run at 1 span/ms",
    "burst-term": "SIGTERM 1 s into the burst from the first instant",
}


def _now() -> str:
    return time.strftime("%H:%M:%S", time.gmtime())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--protocols", default="http,grpc")
    parser.add_argument("--reps", type=int, default=2, help="repetitions of the bursts")
    parser.add_argument(
        "--storage",
        choices=("badger", "memory"),
        default="badger",
        help="Jaeger's storage (memory: the local stack's; restart needs badger)",
    )
    parser.add_argument(
        "--ours-env", action="append", default=[], metavar="NAME=VALUE", help="ours only"
    )
    args = parser.parse_args()
    ours_env = dict(item.split("=", 1) for item in args.ours_env)
    # Stopped with SIGTERM, still stop our Jaeger (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    scenarios = [name for name in args.scenarios.split(",") if name]
    if args.storage == "memory" and {"restart", "late"} & set(scenarios):
        parser.error("restart needs --storage badger (memory storage forgets at a restart)")
    protocols = [name for name in args.protocols.split(",") if name]
    print(f"load before: {os.getloadavg()[0]:.2f}; started {_now()} UTC; {args.storage} storage")
    if ours_env:
        print(f"ours with {ours_env}")
    header = (
        f"{'scenario':10s} {'proto':5s} {'distro':6s} {'ended':>7s} {'delivered':>9s} "
        f"{'reported lost':>13s} {'really lost':>11s} {'exit s':>7s} {'RSS MB':>7s} "
        f"{'stderr':>6s}"
    )
    with tempfile.TemporaryDirectory() as name, silent_listener() as silent_port:
        folder = Path(name)
        jaeger = OwnJaeger(folder, args.storage, reload_interval=5.0)
        jaeger.start()
        try:
            for scenario in scenarios:
                print(f"\n{scenario}: {SCENARIOS[scenario]}\n{header}")
                reps = args.reps if scenario in ("burst", "warm", "burst-term") else 1
                for protocol in protocols:
                    for _ in range(reps):
                        for ours in (True, False):
                            if jaeger.process is None:
                                jaeger.start()
                            o = _case(
                                jaeger, folder, scenario, protocol, ours, silent_port, ours_env
                            )
                            lost = o.ended - o.delivered if o.delivered is not None else None
                            print(
                                f"{scenario:10s} {protocol:5s} {'ours' if ours else 'stock':6s} "
                                f"{o.ended:7d} {'?' if o.delivered is None else o.delivered:>9} "
                                f"{'-' if o.reported is None else o.reported:>13} "
                                f"{'-' if lost is None else lost:>11} {o.exit_delay:7.2f} "
                                f"{o.max_rss_mb:7.1f} {o.stderr_lines:6d}",
                                flush=True,
                            )
        finally:
            jaeger.stop()
    print(f"\nload after: {os.getloadavg()[0]:.2f}; ended {_now()} UTC")


if __name__ == "__main__":
    main()
