"""The entry script's traced functions and the run span, under ``opentelemetry-instrument``,
read back from the real Jaeger."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stacktools.jaeger import JaegerClient
from stacktools.pytest_plugin import BIN_DIR
from stacktools.stack import Stack

from .conftest import runtime_env

MAIN = """
import json
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context


def score(text):
    return len(text)


def process_file(name):
    with ThreadPoolExecutor(2) as pool:
        return sum(pool.map(score, [name, name * 2]))


def main():
    totals = [process_file(name) for name in ("a.txt", "bb.txt")]
    # a spawn worker re-runs this script as __mp_main__: it must not warn a second time
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        totals.append(pool.submit(len, "abc").result())
    module = sys.modules["__main__"]
    print(json.dumps({
        "totals": totals,
        "traced": getattr(process_file, "__podcast_kg_otel_traced__", False),
        "spec": repr(getattr(module.__spec__, "name", None)),
        "package": repr(module.__package__),
        "cached": repr(module.__cached__),
        "file": module.__file__,
        "loader": type(module.__loader__).__name__,
        "doc": module.__doc__,
        "path0": sys.path[0],
        "argv0": sys.argv[0],
    }))


if __name__ == "__main__":
    main()
"""

TARGETS = "main:process_file;__main__:score;main:missing;helpers:never_called"


def _run(
    tmp_path: Path, args: list[str], env: dict[str, str] | None, instrumented: bool = True
) -> subprocess.CompletedProcess:
    command = [sys.executable, *args]
    if instrumented:
        command.insert(0, str(BIN_DIR / "opentelemetry-instrument"))
    return subprocess.run(
        command,
        env={**os.environ, **(env or {})},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _report(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [["main.py"], ["-m", "main"]], ids=["script", "module"])
def test_targets_in_the_entry_script_are_traced(
    args, stack: Stack, jaeger: JaegerClient, service_name: str, tmp_path: Path
) -> None:
    (tmp_path / "main.py").write_text('"""The entry script."""\n' + MAIN)
    (tmp_path / "helpers.py").write_text("def never_called():\n    pass\n")
    env = runtime_env(stack, service_name, PODCAST_KG_OTEL_TRACED_FUNCTIONS=TARGETS)

    traced = _report(_run(tmp_path, args, env))
    plain = _report(_run(tmp_path, args, None, instrumented=False))

    assert traced.pop("traced") is True and plain.pop("traced") is False
    assert traced == plain  # same module attributes, sys.path[0] and argv as a plain run
    traces = jaeger.wait_for_traces(service_name, count=2, min_spans=3)
    assert len(traces) == 2
    for trace in traces:
        assert trace.root.name == "main.process_file"
        assert [child.name for child in trace.root.children] == ["__main__.score"] * 2
        assert trace.root.attributes["code.function.name"] == "main.process_file"
    result = _run(tmp_path, args, env)
    warnings = [line for line in result.stderr.splitlines() if "TRACED_FUNCTIONS" in line]
    assert len(warnings) == 2, result.stderr
    assert any("main:missing is not defined by the entry script" in w for w in warnings)
    assert any("helpers:never_called was never resolved" in w for w in warnings)


CLI = """
import sys
import threading

from opentelemetry import trace

tracer = trace.get_tracer("cli")


def step(name):
    with tracer.start_as_current_span(name):
        pass


step("load")
worker = threading.Thread(target=step, args=("in-thread",))
worker.start()
worker.join()
if sys.argv[1] == "exit":
    sys.exit(3)
if sys.argv[1] == "raise":
    raise KeyError("episode-7")
step("save")
"""


@pytest.mark.parametrize(
    ("how", "returncode", "children"),
    [
        ("ok", 0, ["load", "in-thread", "save"]),
        ("exit", 3, ["load", "in-thread"]),
        ("raise", 1, ["load", "in-thread"]),
    ],
)
def test_the_run_span_is_the_root_of_a_short_run(
    how, returncode, children, stack, jaeger, service_name, tmp_path
) -> None:
    (tmp_path / "cli.py").write_text(CLI)
    env = runtime_env(stack, service_name, PODCAST_KG_OTEL_RUN_SPAN="true")

    result = _run(tmp_path, ["cli.py", how], env)

    assert result.returncode == returncode, result.stderr
    trace = jaeger.wait_for_trace(service_name, min_spans=len(children) + 1)
    root = trace.root
    assert root.name == "cli.py"
    assert [child.name for child in root.children] == children
    assert root.attributes["process.exit.code"] == returncode
    assert "podcast_kg_otel.span.ended_at_exit" not in root.attributes
    assert root.status_code == ("ERROR" if returncode else "UNSET")
    if how == "raise":
        assert root.attributes["error.type"] == "KeyError"
        assert len(root.events_named("exception")) == 1
        assert "KeyError: 'episode-7'" in result.stderr  # the traceback still printed


def test_traced_functions_nest_under_the_run_span_of_a_module_run(
    stack, jaeger, service_name, tmp_path
) -> None:
    (tmp_path / "main.py").write_text(MAIN)
    env = runtime_env(
        stack,
        service_name,
        PODCAST_KG_OTEL_RUN_SPAN="true",
        PODCAST_KG_OTEL_TRACED_FUNCTIONS="main:process_file",
    )

    _report(_run(tmp_path, ["-m", "main"], env))

    trace = jaeger.wait_for_trace(service_name, min_spans=3)
    assert trace.root.name == "main"
    assert [child.name for child in trace.root.children] == ["main.process_file"] * 2
