"""Spans made in threads nest under the context current when the work was handed over."""

from __future__ import annotations

import asyncio
import concurrent.futures
import concurrent.futures.thread
import logging
import threading

import pytest
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from podcast_kg_otel import threads

pytestmark = pytest.mark.usefixtures("instrumented")


def by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    return {span.name: span for span in exporter.get_finished_spans()}


def parent_name(spans: dict[str, ReadableSpan], name: str) -> str | None:
    parent = spans[name].parent
    if parent is None:
        return None
    return next(s.name for s in spans.values() if s.context.span_id == parent.span_id)


def test_thread_subclass_and_timer_nest_under_the_start_context(
    tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    def work(name: str) -> None:
        with tracer.start_as_current_span(name):
            pass

    class Worker(threading.Thread):
        def run(self) -> None:  # overrides run: the context is attached around it anyway
            work("subclass")

    with tracer.start_as_current_span("parent"):
        started = [
            threading.Thread(target=work, args=("target",)),
            Worker(),
            threading.Timer(0.001, work, ("timer",)),
        ]
        for thread in started:
            thread.start()
    for thread in started:
        thread.join()

    spans = by_name(exporter)
    for name in ("target", "subclass", "timer"):
        assert parent_name(spans, name) == "parent"
        assert spans[name].context.trace_id == spans["parent"].context.trace_id


def test_context_is_the_one_current_at_start_not_at_creation(
    tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    thread = threading.Thread(target=lambda: tracer.start_span("child").end())
    with tracer.start_as_current_span("at-start"):
        thread.start()
    thread.join()
    assert parent_name(by_name(exporter), "child") == "at-start"


def test_no_context_captures_nothing(tracer: Tracer, exporter: InMemorySpanExporter) -> None:
    seen: list[otel_context.Context] = []
    thread = threading.Thread(target=lambda: seen.append(otel_context.get_current()))
    thread.start()
    assert threads._CONTEXT_ATTRIBUTE not in thread.__dict__
    thread.join()
    assert seen == [otel_context.Context()]


def test_thread_errors_reach_the_excepthook_unchanged(
    tracer: Tracer, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = ValueError("boom")
    hooked: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: hooked.append(args.exc_value))

    def fail() -> None:
        raise error

    with tracer.start_as_current_span("parent"):
        thread = threading.Thread(target=fail)
        thread.start()
    thread.join()
    assert hooked == [error]


def test_starting_twice_raises_as_before(tracer: Tracer) -> None:
    thread = threading.Thread(target=lambda: None)
    with tracer.start_as_current_span("parent"):
        thread.start()
        thread.join()
        with pytest.raises(RuntimeError, match="threads can only be started once"):
            thread.start()
    assert threads._CONTEXT_ATTRIBUTE not in thread.__dict__


def test_cancelled_timer_runs_nothing(tracer: Tracer, exporter: InMemorySpanExporter) -> None:
    with tracer.start_as_current_span("parent"):
        timer = threading.Timer(60, lambda: tracer.start_span("never").end())
        timer.start()
        timer.cancel()
    timer.join()
    assert set(by_name(exporter)) == {"parent"}


def test_tasks_cancelled_before_they_run_leave_nothing_behind(
    tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    gate = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        with tracer.start_as_current_span("parent"):
            pool.submit(gate.wait)
            queued = [pool.submit(lambda: tracer.start_span("never").end()) for _ in range(3)]
        assert all(future.cancel() for future in queued)
        gate.set()
    assert all(future.cancelled() for future in queued)
    assert set(by_name(exporter)) == {"parent"}
    assert otel_context.get_current() == otel_context.Context()


def test_each_pool_task_nests_under_its_own_submit_context(
    tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    def work(name: str) -> str:
        with tracer.start_as_current_span(name):
            return name

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        # The worker thread is created inside the first submit: it must not keep that
        # submit's context for the later tasks.
        with tracer.start_as_current_span("first"):
            assert pool.submit(work, "submitted").result() == "submitted"
            assert list(pool.map(work, ["mapped-1", "mapped-2"])) == ["mapped-1", "mapped-2"]
        with tracer.start_as_current_span("second"):
            pool.submit(work, "second-task").result()
        pool.submit(work, "no-context").result()

    spans = by_name(exporter)
    assert parent_name(spans, "submitted") == "first"
    assert parent_name(spans, "mapped-1") == parent_name(spans, "mapped-2") == "first"
    assert parent_name(spans, "second-task") == "second"
    assert spans["no-context"].parent is None
    assert spans["no-context"].context.trace_id not in {
        spans["first"].context.trace_id,
        spans["second"].context.trace_id,
    }


def test_pool_errors_and_results_are_unchanged(tracer: Tracer) -> None:
    error = KeyError("missing")

    def fail() -> None:
        raise error

    with tracer.start_as_current_span("parent"), concurrent.futures.ThreadPoolExecutor() as pool:
        future = pool.submit(fail)
        with pytest.raises(KeyError) as raised:
            future.result()
        assert raised.value is error
        assert pool.submit(divmod, 7, 2).result() == (3, 1)
        assert pool.submit(dict, a=1).result() == {"a": 1}


def test_submit_without_context_passes_the_function_unwrapped(
    tracer: Tracer, monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[object] = []
    work_item = concurrent.futures.thread._WorkItem

    def recording_work_item(future, fn, args, kwargs):  # type: ignore[no-untyped-def]
        received.append(fn)
        return work_item(future, fn, args, kwargs)

    monkeypatch.setattr(concurrent.futures.thread, "_WorkItem", recording_work_item)
    with concurrent.futures.ThreadPoolExecutor() as pool:
        pool.submit(len, "abc").result()
        with tracer.start_as_current_span("parent"):
            pool.submit(len, "abc").result()
    assert received[0] is len
    assert isinstance(received[1], threads.ContextCall) and received[1].function is len


async def test_run_in_executor_and_to_thread_nest(
    tracer: Tracer, exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original_call = threads.ContextCall.__call__

    def counting_call(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(getattr(self.function, "__name__", repr(self.function)))
        return original_call(self, *args, **kwargs)

    monkeypatch.setattr(threads.ContextCall, "__call__", counting_call)

    def work(name: str) -> str:
        with tracer.start_as_current_span(name):
            return name

    async def step(name: str) -> None:
        loop = asyncio.get_running_loop()
        with tracer.start_as_current_span(name):
            await loop.run_in_executor(None, work, f"{name}.default")
            with concurrent.futures.ThreadPoolExecutor() as pool:
                await loop.run_in_executor(pool, work, f"{name}.explicit")
            await asyncio.to_thread(work, f"{name}.to_thread")

    await asyncio.gather(step("a"), step("b"))

    spans = by_name(exporter)
    for name in ("a", "b"):
        for kind in ("default", "explicit", "to_thread"):
            assert parent_name(spans, f"{name}.{kind}") == name
    # to_thread already runs in a copied context: it is not wrapped a second time.
    assert sorted(calls) == ["work"] * 4


def test_runs_in_copied_context() -> None:
    import contextvars
    import functools

    copied = contextvars.copy_context()
    assert threads.runs_in_copied_context(copied.run)
    assert threads.runs_in_copied_context(functools.partial(copied.run, len, "x"))
    assert not threads.runs_in_copied_context(functools.partial(len, "x"))
    assert not threads.runs_in_copied_context(len)


def test_errors_in_our_wrappers_never_reach_the_app(
    tracer: Tracer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("wrapper bug")

    monkeypatch.setattr(threads, "ContextCall", broken)
    monkeypatch.setattr(threads, "_is_pool_thread", broken)
    caplog.set_level(logging.WARNING, "podcast_kg_otel.threads")

    results: list[int] = []
    with tracer.start_as_current_span("parent"):
        for _ in range(2):
            thread = threading.Thread(target=results.append, args=(1,))
            thread.start()
            thread.join()
            with concurrent.futures.ThreadPoolExecutor() as pool:
                results.append(pool.submit(len, "ab").result())

    assert results == [1, 2, 1, 2]
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "podcast-kg-otel: could not capture a thread's context",
        "podcast-kg-otel: could not carry context into a thread pool",
    ]


def test_uninstrument_restores_the_originals(
    tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    wrapped = (
        threading.Thread.__dict__["start"],
        threading.Thread.__dict__["_bootstrap_inner"],
        concurrent.futures.thread.ThreadPoolExecutor.__dict__["submit"],
    )
    threads.uninstrument()
    restored = (
        threading.Thread.__dict__["start"],
        threading.Thread.__dict__["_bootstrap_inner"],
        concurrent.futures.thread.ThreadPoolExecutor.__dict__["submit"],
    )
    assert restored == tuple(function.__wrapped__ for function in wrapped)
    assert all(type(function).__name__ == "function" for function in restored)

    with tracer.start_as_current_span("parent"):
        thread = threading.Thread(target=lambda: tracer.start_span("thread").end())
        thread.start()
        thread.join()
        with concurrent.futures.ThreadPoolExecutor() as pool:
            pool.submit(lambda: tracer.start_span("task").end()).result()
    spans = by_name(exporter)
    assert spans["thread"].parent is None and spans["task"].parent is None


def test_another_librarys_wrapper_is_wrapped_over_and_kept(
    tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    import wrapt

    threads.uninstrument()
    pool_class = concurrent.futures.ThreadPoolExecutor
    original = pool_class.__dict__["submit"]
    seen: list[object] = []

    def other(wrapped, instance, args, kwargs):  # type: ignore[no-untyped-def]
        seen.append(args[0])
        return wrapped(*args, **kwargs)

    wrapt.wrap_function_wrapper(pool_class, "submit", other)
    others = pool_class.__dict__["submit"]
    try:
        threads.instrument()
        assert pool_class.__dict__["submit"].__wrapped__ is others
        with tracer.start_as_current_span("parent"), pool_class() as pool:
            pool.submit(lambda: tracer.start_span("task").end()).result()
        assert isinstance(seen[0], threads.ContextCall)  # ours runs first, then theirs
        spans = by_name(exporter)
        assert parent_name(spans, "task") == "parent"
        threads.uninstrument()
        assert pool_class.__dict__["submit"] is others
    finally:
        pool_class.submit = original
