"""Spans from forked and spawned children reach Jaeger with the child's process.pid and
service.instance.id."""

from __future__ import annotations

from stacktools.jaeger import JaegerClient
from stacktools.stack import Stack

from .conftest import runtime_env

FORKING = """
import multiprocessing
import os

from opentelemetry import trace

tracer = trace.get_tracer("fork-test")


def work(label):
    with tracer.start_as_current_span(f"work.{label}") as span:
        span.set_attribute("worker.pid", os.getpid())


if __name__ == "__main__":
    with tracer.start_as_current_span("parent") as parent:
        parent.set_attribute("worker.pid", os.getpid())
        child = os.fork()
        if child == 0:
            work("os_fork")
            os._exit(0)  # skips atexit: the distro flushes first
        os.waitpid(child, 0)
        for method in ("fork", "spawn"):
            process = multiprocessing.get_context(method).Process(target=work, args=(method,))
            process.start()
            process.join()
            print(method, process.exitcode)
"""


def test_children_spans_arrive_with_their_own_pid(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    result = run_instrumented(FORKING, env=runtime_env(stack, service_name))
    assert result.returncode == 0, result.stderr
    assert "fork 0" in result.stdout and "spawn 0" in result.stdout

    # The forked children continue the parent's trace; the spawned one starts its own.
    traces = jaeger.wait_for_traces(service_name, count=2)
    spans = {span.name: span for trace in traces for span in trace.spans}
    assert set(spans) == {"parent", "work.os_fork", "work.fork", "work.spawn"}
    pids = {name: span.attributes["worker.pid"] for name, span in spans.items()}
    assert len(set(pids.values())) == 4
    for name, span in spans.items():
        assert span.resource["process.pid"] == pids[name], name
    assert len({span.resource["service.instance.id"] for span in spans.values()}) == 4
    for name in ("work.os_fork", "work.fork"):
        assert spans[name].parent is spans["parent"]
        assert spans[name].resource["process.parent_pid"] == pids["parent"]
    assert spans["work.spawn"].parent is None
