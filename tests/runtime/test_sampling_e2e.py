"""Tail sampling under ``opentelemetry-instrument``: the figure, read back from Jaeger."""

from __future__ import annotations

from stacktools.jaeger import JaegerClient
from stacktools.stack import Stack

from .conftest import runtime_env

TRACES = 2000
FAIL_EVERY = 20  # 5 % of the traces fail
RATIO = 0.1

JOBS = """
from opentelemetry import trace

tracer = trace.get_tracer("sampling-test")

class JobError(Exception):
    pass

for index in range({traces}):
    fails = index % {fail_every} == 0
    with tracer.start_as_current_span("job", attributes={{"job.index": index, "job.fails": fails}}):
        with tracer.start_as_current_span("step.fetch"):
            pass
        try:
            with tracer.start_as_current_span("step.store"):
                if fails:
                    raise JobError(f"job {{index}} failed")
        except JobError:
            pass
"""


def test_every_failing_trace_arrives_whole_and_healthy_ones_at_the_ratio(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    env = runtime_env(stack, service_name, PODCAST_KG_OTEL_TAIL_SAMPLING_RATIO=str(RATIO))
    result = run_instrumented(JOBS.format(traces=TRACES, fail_every=FAIL_EVERY), env=env)
    assert result.returncode == 0, result.stderr

    failing_total = TRACES // FAIL_EVERY
    healthy_total = TRACES - failing_total
    low, high = (RATIO - 0.03) * healthy_total, (RATIO + 0.03) * healthy_total
    traces = jaeger.wait_for_traces(
        service_name, count=failing_total + int(low), min_spans=3, limit=5000, timeout=60
    )
    roots = [trace.root for trace in traces]
    failing = [root for root in roots if root.attributes["job.fails"]]
    healthy = [root for root in roots if not root.attributes["job.fails"]]

    assert len(failing) == failing_total
    for root in failing:
        store = next(child for child in root.children if child.name == "step.store")
        assert store.status_code == "ERROR" and len(store.events_named("exception")) == 1
        assert {child.name for child in root.children} == {"step.fetch", "step.store"}
    assert low <= len(healthy) <= high, f"{len(healthy)} of {healthy_total} healthy kept"
    assert all(len(root.children) == 2 for root in healthy)
    print(f"kept {len(failing)}/{failing_total} failing, {len(healthy)}/{healthy_total} healthy")
