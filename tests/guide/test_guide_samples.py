"""Every code sample of the tracing guide, with its ``src.tracing`` imports replaced as the
migration table in docs/configuration.md says, runs as a program against the real stack;
the spans it produces are read back from Jaeger.

One test per sample, named after the guide's section; the samples are in samples/.
"""

from __future__ import annotations

import random
import subprocess
import urllib.request

from opentelemetry.trace import format_span_id, format_trace_id

from stacktools.jaeger import JaegerClient
from stacktools.stack import Stack

from .conftest import SAMPLES, Endpoint, RunSample, sample_command

SCOPE = "podcast_kg_otel"
RETIRED_PORT_WARNING = "JAEGER_PORT=6831 is"


def parent_of(traceparent: str) -> tuple[str, str]:
    """(trace id, parent span id) of a sampled W3C traceparent header."""
    version, trace_id, span_id, flags = traceparent.split("-")
    assert version == "00" and int(flags, 16) & 1, traceparent  # sampled
    return trace_id, span_id


def assert_default_stack(stack: Stack) -> None:
    """The guide's agent port 6831 is translated to OTLP/HTTP 4318 on the same host."""
    assert stack.otlp_http_endpoint.endswith(":4318"), (
        "the guide's samples hard-code Jaeger's agent port, which becomes OTLP on 4318: "
        f"this test needs the stack on its default ports, not {stack.otlp_http_endpoint}"
    )


def test_configuration_python_configuration(
    run_sample: RunSample,
    sample_env: dict[str, str],
    stack: Stack,
    jaeger: JaegerClient,
    service_name: str,
) -> None:
    assert_default_stack(stack)
    env = {k: v for k, v in sample_env.items() if not k.startswith("OTEL_")}
    result = run_sample("python_configuration", env={**env, "TRACING_SERVICE_NAME": service_name})

    # One warning explaining the port, naming where spans go instead.
    (warning,) = result.stderr.splitlines()
    assert warning.startswith(RETIRED_PORT_WARNING), warning
    assert "http://localhost:4318/v1/traces" in warning
    trace = jaeger.wait_for_trace(service_name)
    span = trace.root
    assert (span.name, span.kind, span.status_code, span.scope) == (
        "configured",
        "internal",
        "UNSET",
        SCOPE,
    )
    assert span.service == service_name
    assert span.resource["telemetry.distro.name"] == "podcast-kg-otel"


def test_configuration_environment_variables(
    sample_env: dict[str, str], stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    """The guide's whole environment block, nothing else, under opentelemetry-instrument."""
    assert_default_stack(stack)
    guide_env = {
        "JAEGER_HOST": "localhost",
        "JAEGER_PORT": "6831",
        "JAEGER_ENABLED": "true",
        "TRACING_SERVICE_NAME": service_name,  # the guide's: podcast-kg-pipeline
        "TRACING_SERVICE_VERSION": "1.0.0",
        "ENVIRONMENT": "development",
        "TRACING_SAMPLING_RATE": "1.0",
        "TRACING_CONSOLE_EXPORT": "false",
        "TRACING_BATCH_PROCESSOR": "true",
        "INSTRUMENT_NEO4J": "true",
        "INSTRUMENT_REDIS": "true",
        "INSTRUMENT_REQUESTS": "true",
        "INSTRUMENT_LOGGING": "true",
        "INSTRUMENT_LANGCHAIN": "true",
        "INSTRUMENT_WHISPER": "true",
    }
    env = {k: v for k, v in sample_env.items() if not k.startswith("OTEL_")}
    result = subprocess.run(
        sample_command(SAMPLES / "manual_instrumentation.py", instrumented=True),
        env={**env, **guide_env},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr

    # The only thing said: the agent port's translation, once.
    (line,) = result.stderr.splitlines()
    assert line.startswith(RETIRED_PORT_WARNING), line
    assert "http://localhost:4318/v1/traces" in line
    span = jaeger.wait_for_trace(service_name).root
    assert span.name == "custom_operation"
    assert span.service == service_name
    assert span.resource["service.version"] == "1.0.0"
    assert span.resource["deployment.environment.name"] == "development"


def test_basic_tracing_using_decorators(
    run_sample: RunSample, jaeger: JaegerClient, service_name: str
) -> None:
    result = run_sample("using_decorators")

    assert result.stdout.strip() == "[1, 2, 3]"  # the functions' own results
    trace = jaeger.wait_for_trace(service_name, min_spans=2)
    root = trace.root
    assert (root.name, root.kind, root.status_code) == ("async_operation", "internal", "UNSET")
    (child,) = root.children
    assert (child.name, child.kind, child.status_code) == ("my_operation", "internal", "UNSET")
    assert {span.scope for span in trace.spans} == {SCOPE}


def test_basic_tracing_using_context_manager(
    run_sample: RunSample, jaeger: JaegerClient, service_name: str
) -> None:
    run_sample("using_context_manager")

    trace = jaeger.wait_for_trace(service_name)
    (span,) = trace.spans
    assert (span.name, span.kind, span.status_code) == ("custom_operation", "internal", "UNSET")
    assert span.attributes == {"data.size": 3, "operation.type": "processing"}


def test_basic_tracing_adding_attributes(
    run_sample: RunSample, jaeger: JaegerClient, service_name: str
) -> None:
    run_sample("adding_attributes")

    trace = jaeger.wait_for_trace(service_name)
    (span,) = trace.spans  # the call outside any span made none
    assert span.name == "transcribe_episode"
    assert span.attributes == {
        "episode.id": "ep_123",
        "episode.title": "Graphs all the way down",
        "processing.stage": "transcription",
    }


def test_advanced_tracing_business_logic_tracing(
    run_sample: RunSample, jaeger: JaegerClient, service_name: str
) -> None:
    result = run_sample("business_logic_tracing")

    assert result.stdout.strip() == "['Jaeger is mentioned', 'Neo4j is mentioned']"
    (span,) = jaeger.wait_for_trace(service_name).spans
    assert (span.name, span.kind, span.status_code) == (
        "episode_processing.knowledge_extraction",
        "internal",
        "UNSET",
    )
    assert span.attributes == {
        "episode.id": "ep_123",
        "podcast_kg.operation.type": "episode_processing",
        "podcast_kg.operation.name": "knowledge_extraction",
    }


def test_advanced_tracing_database_operations(
    run_sample: RunSample,
    sample_env: dict[str, str],
    stack: Stack,
    jaeger: JaegerClient,
    service_name: str,
) -> None:
    neo4j = {
        "NEO4J_URI": stack.neo4j_uri,
        "NEO4J_USER": stack.neo4j_user,
        "NEO4J_PASSWORD": stack.neo4j_password,
    }
    result = run_sample("database_operations", env={**sample_env, **neo4j})

    assert result.stdout.strip().endswith("nodes")
    (span,) = jaeger.wait_for_trace(service_name).spans
    assert (span.name, span.kind, span.status_code) == ("neo4j.query", "client", "UNSET")
    assert span.attributes == {
        "db.system.name": "neo4j",
        "db.operation.name": "query",
        "db.query.text": "MATCH (n:GuideSample) RETURN n LIMIT ?",
        "code.function.name": "get_all_nodes",
    }
    assert stack.neo4j_password not in str(span.attributes)


def test_advanced_tracing_provider_calls(
    run_sample: RunSample, jaeger: JaegerClient, service_name: str
) -> None:
    result = run_sample("provider_calls")

    assert result.stdout.strip() == "A private first sentence."
    (span,) = jaeger.wait_for_trace(service_name).spans
    assert (span.name, span.kind, span.status_code) == (
        "generate_content gemini-pro",
        "client",
        "UNSET",
    )
    assert span.attributes["gen_ai.operation.name"] == "generate_content"
    assert span.attributes["gen_ai.request.model"] == "gemini-pro"
    assert span.attributes["code.function.name"] == "generate_summary"
    # Private by default: neither the prompt nor the completion.
    assert "private" not in str(span.attributes).lower()


def test_context_propagation_injecting_context(
    run_sample: RunSample, endpoint: Endpoint, jaeger: JaegerClient, service_name: str
) -> None:
    result = run_sample("injecting_context", endpoint.url)

    assert result.stdout.strip() == "200"
    (span,) = jaeger.wait_for_trace(service_name).spans  # requests is not instrumented here
    assert span.name == "publish_episode"
    ((method, _path, headers),) = endpoint.requests
    assert method == "POST"
    assert parent_of(headers["traceparent"]) == (span.trace_id, span.span_id)


def test_context_propagation_extracting_context(
    sample_env: dict[str, str], jaeger: JaegerClient, service_name: str
) -> None:
    """The test is the caller: its made-up trace continues in the sample's service."""
    trace_id = format_trace_id(random.getrandbits(128) | 1)  # a new trace every run
    parent_id = format_span_id(random.getrandbits(64) | 1)
    with subprocess.Popen(
        sample_command(SAMPLES / "extracting_context.py"),
        env=sample_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        port = int(server.stdout.readline())
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/episodes/ep_123",
            headers={"traceparent": f"00-{trace_id}-{parent_id}-01"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.read() == b"processed"
        _out, err = server.communicate(timeout=60)
    assert server.returncode == 0, err

    (span,) = jaeger.wait_for_trace(service_name).spans
    assert span.name == "process_request"
    assert (span.trace_id, span.parent_id) == (trace_id, parent_id)


def test_instrumentation_automatic_instrumentation(
    run_sample: RunSample,
    sample_env: dict[str, str],
    stack: Stack,
    endpoint: Endpoint,
    jaeger: JaegerClient,
    service_name: str,
) -> None:
    """instrument_all() honours the guide's INSTRUMENT_* flags (here the slow-to-import
    ones off) and the libraries it instruments make spans under the current one."""
    flags = {
        "INSTRUMENT_LANGCHAIN": "false",
        "INSTRUMENT_WHISPER": "false",
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": (
            "google-genai,openai,httpx,httpx2,grpc_aio_client,grpc_aio_server,grpc_client,"
            "grpc_server"
        ),
    }
    result = run_sample(
        "automatic_instrumentation",
        endpoint.url,
        stack.redis_url,
        env={**sample_env, **flags},
    )

    assert result.stdout.splitlines()[0] == "logging,podcast_kg_neo4j,redis,requests"
    trace = jaeger.wait_for_trace(service_name, min_spans=3)
    root = trace.root
    assert root.name == "sync_feed"
    http_span, redis_span = root.children
    assert (http_span.name, http_span.kind) == ("GET", "client")
    # instrument_all() turns on the stable names too, as the distro does (one vocabulary).
    assert http_span.attributes["http.response.status_code"] == 200
    assert "http.status_code" not in http_span.attributes
    assert (redis_span.name, redis_span.kind) == ("GET", "client")
    assert redis_span.attributes["db.system.name"] == "redis"
    assert "db.system" not in redis_span.attributes
    ((_method, _path, headers),) = endpoint.requests
    assert parent_of(headers["traceparent"]) == (trace.trace_id, http_span.span_id)


def test_instrumentation_manual_instrumentation(
    run_sample: RunSample, jaeger: JaegerClient, service_name: str
) -> None:
    run_sample("manual_instrumentation")

    (span,) = jaeger.wait_for_trace(service_name).spans
    assert (span.name, span.kind, span.status_code, span.scope) == (
        "custom_operation",
        "internal",
        "UNSET",
        SCOPE,
    )
    assert span.attributes == {"custom.attribute": "value"}


def test_deployment_production_considerations(
    run_sample: RunSample,
    sample_env: dict[str, str],
    jaeger: JaegerClient,
    service_name: str,
) -> None:
    """TRACING_SAMPLING_RATE=0.1 keeps the traces the trace-id ratio picks, and exactly those
    reach Jaeger; the batch settings are taken without a word."""
    env = {k: v for k, v in sample_env.items() if k != "OTEL_BSP_SCHEDULE_DELAY"}
    production = {
        "TRACING_SAMPLING_RATE": "0.1",
        "TRACING_BATCH_PROCESSOR": "true",
        "TRACING_MAX_BATCH_SIZE": "512",
    }
    result = run_sample("production_considerations", env={**env, **production})

    assert result.stderr == ""
    started = dict(line.split() for line in result.stdout.splitlines())
    sampled = {trace_id for trace_id, flag in started.items() if flag == "True"}
    assert len(started) == 200
    assert 0 < len(sampled) < 60  # about 20; P(outside) < 1e-9
    traces = jaeger.wait_for_traces(service_name, count=len(sampled), limit=500)
    assert {trace.trace_id for trace in traces} == sampled


def test_best_practices_attributes(
    run_sample: RunSample, jaeger: JaegerClient, service_name: str
) -> None:
    run_sample("attributes")

    trace = jaeger.wait_for_trace(service_name, min_spans=2)
    root = trace.root
    assert root.name == "pipeline.segmentation.process_audio"
    assert [child.name for child in root.children] == ["neo4j.query.create_node"]
    # Numbers stay numbers.
    assert root.attributes == {
        "episode.id": "ep_123",
        "podcast.id": "pod_456",
        "segments.count": 150,
        "processing.duration_ms": 3500,
        "result.status": "success",
        "error.type": "ValidationError",
    }


def test_best_practices_error_handling(
    run_sample: RunSample, jaeger: JaegerClient, service_name: str
) -> None:
    result = run_sample("error_handling")

    assert result.stdout.strip() == "failed as expected: segment 3 has no speech"
    (span,) = jaeger.wait_for_trace(service_name).spans
    assert span.name == "process_episode"
    assert (span.status_code, span.status_description) == ("ERROR", "segment 3 has no speech")
    (event,) = span.events_named("exception")  # recorded once
    assert event.attributes["exception.type"] == "__main__.ValidationError"
    assert event.attributes["exception.message"] == "segment 3 has no speech"
