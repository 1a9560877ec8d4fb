"""TracingConfig precedence: explicit > OTEL_* > legacy variables > defaults."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from podcast_kg_otel.config import TracingConfig


def test_defaults_fit_a_local_jaeger(our_warnings: Callable[[], list[str]]) -> None:
    config = TracingConfig.from_env({})
    assert config.service_name == "podcast-kg-pipeline"
    assert config.service_version == "unknown"
    assert config.environment == "development"
    assert config.protocol == "http/protobuf"
    assert config.endpoint == "http://127.0.0.1:4318/v1/traces"
    assert config.exporters == ("otlp",)
    assert config.metrics_exporters == () and config.logs_exporters == ()
    assert config.sampler == "parentbased_always_on"
    assert config.propagators == ("tracecontext", "baggage")
    assert config.batch_processor and config.max_batch_size == 512
    assert config.disabled_instrumentations == frozenset()
    assert config.traces_enabled
    assert our_warnings() == []


@pytest.mark.parametrize(
    ("env", "explicit", "expected"),
    [
        ({}, {}, "podcast-kg-pipeline"),
        ({"TRACING_SERVICE_NAME": "legacy"}, {}, "legacy"),
        (
            {"TRACING_SERVICE_NAME": "legacy", "OTEL_RESOURCE_ATTRIBUTES": "service.name=res"},
            {},
            "res",
        ),
        (
            {
                "TRACING_SERVICE_NAME": "legacy",
                "OTEL_RESOURCE_ATTRIBUTES": "service.name=res",
                "OTEL_SERVICE_NAME": "otel",
            },
            {},
            "otel",
        ),
        ({"OTEL_SERVICE_NAME": "otel"}, {"service_name": "explicit"}, "explicit"),
    ],
)
def test_service_name_precedence(env: dict, explicit: dict, expected: str) -> None:
    assert TracingConfig.from_env(env, **explicit).service_name == expected


def test_version_and_environment_from_legacy_and_resource_attributes() -> None:
    legacy = TracingConfig.from_env({"TRACING_SERVICE_VERSION": "1.2.3", "ENVIRONMENT": "staging"})
    assert (legacy.service_version, legacy.environment) == ("1.2.3", "staging")
    otel = TracingConfig.from_env(
        {
            "TRACING_SERVICE_VERSION": "1.2.3",
            "ENVIRONMENT": "staging",
            "OTEL_RESOURCE_ATTRIBUTES": "service.version=9.9,deployment.environment.name=prod",
        }
    )
    assert (otel.service_version, otel.environment) == ("9.9", "prod")
    assert otel.resource_attributes["service.version"] == "9.9"


@pytest.mark.parametrize(
    ("env", "protocol", "endpoint"),
    [
        (
            {"JAEGER_HOST": "jaeger", "JAEGER_PORT": "4318"},
            "http/protobuf",
            "http://jaeger:4318/v1/traces",
        ),
        ({"JAEGER_HOST": "jaeger"}, "http/protobuf", "http://jaeger:4318/v1/traces"),
        ({"JAEGER_PORT": "4317"}, "grpc", "http://127.0.0.1:4317"),
        (
            {"JAEGER_HOST": "jaeger", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"},
            "http/protobuf",
            "http://collector:4318/v1/traces",
        ),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:9999/custom",
            },
            "http/protobuf",
            "http://traces:9999/custom",
        ),
        (
            {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317"},
            "grpc",
            "http://c:4317",
        ),
        (
            {
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
            },
            "http/protobuf",
            "http://127.0.0.1:4318/v1/traces",
        ),
    ],
)
def test_endpoint_precedence(env: dict, protocol: str, endpoint: str) -> None:
    config = TracingConfig.from_env(env)
    assert (config.protocol, config.endpoint) == (protocol, endpoint)


def test_explicit_jaeger_host_beats_otel_endpoint() -> None:
    config = TracingConfig.from_env(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, jaeger_host="explicit"
    )
    assert config.endpoint == "http://explicit:4318/v1/traces"


def test_retired_agent_port_is_translated_with_one_migration_warning(
    our_warnings: Callable[[], list[str]],
) -> None:
    for _ in range(2):
        config = TracingConfig.from_env({"JAEGER_HOST": "jaeger", "JAEGER_PORT": "6831"})
        assert config.endpoint == "http://jaeger:4318/v1/traces"
    (message,) = our_warnings()
    assert "JAEGER_PORT=6831" in message and "http://jaeger:4318/v1/traces" in message
    assert "Jaeger v2" in message and "OTEL_EXPORTER_OTLP_ENDPOINT" in message


def test_guide_style_construction_ignores_the_environment(
    monkeypatch: pytest.MonkeyPatch, our_warnings: Callable[[], list[str]]
) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-env")
    config = TracingConfig(
        service_name="podcast-kg-pipeline",
        jaeger_host="localhost",
        jaeger_port=6831,
        sampling_rate=0.5,
    )
    assert config.service_name == "podcast-kg-pipeline"
    assert config.endpoint == "http://localhost:4318/v1/traces"
    assert (config.sampler, config.sampler_arg) == ("parentbased_traceidratio", 0.5)
    assert len(our_warnings()) == 1


def test_sampling_rate_gives_a_parent_based_ratio_sampler() -> None:
    config = TracingConfig.from_env({"TRACING_SAMPLING_RATE": "0.25"})
    assert (config.sampler, config.sampler_arg) == ("parentbased_traceidratio", 0.25)


def test_otel_traces_sampler_beats_the_sampling_rate() -> None:
    config = TracingConfig.from_env(
        {"TRACING_SAMPLING_RATE": "0.25", "OTEL_TRACES_SAMPLER": "always_on"}
    )
    assert config.sampler == "always_on"
    ratio = TracingConfig.from_env(
        {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"}
    )
    assert (ratio.sampler, ratio.sampler_arg) == ("traceidratio", 0.1)


def test_explicit_sampling_rate_beats_otel_traces_sampler() -> None:
    config = TracingConfig.from_env({"OTEL_TRACES_SAMPLER": "always_off"}, sampling_rate=0.5)
    assert (config.sampler, config.sampler_arg) == ("parentbased_traceidratio", 0.5)


@pytest.mark.parametrize(
    ("env", "exporters"),
    [
        ({"JAEGER_ENABLED": "false"}, ()),
        ({"TRACING_CONSOLE_EXPORT": "true"}, ("otlp", "console")),
        ({"JAEGER_ENABLED": "false", "TRACING_CONSOLE_EXPORT": "true"}, ("console",)),
        ({"JAEGER_ENABLED": "false", "OTEL_TRACES_EXPORTER": "otlp"}, ("otlp",)),
        ({"TRACING_CONSOLE_EXPORT": "true", "OTEL_TRACES_EXPORTER": "none"}, ()),
    ],
)
def test_exporters_from_otel_and_legacy(env: dict, exporters: tuple) -> None:
    config = TracingConfig.from_env(env)
    assert config.exporters == exporters
    assert config.traces_enabled == bool(exporters)


def test_sdk_disabled_turns_tracing_off() -> None:
    config = TracingConfig.from_env({"OTEL_SDK_DISABLED": "true"})
    assert not config.enabled and not config.traces_enabled


@pytest.mark.parametrize(
    ("flag", "entry_point"),
    [
        ("INSTRUMENT_NEO4J", "podcast_kg_neo4j"),
        ("INSTRUMENT_REDIS", "redis"),
        ("INSTRUMENT_REQUESTS", "requests"),
        ("INSTRUMENT_LOGGING", "logging"),
        ("INSTRUMENT_LANGCHAIN", "podcast_kg_langchain"),
        ("INSTRUMENT_WHISPER", "podcast_kg_faster_whisper"),
    ],
)
def test_instrument_flags_disable_entry_points(flag: str, entry_point: str) -> None:
    config = TracingConfig.from_env(
        {flag: "false", "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "urllib3, httpx"}
    )
    assert config.disabled_instrumentations == {entry_point, "urllib3", "httpx"}
    assert TracingConfig.from_env({flag: "true"}).disabled_instrumentations == frozenset()


def test_batch_settings_from_legacy_and_otel() -> None:
    legacy = TracingConfig.from_env(
        {"TRACING_BATCH_PROCESSOR": "false", "TRACING_MAX_BATCH_SIZE": "64"}
    )
    assert (legacy.batch_processor, legacy.max_batch_size) == (False, 64)
    otel = TracingConfig.from_env(
        {
            "TRACING_MAX_BATCH_SIZE": "64",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "128",
            "OTEL_BSP_SCHEDULE_DELAY": "250",
        }
    )
    assert (otel.max_batch_size, otel.schedule_delay_millis) == (128, 250.0)


def test_headers_are_parsed_and_percent_decoded() -> None:
    config = TracingConfig.from_env(
        {"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20abc,x-team=kg"}
    )
    assert config.headers == {"authorization": "Bearer abc", "x-team": "kg"}
