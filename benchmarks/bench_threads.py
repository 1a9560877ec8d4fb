"""Added cost of carrying the context into ``ThreadPoolExecutor`` tasks, in one run.

Three sides submit the same no-op task to a one-worker pool: ``bare`` with the wrappers
removed (the unwrapped submit), ``ours, no span`` (wrapped, nothing current: the fast
path) and ``ours, span`` (wrapped, a span current: the task carries the context and the
worker attaches and detaches it). Each round first submits every task while the worker is
held (the submit call alone), then releases it and times the queue draining (the task in
the worker). Rounds alternate the sides; figures are the median over rounds of the mean µs
per task, the delta and ratio against ``bare``, and the same from the fastest rounds (less
sensitive to the other load on a shared machine).

``pieces`` isolates the added work from the pool's own queue and lock, whose jitter is
larger than the goal: ``timeit`` (best of 9) of ``submit`` on a stub executor with and
without our wrapper, a span current, plus running the task as ``ContextCall`` (attach and
detach) against the bare function. Printed: each figure and the added µs per task.

``processes`` measures the worker flush of process pools: a fresh
``opentelemetry-instrument python`` process per start method sends ``--tasks`` one-span
tasks through ``with Pool(2)`` (``map``, chunks of one; the pool ends its workers with
SIGTERM) and ``ProcessPoolExecutor(2).map``, exporting to a span-counting OTLP/HTTP sink in
this process (batch delay 30 s, so only flushes deliver). ``ours`` flushes after each task
that made spans; ``exit only`` turns that flush off in the workers (their initializer),
leaving the workers' exit paths. Printed: wall time and spans received of those sent.
``--collector-down`` exports to a closed port instead: what the flush costs then.

``startup`` times ``opentelemetry-instrument python -c pass`` with both features on (the
default) and off (``PODCAST_KG_OTEL_THREAD_CONTEXT=false PODCAST_KG_OTEL_PROCESS_CONTEXT=false``),
alternating round by round: the median wall ms of each and their ratio.

    python benchmarks/bench_threads.py [--calls 10000] [--rounds 15]
    python benchmarks/bench_threads.py pieces
    python benchmarks/bench_threads.py processes [--tasks 200] [--collector-down]
    python benchmarks/bench_threads.py startup [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

from opentelemetry.context import get_current
from opentelemetry.sdk.trace import TracerProvider

from podcast_kg_otel import threads

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from stacktools.listeners import free_port, otlp_http_sink, spans_in

SIDES = ("bare", "ours, no span", "ours, span")


def noop() -> None:
    pass


def one_round(pool: ThreadPoolExecutor, calls: int) -> tuple[float, float]:
    """µs per task: the submit calls, then the worker running them."""
    gate = threading.Event()
    pool.submit(gate.wait)  # holds the only worker while the tasks are submitted
    start = time.perf_counter()
    futures = [pool.submit(noop) for _ in range(calls)]
    submitted = time.perf_counter()
    gate.set()
    wait(futures)
    drained = time.perf_counter()
    return (submitted - start) / calls * 1e6, (drained - submitted) / calls * 1e6


def run(calls: int, rounds: int) -> dict[str, list[tuple[float, float]]]:
    tracer = TracerProvider().get_tracer("bench-threads")
    results: dict[str, list[tuple[float, float]]] = {side: [] for side in SIDES}
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(noop).result()  # the worker thread exists before timing
        for index in range(rounds):
            order = SIDES if index % 2 == 0 else tuple(reversed(SIDES))
            for side in order:
                if side == "bare":
                    threads.uninstrument()
                    results[side].append(one_round(pool, calls))
                    continue
                threads.instrument()
                if side == "ours, span":
                    with tracer.start_as_current_span("parent"):
                        results[side].append(one_round(pool, calls))
                else:
                    results[side].append(one_round(pool, calls))
    threads.uninstrument()
    return results


def report(results: dict[str, list[tuple[float, float]]]) -> None:
    print(
        f"{'side':<15} {'submit µs':>10} {'worker µs':>10} {'total µs':>9} {'Δ µs':>7} "
        f"{'ratio':>6} {'Δ fastest':>10} {'ratio fastest':>14}"
    )
    totals = {side: [s + w for s, w in results[side]] for side in SIDES}
    base_median = statistics.median(totals["bare"])
    base_min = min(totals["bare"])
    for side in SIDES:
        submit = statistics.median(r[0] for r in results[side])
        worker = statistics.median(r[1] for r in results[side])
        median = statistics.median(totals[side])
        fastest = min(totals[side])
        print(
            f"{side:<15} {submit:>10.2f} {worker:>10.2f} {median:>9.2f} "
            f"{median - base_median:>+7.2f} {median / base_median:>6.2f} "
            f"{fastest - base_min:>+10.2f} {fastest / base_min:>14.2f}"
        )


class _StubExecutor:
    """Only ``submit``, wrapped the way ``ThreadPoolExecutor.submit`` is."""

    def submit(self, function, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        return function


def run_pieces(number: int = 300_000) -> None:
    def best(statement: Callable[[], object]) -> float:
        return min(timeit.repeat(statement, number=number, repeat=9)) / number * 1e6

    class Wrapped(_StubExecutor):
        pass

    threads.wrap_once(Wrapped, "submit", threads._submit)
    bare, wrapped = _StubExecutor(), Wrapped()
    tracer = TracerProvider().get_tracer("bench-threads")
    with tracer.start_as_current_span("parent"):
        call = threads.ContextCall(noop, get_current())
        figures = {
            "submit, bare": best(lambda: bare.submit(noop)),
            "submit, ours": best(lambda: wrapped.submit(noop)),
            "task, bare": best(noop),
            "task, ours": best(call),
        }
    for name, value in figures.items():
        print(f"{name:<14} {value:>7.3f} µs")
    submit = figures["submit, ours"] - figures["submit, bare"]
    task = figures["task, ours"] - figures["task, bare"]
    print(f"added per submit call: {submit:.3f} µs; in the worker: {task:.3f} µs")


WORKLOAD = """
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from opentelemetry import trace

tracer = trace.get_tracer("bench-processes")


def work(index):
    with tracer.start_as_current_span("work"):
        return index


def exit_only():
    from podcast_kg_otel import processes

    processes._flush = lambda: None


if __name__ == "__main__":
    method, mode, tasks = sys.argv[1], sys.argv[2], int(sys.argv[3])
    context = multiprocessing.get_context(method)
    initializer = exit_only if mode == "exit only" else None
    start = time.perf_counter()
    with tracer.start_as_current_span("parent"):
        with context.Pool(2, initializer=initializer) as pool:
            pool.map(work, range(tasks), chunksize=1)
        with ProcessPoolExecutor(2, mp_context=context, initializer=initializer) as executor:
            list(executor.map(work, range(tasks)))
    print(time.perf_counter() - start)
"""


def run_processes(tasks: int, collector_down: bool) -> None:
    with otlp_http_sink(on_body=_received.took) as sink_port:
        _run_processes(tasks, free_port() if collector_down else sink_port)


class _Received:
    """Spans the sink received, over all export requests."""

    def __init__(self) -> None:
        self.spans = 0
        self._lock = threading.Lock()

    def took(self, body: bytes) -> None:
        with self._lock:
            self.spans += spans_in(body)


_received = _Received()


def _run_processes(tasks: int, port: int) -> None:
    env = {
        **os.environ,
        "OTEL_SERVICE_NAME": "bench-processes",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY": "30000",
    }
    instrument = str(Path(sys.executable).parent / "opentelemetry-instrument")
    print(f"{'start method':<12} {'mode':<10} {'wall s':>7} {'spans received':>15}")
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "workload.py"
        script.write_text(WORKLOAD)
        for method in ("fork", "spawn", "forkserver"):
            for mode in ("ours", "exit only"):
                before = _received.spans
                result = subprocess.run(
                    [instrument, sys.executable, str(script), method, mode, str(tasks)],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=True,
                )
                time.sleep(1.0)  # the last exports of the parent's exit
                received = _received.spans - before
                wall = float(result.stdout.split()[-1])
                print(f"{method:<12} {mode:<10} {wall:>7.2f} {received:>7} of {2 * tasks + 1:<6}")


def run_startup(rounds: int) -> None:
    instrument = str(Path(sys.executable).parent / "opentelemetry-instrument")
    switches = {
        "PODCAST_KG_OTEL_THREAD_CONTEXT": "false",
        "PODCAST_KG_OTEL_PROCESS_CONTEXT": "false",
    }
    sides = {"on": dict(os.environ), "off": {**os.environ, **switches}}
    wall: dict[str, list[float]] = {side: [] for side in sides}
    for index in range(rounds):
        for side in sides if index % 2 == 0 else reversed(sides):
            start = time.perf_counter()
            subprocess.run([instrument, sys.executable, "-c", "pass"], env=sides[side], check=True)
            wall[side].append((time.perf_counter() - start) * 1000)
    on, off = (statistics.median(wall[side]) for side in ("on", "off"))
    print(f"-c pass: features on {on:.0f} ms, off {off:.0f} ms, ratio {on / off:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "mode", nargs="?", choices=("threads", "pieces", "processes", "startup"), default="threads"
    )
    parser.add_argument("--calls", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument(
        "--collector-down", action="store_true", help="processes: export to a closed port"
    )
    args = parser.parse_args()
    if args.mode == "pieces":
        run_pieces()
    elif args.mode == "processes":
        run_processes(args.tasks, args.collector_down)
    elif args.mode == "startup":
        run_startup(args.rounds)
    else:
        report(run(args.calls, args.rounds))


if __name__ == "__main__":
    main()
