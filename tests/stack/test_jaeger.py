"""The stack's Jaeger is real: a trace exported over OTLP by a process run under
`opentelemetry-instrument` (the stock distro) comes back through the query API."""

import textwrap

from stacktools.jaeger import JaegerClient
from stacktools.stack import Stack

PARENT_CHILD = textwrap.dedent(
    """
    from opentelemetry import trace

    tracer = trace.get_tracer("smoke")
    with tracer.start_as_current_span("smoke-parent") as parent:
        parent.set_attribute("smoke.role", "parent")
        with tracer.start_as_current_span("smoke-child") as child:
            child.set_attribute("smoke.count", 3)
    """
)

STOCK_DISTRO = {"OTEL_PYTHON_DISTRO": "distro", "OTEL_PYTHON_CONFIGURATOR": "configurator"}


def test_parent_child_trace_reaches_jaeger(
    stack: Stack, jaeger: JaegerClient, service_name: str, run_instrumented
) -> None:
    result = run_instrumented(PARENT_CHILD, env={**stack.otel_env(service_name), **STOCK_DISTRO})
    assert result.returncode == 0, result.stderr

    trace = jaeger.wait_for_trace(service_name, min_spans=2)

    assert [span.name for span in trace.spans] == ["smoke-parent", "smoke-child"]
    parent, child = trace.one("smoke-parent"), trace.one("smoke-child")
    assert trace.root is parent
    assert child.parent is parent
    assert child.parent_id == parent.span_id
    assert parent.service == child.service == service_name
    assert parent.resource["telemetry.sdk.language"] == "python"
    assert parent.attributes == {"smoke.role": "parent"}
    assert child.attributes == {"smoke.count": 3}
    assert child.kind == "internal"


def test_absent_trace_fails_the_lookup(jaeger: JaegerClient, service_name: str) -> None:
    """The client raises when nothing arrived, so a missing trace fails a test."""
    try:
        jaeger.wait_for_trace(service_name, timeout=1)
    except AssertionError as error:
        assert service_name in str(error)
    else:
        raise AssertionError("a trace that was never sent was found")
