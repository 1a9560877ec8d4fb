"""Start-up, exit and sampling figures of our distro against the stock distro, in one run.

    python benchmarks/bench_runtime.py startup [--rounds 15]
    python benchmarks/bench_runtime.py exit [--rounds 3]
    python benchmarks/bench_runtime.py sampling
    python benchmarks/bench_runtime.py all

Every case is a fresh ``opentelemetry-instrument python ...`` process; ours and stock
alternate round by round so machine noise hits both. Stock is selected in the same venv
with ``OTEL_PYTHON_DISTRO=distro OTEL_PYTHON_CONFIGURATOR=configurator``. The sampling
figure needs the local stack (Jaeger); start-up and exit do not (exit uses Jaeger for its
"reachable" case).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from stacktools.jaeger import JaegerClient  # noqa: E402
from stacktools.listeners import free_port, silent_listener  # noqa: E402
from stacktools.stack import local_stack  # noqa: E402

BIN = Path(sys.executable).parent
INSTRUMENT = str(BIN / "opentelemetry-instrument")
STOCK = {"OTEL_PYTHON_DISTRO": "distro", "OTEL_PYTHON_CONFIGURATOR": "configurator"}
OUR_PLUGINS = "podcast_kg_neo4j,podcast_kg_langchain,podcast_kg_faster_whisper"
IMPORT_ALL = (
    "import redis, requests, logging, neo4j, langchain_core.language_models, faster_whisper"
)


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PODCAST_KG_"))}
    env["OTEL_SERVICE_NAME"] = f"bench-runtime-{uuid.uuid4().hex[:6]}"
    return env


def _wall(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, capture_output=True, check=True)
    return time.perf_counter() - started


def startup(rounds: int) -> None:
    """Wall time of `opentelemetry-instrument python -c ...`, ours vs stock."""
    base = _base_env()
    cases: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass (no instrumentation)": ([sys.executable, "-c", "pass"], base),
    }
    for code, label in (("pass", "-c pass"), (IMPORT_ALL, "-c 'import every instrumented lib'")):
        command = [INSTRUMENT, sys.executable, "-c", code]
        cases[f"ours   {label}"] = (command, base)
        cases[f"ours   {label}, lazy off"] = (
            command,
            {**base, "PODCAST_KG_OTEL_LAZY_INSTRUMENTATION": "false"},
        )
        cases[f"stock  {label}"] = (command, {**base, **STOCK})
        cases[f"stock  {label}, our plugins disabled"] = (
            command,
            {**base, **STOCK, "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": OUR_PLUGINS},
        )
    for command, env in cases.values():  # warm-up: .pyc files and page cache
        _wall(command, env)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, (command, env) in cases.items():
            times[name].append(_wall(command, env))
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"\nstart-up, median of {rounds} interleaved runs (ms)")
    for name, value in medians.items():
        print(f"  {name:58s} {value:8.1f}")
    for label in ("-c pass", "-c 'import every instrumented lib'"):
        ours, stock = medians[f"ours   {label}"], medians[f"stock  {label}"]
        print(f"  ratio ours/stock {label}: {ours / stock:.2f}x")
        contrib_only = medians[f"stock  {label}, our plugins disabled"]
        print(f"  ratio ours/stock-with-contrib-only {label}: {ours / contrib_only:.2f}x")


EXIT_SCRIPT = """
import logging, time
logging.basicConfig()  # as most apps do: log records reach stderr
from opentelemetry import trace
tracer = trace.get_tracer("bench-exit")
root = tracer.start_span("root")
context = trace.set_span_in_context(root)
for index in range(5):
    tracer.start_span(f"item{index}", context=context).end()
print("PROGRAM-END", time.time(), flush=True)
"""


def _exit_run(script: Path, env: dict[str, str]) -> tuple[float, int, int]:
    """(seconds from program end to process exit, stderr lines, tracebacks); the stock
    loader's "Configuration of ... not loaded" notice is not counted."""
    result = subprocess.run(
        [INSTRUMENT, sys.executable, str(script)], env=env, capture_output=True, text=True
    )
    finished = time.time()
    end = float(result.stdout.split("PROGRAM-END", 1)[1].split()[0])
    lines = [
        line
        for line in result.stderr.splitlines()
        if line.strip() and not line.startswith("Configuration of")
    ]
    return finished - end, len(lines), result.stderr.count("Traceback")


def exit_figures(rounds: int) -> None:
    """Exit time after the program ends: closed port, silent listener, Jaeger."""
    stack = local_stack()
    with tempfile.TemporaryDirectory() as folder, silent_listener() as silent_port:
        script = Path(folder) / "emit.py"
        script.write_text(EXIT_SCRIPT)
        collectors = {
            "closed port": f"http://127.0.0.1:{free_port()}",
            "accepts, never answers": f"http://127.0.0.1:{silent_port}",
            "Jaeger reachable": stack.otlp_http_endpoint,
        }
        print(f"\nexit: seconds from program end to process exit, median of {rounds}")
        print("  (5 ended spans + 1 open span, OTLP http/protobuf, metrics/logs exporters none)")
        for name, endpoint in collectors.items():
            env = {
                **_base_env(),
                "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_METRICS_EXPORTER": "none",
                "OTEL_LOGS_EXPORTER": "none",
            }
            results: dict[str, list[tuple[float, int, int]]] = {"ours": [], "stock": []}
            for _ in range(rounds):
                results["ours"].append(_exit_run(script, env))
                results["stock"].append(_exit_run(script, {**env, **STOCK}))
            for side, runs in results.items():
                seconds = statistics.median(run[0] for run in runs)
                lines = max(run[1] for run in runs)
                tracebacks = max(run[2] for run in runs)
                print(
                    f"  {name:24s} {side:5s} {seconds:6.2f} s   "
                    f"stderr lines {lines:3d}, tracebacks {tracebacks}"
                )


SAMPLING_SCRIPT = """
from opentelemetry import trace
tracer = trace.get_tracer("bench-sampling")
for index in range(2000):
    fails = index % 20 == 0
    with tracer.start_as_current_span("job", attributes={"job.fails": fails}):
        with tracer.start_as_current_span("step.fetch"):
            pass
        try:
            with tracer.start_as_current_span("step.store"):
                if fails:
                    raise RuntimeError("failed")
        except RuntimeError:
            pass
"""


def sampling() -> None:
    """Failing and healthy traces kept at ratio 0.1: tail sampling vs a head sampler."""
    stack = local_stack()
    jaeger = JaegerClient(stack.jaeger_query_url)
    sides = {
        "ours, tail sampling ratio 0.1": {"PODCAST_KG_OTEL_TAIL_SAMPLING_RATIO": "0.1"},
        "stock, parentbased_traceidratio 0.1": {
            **STOCK,
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": "0.1",
        },
    }
    print("\nsampling: 2,000 traces of 3 spans, 5 % failing (100 failing, 1,900 healthy)")
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "jobs.py"
        script.write_text(SAMPLING_SCRIPT)
        for name, extra in sides.items():
            service = f"bench-sampling-{uuid.uuid4().hex[:8]}"
            env = {**_base_env(), **stack.otel_env(service), **extra}
            subprocess.run(
                [INSTRUMENT, sys.executable, str(script)], env=env, check=True, capture_output=True
            )
            traces = jaeger.wait_for_traces(service, count=1, limit=5000, timeout=60, settle=2)
            failing = [t for t in traces if t.root.attributes.get("job.fails")]
            healthy = [t for t in traces if not t.root.attributes.get("job.fails")]
            whole = sum(1 for t in failing if len(t.spans) == 3)
            print(
                f"  {name:38s} failing kept {len(failing):4d}/100 ({whole} complete), "
                f"healthy kept {len(healthy):4d}/1900 = {len(healthy) / 19:.1f} %"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["startup", "exit", "sampling", "all"])
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    if args.what in ("startup", "all"):
        startup(args.rounds or 15)
    if args.what in ("exit", "all"):
        exit_figures(args.rounds or 3)
    if args.what in ("sampling", "all"):
        sampling()


if __name__ == "__main__":
    main()
