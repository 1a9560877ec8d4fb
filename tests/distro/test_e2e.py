"""End to end: scripts under ``opentelemetry-instrument`` (or plain python with
``init_tracing``), configured only through the environment, read back from the real Jaeger."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from podcast_kg_otel.config import TracingConfig
from podcast_kg_otel.resource import build_resource
from stacktools.jaeger import JaegerClient
from stacktools.stack import Stack

PIPELINE = """
from podcast_kg_otel import add_span_attributes, create_span, trace_method


class Boom(Exception):
    pass


@trace_method(name="pipeline.run")
def run():
    with create_span("pipeline.step", {"step.index": 1}):
        add_span_attributes({"episode.id": "ep_1"})
    try:
        fail()
    except Boom:
        pass


@trace_method(name="pipeline.fail")
def fail():
    raise Boom("kaput")


run()
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
print("app ran; sdk metrics:", isinstance(metrics.get_meter_provider(), MeterProvider))
"""


def otel_only_env(stack: Stack, service_name: str) -> dict[str, str]:
    """The stack's OTEL_* variables, leaving metrics/logs exporters to our defaults."""
    env = stack.otel_env(service_name)
    del env["OTEL_METRICS_EXPORTER"], env["OTEL_LOGS_EXPORTER"]
    return env


def assert_pipeline_trace(jaeger: JaegerClient, service_name: str) -> dict:
    trace = jaeger.wait_for_trace(service_name, min_spans=3)
    root = trace.root
    assert root.name == "pipeline.run" and root.status_code == "UNSET"
    assert sorted(child.name for child in root.children) == ["pipeline.fail", "pipeline.step"]
    step, failed = trace.one("pipeline.step"), trace.one("pipeline.fail")
    assert step.attributes["episode.id"] == "ep_1" and step.attributes["step.index"] == 1
    assert failed.status_code == "ERROR"
    (event,) = failed.events_named("exception")
    assert event.attributes["exception.type"].endswith("Boom")
    assert event.attributes["exception.message"] == "kaput"
    assert failed.attributes["error.type"] == "Boom"
    resource = root.resource
    assert root.service == service_name
    assert resource["telemetry.distro.name"] == "podcast-kg-otel"
    assert resource["service.instance.id"] and resource["host.name"]
    assert resource["process.pid"] > 0 and resource["process.runtime.name"] == "cpython"
    return resource


def test_otel_variables_only(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    env = otel_only_env(stack, service_name)
    env["OTEL_RESOURCE_ATTRIBUTES"] = "service.version=3.1.4,deployment.environment.name=e2e"
    result = run_instrumented(PIPELINE, env=env)
    assert result.returncode == 0, result.stderr
    assert "app ran; sdk metrics: False" in result.stdout
    assert result.stderr == "", result.stderr  # no exporter noise, no "configurator not loaded"
    resource = assert_pipeline_trace(jaeger, service_name)
    assert resource["service.version"] == "3.1.4"
    assert resource["deployment.environment.name"] == "e2e"


def test_resource_detectors_variable_reaches_jaeger(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    env = otel_only_env(stack, service_name)
    env["OTEL_EXPERIMENTAL_RESOURCE_DETECTORS"] = "otel,os"
    result = run_instrumented(PIPELINE, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    resource = jaeger.wait_for_trace(service_name, min_spans=3).root.resource
    # Exactly what these detectors give in process (test_setup checks that set), no
    # process.* or host.*; service.name is Jaeger's service, not a tag.
    expected = build_resource(TracingConfig(resource_detectors=("os",))).attributes
    assert set(resource) == set(expected) - {"service.name"}, resource
    assert "process.pid" not in resource and resource["os.type"] == "linux"


def test_legacy_variables_only(run_instrumented, jaeger: JaegerClient, service_name: str) -> None:
    env = {
        "TRACING_SERVICE_NAME": service_name,
        "TRACING_SERVICE_VERSION": "1.0.0",
        "ENVIRONMENT": "staging",
        "JAEGER_HOST": "127.0.0.1",
        "JAEGER_PORT": "6831",
        "JAEGER_ENABLED": "true",
        "TRACING_SAMPLING_RATE": "1.0",
        "TRACING_BATCH_PROCESSOR": "false",
        "TRACING_CONSOLE_EXPORT": "false",
    }
    result = run_instrumented(PIPELINE, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("JAEGER_PORT=6831") == 1, result.stderr
    assert "http://127.0.0.1:4318/v1/traces" in result.stderr
    resource = assert_pipeline_trace(jaeger, service_name)
    assert resource["service.version"] == "1.0.0"
    assert resource["deployment.environment.name"] == "staging"


BAD = {
    "OTEL_PROPAGATORS": "tracecontext,bogus",
    "OTEL_TRACES_SAMPLER": "sometimes",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/xml",
    "OTEL_EXPORTER_OTLP_HEADERS": "broken",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "many",
    "OTEL_TRACES_EXPORTER": "otlp,zipkinx",
    "TRACING_MAX_BATCH_SIZE": "-4",
    "JAEGER_ENABLED": "maybe",
}


def test_bad_values_warn_once_each_and_telemetry_keeps_working(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    env = {**otel_only_env(stack, service_name), **BAD}
    result = run_instrumented(PIPELINE, env=env)
    assert result.returncode == 0, result.stderr
    assert "app ran" in result.stdout
    for variable, value in BAD.items():
        assert result.stderr.count(f"{variable}={value!r} is invalid") == 1, (
            variable,
            result.stderr,
        )
    assert "Traceback" not in result.stderr, result.stderr
    assert_pipeline_trace(jaeger, service_name)


def test_strict_mode_turns_a_bad_value_into_a_start_up_error(run_instrumented) -> None:
    result = run_instrumented(
        'print("app ran")', env={"PODCAST_KG_OTEL_STRICT": "true", "TRACING_SAMPLING_RATE": "abc"}
    )
    assert result.returncode != 0
    assert "app ran" not in result.stdout
    assert "TRACING_SAMPLING_RATE='abc' is invalid" in result.stderr


PROPAGATION = """
from opentelemetry import baggage, context
from podcast_kg_otel import create_span, extract_context, inject_context

incoming = {{"traceparent": "00-{trace_id}-00f067aa0ba902b7-01"}}
token = context.attach(baggage.set_baggage("k", "v", extract_context(incoming)))
with create_span("server.handle"):
    print("outgoing", sorted(inject_context({{}})))
context.detach(token)
"""


def test_otel_propagators_take_effect_and_context_is_continued(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    env = {**otel_only_env(stack, service_name), "OTEL_PROPAGATORS": "tracecontext"}
    trace_id = uuid.uuid4().hex
    result = run_instrumented(PROPAGATION.format(trace_id=trace_id), env=env)
    assert result.returncode == 0, result.stderr
    assert "outgoing ['traceparent']" in result.stdout  # no baggage header: the choice applied
    trace = jaeger.wait_for_trace(service_name)
    span = trace.one("server.handle")
    assert trace.trace_id.rjust(32, "0") == trace_id
    assert span.parent_id.lstrip("0") == "f067aa0ba902b7"


REQUESTS = """
import requests
from podcast_kg_otel import trace_method

@trace_method(name="fetch.services")
def fetch(url):
    return requests.get(url, timeout=5).status_code

print("status", fetch({url!r}))
"""


def test_instrument_flag_disables_the_requests_instrumentor(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    code = REQUESTS.format(url=f"{stack.jaeger_query_url}/api/services")
    on = run_instrumented(code, env=otel_only_env(stack, service_name))
    off_service = f"{service_name}-off"
    off = run_instrumented(
        code, env={**otel_only_env(stack, off_service), "INSTRUMENT_REQUESTS": "false"}
    )
    assert "status 200" in on.stdout and "status 200" in off.stdout, on.stderr + off.stderr
    with_requests = jaeger.wait_for_trace(service_name, min_spans=2)
    (child,) = with_requests.root.children
    assert child.kind == "client" and child.name == "GET"
    without = jaeger.wait_for_trace(off_service)
    assert [span.name for span in without.spans] == ["fetch.services"]


def test_stock_distro_is_selected_when_asked_for(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    env = {
        **stack.otel_env(service_name),
        "OTEL_PYTHON_DISTRO": "distro",
        "OTEL_PYTHON_CONFIGURATOR": "configurator",
    }
    result = run_instrumented(PIPELINE, env=env)
    assert result.returncode == 0, result.stderr
    trace = jaeger.wait_for_trace(service_name, min_spans=3)
    assert "telemetry.distro.name" not in trace.root.resource


INIT_TWICE = """
from opentelemetry import trace
from podcast_kg_otel import init_tracing, trace_method

first = init_tracing(service_name={service!r})
processors = list(first._active_span_processor._span_processors)
second = init_tracing(service_name="ignored-second-call")
print("same", first is second is trace.get_tracer_provider())
print("processors unchanged", list(second._active_span_processor._span_processors) == processors)

@trace_method(name="job")
def job():
    return 1

job()
"""


def run_python(code: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    script = tmp_path / "app.py"
    script.write_text(code)
    return subprocess.run(
        [sys.executable, str(script)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def test_init_tracing_is_idempotent(
    tmp_path: Path, stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": stack.otlp_http_endpoint}
    result = run_python(INIT_TWICE.format(service=service_name), env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "same True" in result.stdout and "processors unchanged True" in result.stdout
    trace = jaeger.wait_for_trace(service_name)
    assert [span.name for span in trace.spans] == ["job"]
    assert trace.root.resource["telemetry.distro.name"] == "podcast-kg-otel"


def test_init_tracing_under_opentelemetry_instrument_adds_no_second_exporter(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    result = run_instrumented(
        INIT_TWICE.format(service="ignored-explicit-name"), env=otel_only_env(stack, service_name)
    )
    assert result.returncode == 0, result.stderr
    assert "same True" in result.stdout and "processors unchanged True" in result.stdout
    traces = jaeger.wait_for_traces(service_name, settle=1.0)
    assert [[span.name for span in trace.spans] for trace in traces] == [["job"]]


def test_init_tracing_reuses_an_application_provider(tmp_path: Path) -> None:
    code = """
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from podcast_kg_otel import init_tracing

mine = TracerProvider()
trace.set_tracer_provider(mine)
print("reused", init_tracing() is mine, len(mine._active_span_processor._span_processors))
"""
    result = run_python(code, {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "reused True 0" in result.stdout


INSTRUMENT_ALL = """
import requests
from podcast_kg_otel import init_tracing, instrument_all, trace_method

init_tracing()
print("first", instrument_all())
print("second", instrument_all())

@trace_method(name="fetch.services")
def fetch(url):
    return requests.get(url, timeout=5).status_code

print("status", fetch({url!r}))
"""


def test_instrument_all_honours_flags_and_is_safe_twice(
    tmp_path: Path, stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    env = {
        "OTEL_SERVICE_NAME": service_name,
        "OTEL_EXPORTER_OTLP_ENDPOINT": stack.otlp_http_endpoint,
        "INSTRUMENT_REDIS": "false",
        "INSTRUMENT_LOGGING": "false",
        "INSTRUMENT_NEO4J": "false",
        "INSTRUMENT_LANGCHAIN": "false",
        "INSTRUMENT_WHISPER": "false",
        # The provider extra's instrumentors have no INSTRUMENT_* flag: the standard list.
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": (
            "httpx,httpx2,grpc_aio_client,grpc_aio_server,grpc_client,grpc_server,"
            "google-genai,openai"
        ),
    }
    code = INSTRUMENT_ALL.format(url=f"{stack.jaeger_query_url}/api/services")
    result = run_python(code, env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "first ['requests']" in result.stdout and "second []" in result.stdout
    trace = jaeger.wait_for_trace(service_name, min_spans=2)
    (child,) = trace.root.children
    assert trace.root.name == "fetch.services" and child.name == "GET"


def test_legacy_grpc_port_sends_over_grpc(
    run_instrumented, jaeger: JaegerClient, service_name: str
) -> None:
    env = {"TRACING_SERVICE_NAME": service_name, "JAEGER_HOST": "127.0.0.1", "JAEGER_PORT": "4317"}
    result = run_instrumented(PIPELINE, env=env)
    assert result.returncode == 0, result.stderr
    assert_pipeline_trace(jaeger, service_name)


def test_grpc_with_mixed_case_header_names_still_exports(
    run_instrumented, jaeger: JaegerClient, service_name: str
) -> None:
    # gRPC metadata keys must be lowercase; upstream lowercases header names, so must we.
    env = {
        "OTEL_SERVICE_NAME": service_name,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_HEADERS": "X-Tenant=podcast-kg",
    }
    result = run_instrumented(PIPELINE, env=env)
    assert result.returncode == 0, result.stderr
    assert "could not export" not in result.stderr, result.stderr
    assert_pipeline_trace(jaeger, service_name)


def test_legacy_console_export_without_jaeger(run_instrumented, service_name: str) -> None:
    env = {
        "TRACING_SERVICE_NAME": service_name,
        "JAEGER_ENABLED": "false",
        "TRACING_CONSOLE_EXPORT": "true",
    }
    result = run_instrumented(PIPELINE, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count('"name": "pipeline.run"') == 1
    assert f'"service.name": "{service_name}"' in result.stdout


ASYNC_PIPELINE = """
import asyncio
from podcast_kg_otel import trace_async


@trace_async(name="segments")
async def segments(count):
    for index in range(count):
        await asyncio.sleep(0)
        yield index


@trace_async(name="transcribe")
async def transcribe(index):
    await asyncio.sleep(0.01)
    return index


@trace_async(name="episode")
async def episode():
    items = [item async for item in segments(3)]
    return await asyncio.gather(*(transcribe(item) for item in items))


print("result", asyncio.run(episode()))
"""


def test_async_functions_and_async_generators_nest_across_tasks(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    result = run_instrumented(ASYNC_PIPELINE, env=otel_only_env(stack, service_name))
    assert "result [0, 1, 2]" in result.stdout, result.stderr
    trace = jaeger.wait_for_trace(service_name, min_spans=5)
    assert trace.root.name == "episode"
    assert sorted(child.name for child in trace.root.children) == [
        "segments",
        "transcribe",
        "transcribe",
        "transcribe",
    ]
