"""Logging under our distro: an app's own log output is unchanged while logs export is off
(no OpenTelemetry handler on the root logger), and OTEL_PYTHON_LOG_CORRELATION still puts
trace ids on records."""

from stacktools.jaeger import JaegerClient
from stacktools.stack import Stack

UNCONFIGURED_APP = """
import logging
from opentelemetry import trace

logging.getLogger("app").warning("app warning before any span")
with trace.get_tracer("app").start_as_current_span("work") as span:
    record = logging.getLogger("app").makeRecord("app", logging.INFO, "f", 1, "m", (), None)
    trace_id = format(span.get_span_context().trace_id, "032x")
    print("correlated", getattr(record, "otelTraceID", None) == trace_id)
print("root handlers", [type(h).__name__ for h in logging.getLogger().handlers])
"""


def run_app(run_instrumented, stack: Stack, service_name: str, **extra: str):
    env = {**stack.otel_env(service_name), **extra}
    del env["OTEL_LOGS_EXPORTER"]  # our default: logs export off
    result = run_instrumented(UNCONFIGURED_APP, env=env)
    assert result.returncode == 0, result.stderr
    return result


def test_unconfigured_app_still_prints_its_own_warnings(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    result = run_app(run_instrumented, stack, service_name)

    assert "app warning before any span" in result.stderr
    assert "root handlers []" in result.stdout
    assert jaeger.wait_for_trace(service_name).one("work").service == service_name


def test_log_correlation_puts_the_trace_id_on_records(
    run_instrumented, stack: Stack, service_name: str
) -> None:
    result = run_app(run_instrumented, stack, service_name, OTEL_PYTHON_LOG_CORRELATION="true")

    assert "correlated True" in result.stdout


def test_explicit_auto_instrumentation_setting_is_respected(
    run_instrumented, stack: Stack, service_name: str
) -> None:
    result = run_app(
        run_instrumented, stack, service_name, OTEL_PYTHON_LOG_AUTO_INSTRUMENTATION="true"
    )

    assert "root handlers ['LoggingHandler']" in result.stdout
    assert "app warning before any span" not in result.stderr  # what upstream does
