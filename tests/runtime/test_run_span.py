"""The run's span, on an in-memory exporter."""

from __future__ import annotations

import sys
import threading

import pytest
from opentelemetry import context as context_api
from opentelemetry import trace

from podcast_kg_otel import run_span
from podcast_kg_otel.interpreter import command_name, started_by_multiprocessing
from podcast_kg_otel.run_span import RunSpan, start_run_span


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["python", "main.py"], "main.py"),
        (["python", "/srv/jobs/main.py", "--episodes", "3"], "main.py"),
        (["python", "-u", "-X", "dev", "main.py"], "main.py"),
        (["python", "-m", "pipeline", "--all"], "pipeline"),
        (["python", "-mpipeline"], "pipeline"),
        (["python", "-Bm", "pipeline.cli"], "pipeline.cli"),
        (["python", "-W", "ignore", "-m", "pipeline"], "pipeline"),
        (["python", "--check-hash-based-pycs", "never", "main.py"], "main.py"),
        (["python", "--", "main.py"], "main.py"),
        (["python", "-c", "print(1)"], "python -c"),
        (["python"], None),
        (["python", "-"], None),
        (["python", "-c", "from multiprocessing.spawn import spawn_main; spawn_main()"], None),
        (["python", "-c", "from multiprocessing.forkserver import main; main()"], None),
    ],
)
def test_command_name(argv, expected) -> None:
    assert command_name(argv) == expected


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["python", "main.py"], False),
        (["python", "-c", "from multiprocessing.resource_tracker import main;main(5)"], True),
        (
            [
                "python",
                "-c",
                "from multiprocessing.spawn import spawn_main",
                "--multiprocessing-fork",
            ],
            True,
        ),
    ],
)
def test_started_by_multiprocessing(argv, expected) -> None:
    assert started_by_multiprocessing(argv) is expected


def _run(provider) -> RunSpan:
    return RunSpan(provider.get_tracer("t").start_span("main.py"))


def test_a_normal_end_is_exit_code_zero(provider, exporter) -> None:
    run = _run(provider)
    run.end()
    run.end()
    (span,) = exporter.get_finished_spans()
    assert span.attributes == {"process.exit.code": 0}
    assert span.status.status_code is trace.StatusCode.UNSET


@pytest.mark.parametrize(("status", "code"), [(3, 3), ("bad input", 1), (None, 0), (0, 0)])
def test_sys_exit_code(provider, exporter, status, code) -> None:
    run = _run(provider)
    run.note_exit(status)
    run.end()
    (span,) = exporter.get_finished_spans()
    assert span.attributes["process.exit.code"] == code
    expected = trace.StatusCode.ERROR if code else trace.StatusCode.UNSET
    assert span.status.status_code is expected
    if code:
        assert span.status.description == f"exit code {code}"


def test_an_uncaught_exception_is_recorded_with_exit_code_one(provider, exporter) -> None:
    run = _run(provider)
    run.note_uncaught(KeyError("episode"))
    run.end()
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is trace.StatusCode.ERROR
    assert span.attributes["process.exit.code"] == 1
    assert span.attributes["error.type"] == "KeyError"
    assert [event.name for event in span.events] == ["exception"]


def test_keyboard_interrupt_has_no_exit_code(provider, exporter) -> None:
    run = _run(provider)
    run.note_uncaught(KeyboardInterrupt())
    run.end()
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is trace.StatusCode.ERROR
    assert "process.exit.code" not in span.attributes


def test_other_threads_and_processes_do_not_end_or_mark_it(provider, exporter, monkeypatch):
    run = _run(provider)
    worker = threading.Thread(target=run.note_exit, args=(4,))
    worker.start()
    worker.join()
    monkeypatch.setattr(run_span.os, "getpid", lambda: -1)  # as in a forked child
    run.note_exit(5)
    run.end()
    assert not exporter.get_finished_spans()
    monkeypatch.undo()
    run.end()
    assert exporter.get_finished_spans()[0].attributes["process.exit.code"] == 0


def test_start_run_span_is_current_and_chains_the_hooks(provider, exporter, monkeypatch):
    registered = []
    seen = []
    monkeypatch.setattr(run_span.atexit, "register", registered.append)
    monkeypatch.setattr(sys, "excepthook", lambda *args: seen.append(args[1]))
    monkeypatch.setattr(sys, "exit", lambda status=None: seen.append(status))
    token = context_api.attach(context_api.Context())
    try:
        run = start_run_span(provider, argv=["python", "-m", "pipeline"])
        assert run is not None
        with provider.get_tracer("t").start_as_current_span("step"):
            pass
        error = ValueError("boom")
        sys.excepthook(ValueError, error, None)
        sys.exit(2)
    finally:
        context_api.detach(token)
    assert seen == [error, 2]  # the previous hooks still run
    assert registered == [run.end]
    run.end()
    step, root = exporter.get_finished_spans()
    assert root.name == "pipeline" and root.parent is None
    assert step.parent.span_id == root.context.span_id
    assert root.attributes["process.exit.code"] == 2  # sys.exit after the exception


def test_no_run_span_for_a_multiprocessing_helper(provider) -> None:
    argv = ["python", "-c", "from multiprocessing.spawn import spawn_main; spawn_main()"]
    assert start_run_span(provider, argv=argv) is None
