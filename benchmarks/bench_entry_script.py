"""What tracing a function of the entry script costs at start-up, against the same function
traced in an imported module, in one run.

    python benchmarks/bench_entry_script.py [--rounds 11] [--functions 100]

A generated script of ``--functions`` top-level functions (about 4 lines each) is run two
ways under ``opentelemetry-instrument``, alternating round by round:

* entry: ``python main.py`` with ``PODCAST_KG_OTEL_TRACED_FUNCTIONS=main:f_0`` (the script
  runs statement by statement through runpy, see ``podcast_kg_otel/entry_script.py``);
* module: ``python run.py``, where run.py imports the same code as ``stages`` and calls it,
  with ``stages:f_0`` (the post-import hook).

Both trace the same function and export to a closed port (nothing is sent). It also times, in
this process, the work the entry route adds: parsing the source and compiling one code object
per statement, against one ``compile`` of the whole source.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from podcast_kg_otel.entry_script import compile_statements  # noqa: E402

INSTRUMENT = str(Path(sys.executable).parent / "opentelemetry-instrument")


def script(functions: int) -> str:
    body = [f'"""A generated script of {functions} functions."""', "import json", ""]
    for index in range(functions):
        body += [f"def f_{index}(value):", f"    total = value + {index}", "    return total", ""]
    body += ['if __name__ == "__main__":', "    print(json.dumps(f_0(1)))", ""]
    return "\n".join(body)


def _wall(command: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=True)
    return time.perf_counter() - started


def startup(rounds: int, functions: int) -> None:
    source = script(functions)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PODCAST_KG_"))}
    base.update(
        OTEL_SERVICE_NAME="bench-entry-script",
        OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9",
        PODCAST_KG_OTEL_EXIT_TIMEOUT_MS="50",
    )
    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)
        (cwd / "main.py").write_text(source)
        (cwd / "stages.py").write_text(source)
        (cwd / "run.py").write_text("import stages\nprint(stages.f_0(1))\n")
        cases = {
            "entry  python main.py, main:f_0": (
                [INSTRUMENT, sys.executable, "main.py"],
                {**base, "PODCAST_KG_OTEL_TRACED_FUNCTIONS": "main:f_0"},
            ),
            "module python run.py, stages:f_0": (
                [INSTRUMENT, sys.executable, "run.py"],
                {**base, "PODCAST_KG_OTEL_TRACED_FUNCTIONS": "stages:f_0"},
            ),
        }
        for command, env in cases.values():  # warm-up
            _wall(command, env, cwd)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(rounds):
            for name, (command, env) in cases.items():
                times[name].append(_wall(command, env, cwd))
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    for name, median in medians.items():
        print(f"{name:40s} median {median:7.1f} ms over {rounds} rounds")
    entry, module = medians.values()
    print(f"entry / module: {entry / module:.3f}x ({entry - module:+.1f} ms)")


def compile_cost(functions: int, repeat: int = 50) -> None:
    source = script(functions)

    def best(work) -> float:
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            work()
            runs.append(time.perf_counter() - started)
        return min(runs) * 1000

    whole = best(lambda: compile(source, "main.py", "exec", dont_inherit=True))
    split = best(lambda: compile_statements(source, "main.py"))
    lines = source.count("\n")
    print(
        f"compile of the {lines}-line script: whole {whole:.2f} ms, statement by statement "
        f"{split:.2f} ms (the entry route pays both: +{split:.2f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--functions", type=int, default=100)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f}")
    compile_cost(args.functions)
    startup(args.rounds, args.functions)
    print(f"load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
