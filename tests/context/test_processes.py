"""Tasks sent to process pools run in the worker under the submitting span.

The workers here have no SDK configured (the pytest process sets none): each task returns
the traceparent current in the worker (``inject_context``), which shows the context that
arrived, and that an unconfigured worker runs the task unchanged. The spans a configured
worker exports are checked against the real Jaeger in ``test_processes_e2e.py``.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import multiprocessing.pool
import pickle
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span, Tracer

from podcast_kg_otel import processes
from podcast_kg_otel.propagation import inject_context

pytestmark = pytest.mark.usefixtures("instrumented")

METHODS = multiprocessing.get_all_start_methods()


def traceparent(span: Span) -> str:
    context = span.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


@pytest.fixture(scope="module", params=METHODS)
def pool(request: pytest.FixtureRequest) -> Iterator[multiprocessing.pool.Pool]:
    with multiprocessing.get_context(request.param).Pool(2) as process_pool:
        yield process_pool


@pytest.fixture(scope="module", params=METHODS)
def executor(request: pytest.FixtureRequest) -> Iterator[concurrent.futures.Executor]:
    context = multiprocessing.get_context(request.param)
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as process_pool:
        yield process_pool


def test_every_pool_method_carries_the_submit_context(
    tracer: Tracer, pool: multiprocessing.pool.Pool
) -> None:
    with tracer.start_as_current_span("parent") as parent:
        expected = {"traceparent": traceparent(parent)}
        seen = [
            pool.apply(inject_context),
            pool.apply_async(inject_context).get(timeout=60),
            *pool.map(inject_context, [None, None]),
            *pool.map_async(inject_context, [None]).get(timeout=60),
            *pool.imap(inject_context, [None]),
            *pool.imap(inject_context, [None, None], chunksize=2),
            *pool.imap_unordered(inject_context, [None]),
            *pool.starmap(inject_context, [(None,)]),
            *pool.starmap_async(inject_context, [(None,)]).get(timeout=60),
            pool.apply_async(func=inject_context).get(timeout=60),
        ]
    assert seen == [expected] * 12
    # No span current: the task goes as it is, and the worker sees no context.
    assert pool.apply(inject_context) == {}


def test_executor_submit_and_map_carry_the_submit_context(
    tracer: Tracer, executor: concurrent.futures.Executor
) -> None:
    with tracer.start_as_current_span("parent") as parent:
        expected = {"traceparent": traceparent(parent)}
        seen = [
            executor.submit(inject_context).result(timeout=60),
            *executor.map(inject_context, [None, None, None], chunksize=2),
        ]
    assert seen == [expected] * 4
    assert executor.submit(inject_context).result(timeout=60) == {}


def test_errors_and_results_come_back_unchanged(
    tracer: Tracer, pool: multiprocessing.pool.Pool, executor: concurrent.futures.Executor
) -> None:
    with tracer.start_as_current_span("parent"):
        assert pool.starmap(divmod, [(7, 2), (9, 4)]) == [(3, 1), (2, 1)]
        assert executor.submit(divmod, 7, 2).result(timeout=60) == (3, 1)
        with pytest.raises(ValueError, match="invalid literal for int"):
            pool.apply(int, ("x",))
        with pytest.raises(ValueError, match="invalid literal for int"):
            executor.submit(int, "x").result(timeout=60)


def test_an_unpicklable_function_fails_as_before(tracer: Tracer) -> None:
    def local() -> None:
        pass

    def failure() -> BaseException:
        with multiprocessing.get_context("fork").Pool(1) as fork_pool:
            try:
                fork_pool.apply(local)
            except BaseException as error:
                return error
        raise AssertionError("a local function was pickled")

    bare = failure()
    with tracer.start_as_current_span("parent"):
        carried = failure()
    assert type(carried) is type(bare) and str(carried) == str(bare)


def test_thread_pool_tasks_carry_the_context_object(
    tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    def work(name: str) -> str:
        with tracer.start_as_current_span(name):
            return name

    with multiprocessing.pool.ThreadPool(2) as thread_pool:
        with tracer.start_as_current_span("parent"):
            assert thread_pool.map(work, ["a", "b"]) == ["a", "b"]
            assert thread_pool.apply(work, ("c",)) == "c"
        thread_pool.apply(work, ("no-context",))

    spans = {span.name: span for span in exporter.get_finished_spans()}
    parent_id = spans["parent"].context.span_id
    assert all(spans[name].parent.span_id == parent_id for name in "abc")
    assert spans["no-context"].parent is None


def test_process_task_pickles_and_attaches_its_carrier(tracer: Tracer) -> None:
    with tracer.start_as_current_span("parent") as parent:
        task = processes._carry(inject_context, in_process=False)
    assert isinstance(task, processes.ProcessTask)
    copy = pickle.loads(pickle.dumps(task))
    assert copy.function is inject_context and copy.carrier == task.carrier
    assert copy() == {"traceparent": traceparent(parent)}
    assert otel_context.get_current() == otel_context.Context()
    # Nothing current: the task carries no context, and runs with none.
    empty = processes._carry(inject_context, in_process=False)
    assert empty.function is inject_context and empty.carrier == {}
    token = otel_context.attach(otel_context.set_value("inherited", True))
    try:
        assert empty() == {}
        assert otel_context.get_value("inherited") is True
    finally:
        otel_context.detach(token)


def test_process_task_errors_propagate_unchanged(tracer: Tracer) -> None:
    error = LookupError("gone")

    def fail() -> None:
        raise error

    with tracer.start_as_current_span("parent"):
        task = processes._carry(fail, in_process=False)
    with pytest.raises(LookupError) as raised:
        task()
    assert raised.value is error
    assert otel_context.get_current() == otel_context.Context()


class CountingProcessor(SimpleSpanProcessor):
    """Stands in for the distro's batch processor: counts ended spans and flushes."""

    def __init__(self) -> None:
        super().__init__(InMemorySpanExporter())
        self.stats = SimpleNamespace(ended=0)
        self.flushes = 0

    def on_end(self, span: ReadableSpan) -> None:
        self.stats.ended += 1

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self.flushes += 1
        return True


def test_worker_flushes_after_a_task_that_made_spans(tracer: Tracer) -> None:
    counting = CountingProcessor()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(counting)
    worker_tracer = provider.get_tracer("worker")
    processes.instrument([counting], flush_timeout=5)

    def make_span() -> None:
        worker_tracer.start_span("task").end()

    with tracer.start_as_current_span("parent"):
        quiet = processes._carry(len, in_process=False)
        busy = processes._carry(make_span, in_process=False)
    assert quiet("abc") == 3
    assert counting.flushes == 0
    busy()
    assert counting.flushes == 1
    processes._flushing.join()  # the flush thread has ended: the next one may start
    busy()
    assert counting.flushes == 2


def test_the_map_family_carries_and_flushes_once_per_chunk(
    tracer: Tracer, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = CountingProcessor()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(counting)
    worker_tracer = provider.get_tracer("worker")
    processes.instrument([counting], flush_timeout=5)
    carried: list[object] = []
    original = processes._carry

    def recording_carry(function: object, in_process: bool) -> object:
        carried.append(function)
        return original(function, in_process)

    monkeypatch.setattr(processes, "_carry", recording_carry)
    with multiprocessing.pool.ThreadPool(2) as thread_pool, tracer.start_as_current_span("p"):
        assert thread_pool.map(len, ["a", "bb", "ccc"], chunksize=2) == [1, 2, 3]
        assert thread_pool.starmap(divmod, [(7, 2)]) == [(3, 1)]
    # The pool's chunk runner is wrapped, not the function of each item.
    assert carried == [multiprocessing.pool.mapstar, multiprocessing.pool.starmapstar]

    def make_span(index: int) -> int:
        worker_tracer.start_span(f"item-{index}").end()
        return index

    with tracer.start_as_current_span("parent"):
        chunk = processes._carry(multiprocessing.pool.mapstar, in_process=False)
    assert chunk((make_span, [1, 2, 3])) == [1, 2, 3]
    assert counting.stats.ended == 3 and counting.flushes == 1


def test_errors_in_our_code_never_reach_the_task(
    tracer: Tracer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "podcast_kg_otel.processes")
    with tracer.start_as_current_span("parent"):
        task = processes._carry(divmod, in_process=False)

    def broken(*args: object) -> None:
        raise RuntimeError("wrapper bug")

    monkeypatch.setattr(processes.propagate, "extract", broken)
    monkeypatch.setattr(processes, "_carry", broken)
    assert task(7, 2) == task(7, 2) == (3, 1)
    with multiprocessing.pool.ThreadPool(1) as thread_pool, tracer.start_as_current_span("p"):
        assert thread_pool.apply(divmod, (9, 4)) == (2, 1)
    assert [record.getMessage() for record in caplog.records] == [
        "podcast-kg-otel: could not attach a task's context",
        "podcast-kg-otel: could not carry context into a pool",
    ]


def test_uninstrument_restores_the_originals(tracer: Tracer) -> None:
    executor_methods = ("submit", "__init__")
    pool_methods = (*processes.POOL_METHODS, "__init__")
    wrapped = [multiprocessing.pool.Pool.__dict__[name] for name in pool_methods]
    wrapped += [concurrent.futures.ProcessPoolExecutor.__dict__[name] for name in executor_methods]
    processes.uninstrument()
    restored = [multiprocessing.pool.Pool.__dict__[name] for name in pool_methods]
    restored += [concurrent.futures.ProcessPoolExecutor.__dict__[name] for name in executor_methods]
    assert restored == [function.__wrapped__ for function in wrapped]
    assert all(type(function).__name__ == "function" for function in restored)

    with multiprocessing.pool.ThreadPool(1) as thread_pool, tracer.start_as_current_span("p"):
        assert thread_pool.apply(otel_context.get_current) == otel_context.Context()


def test_pool_modules_imported_later_are_wrapped_on_import() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from podcast_kg_otel import processes, threads\n"
        "threads.instrument(); processes.instrument()\n"
        "assert 'multiprocessing.pool' not in sys.modules\n"
        "assert 'concurrent.futures.thread' not in sys.modules\n"
        "import multiprocessing.pool, concurrent.futures\n"
        "from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor\n"
        "print(type(multiprocessing.pool.Pool.__dict__['apply_async']).__name__,"
        " type(ProcessPoolExecutor.__dict__['submit']).__name__,"
        " type(ThreadPoolExecutor.__dict__['submit']).__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["FunctionWrapper"] * 3


def sigterm_action() -> str:
    import signal

    handler = signal.getsignal(signal.SIGTERM)
    return "default" if handler == signal.SIG_DFL else getattr(handler, "__name__", "?")


def record_initargs(*initargs: str) -> None:
    import os

    os.environ["POOL_INITARGS"] = ",".join(initargs)


def read_initargs() -> str:
    import os

    return os.environ.get("POOL_INITARGS", "")


@pytest.fixture
def our_sigterm_flush() -> Iterator[None]:
    """Our flushing SIGTERM handler in this process, inherited by forked workers."""
    import signal

    def on_sigterm(signum, frame) -> None:
        pass

    on_sigterm.podcast_kg_otel_flush = True  # type: ignore[attr-defined]
    previous = signal.signal(signal.SIGTERM, on_sigterm)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.usefixtures("our_sigterm_flush")
def test_pool_workers_end_by_the_default_sigterm(method: str) -> None:
    """A pool ends its workers with SIGTERM while they wait for the task queue's lock, where
    a Python handler may never run: the workers drop our flush and keep the user's own
    initializer and its arguments."""
    context = multiprocessing.get_context(method)
    with context.Pool(1) as plain:
        assert plain.apply(sigterm_action) == "default"
    with context.Pool(1, record_initargs, ("a", "b")) as with_initializer:
        assert with_initializer.apply(sigterm_action) == "default"
        assert with_initializer.apply(read_initargs) == "a,b"
    with concurrent.futures.ProcessPoolExecutor(
        1, mp_context=context, initializer=record_initargs, initargs=("c",)
    ) as executor:
        assert executor.submit(sigterm_action).result() == "default"
        assert executor.submit(read_initargs).result() == "c"
    with multiprocessing.pool.ThreadPool(1) as thread_pool:  # the same process: untouched
        assert thread_pool.apply(sigterm_action) == "on_sigterm"
    assert sigterm_action() == "on_sigterm"


def test_a_pool_initializer_error_is_the_pools_own() -> None:
    with pytest.raises(TypeError, match="initializer must be a callable"):
        multiprocessing.pool.Pool(1, initializer="not callable")
