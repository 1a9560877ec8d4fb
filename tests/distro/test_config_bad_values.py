"""Every bad configuration value gives exactly one warning naming the variable, the bad
value and the value used, and leaves a working configuration (strict mode raises instead)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from podcast_kg_otel_util.env import ConfigurationError

from podcast_kg_otel.config import TracingConfig
from podcast_kg_otel.configurator import build_span_processor

BAD_VALUES = [
    # (environment, variable, bad value as shown, value used as shown, check on the config)
    (
        {"TRACING_SAMPLING_RATE": "abc"},
        "TRACING_SAMPLING_RATE",
        "'abc'",
        "1.0",
        lambda c: c.sampler_arg == 1.0,
    ),
    (
        {"TRACING_SAMPLING_RATE": "1.5"},
        "TRACING_SAMPLING_RATE",
        "'1.5'",
        "1.0",
        lambda c: c.sampler_arg == 1.0,
    ),
    (
        {"TRACING_SAMPLING_RATE": "-0.2"},
        "TRACING_SAMPLING_RATE",
        "'-0.2'",
        "1.0",
        lambda c: c.sampler_arg == 1.0,
    ),
    (
        {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "lots"},
        "OTEL_TRACES_SAMPLER_ARG",
        "'lots'",
        "1.0",
        lambda c: c.sampler_arg == 1.0,
    ),
    (
        {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "7"},
        "OTEL_TRACES_SAMPLER_ARG",
        "'7'",
        "1.0",
        lambda c: c.sampler_arg == 1.0,
    ),
    (
        {"OTEL_TRACES_SAMPLER": "sometimes"},
        "OTEL_TRACES_SAMPLER",
        "'sometimes'",
        "'parentbased_always_on'",
        lambda c: c.sampler == "parentbased_always_on",
    ),
    (
        {"OTEL_TRACES_SAMPLER": "sometimes", "TRACING_SAMPLING_RATE": "0.3"},
        "OTEL_TRACES_SAMPLER",
        "'sometimes'",
        "'parentbased_traceidratio'",
        lambda c: c.sampler_arg == 0.3,
    ),
    (
        {"JAEGER_PORT": "-5"},
        "JAEGER_PORT",
        "'-5'",
        "4318",
        lambda c: c.endpoint == "http://127.0.0.1:4318/v1/traces",
    ),
    (
        {"JAEGER_PORT": "eighty"},
        "JAEGER_PORT",
        "'eighty'",
        "4318",
        lambda c: c.endpoint == "http://127.0.0.1:4318/v1/traces",
    ),
    (
        {"JAEGER_HOST": "http://jaeger/x"},
        "JAEGER_HOST",
        "'http://jaeger/x'",
        "'127.0.0.1'",
        lambda c: c.endpoint == "http://127.0.0.1:4318/v1/traces",
    ),
    (
        {"TRACING_MAX_BATCH_SIZE": "-1"},
        "TRACING_MAX_BATCH_SIZE",
        "'-1'",
        "512",
        lambda c: c.max_batch_size == 512,
    ),
    (
        {"TRACING_MAX_BATCH_SIZE": "big"},
        "TRACING_MAX_BATCH_SIZE",
        "'big'",
        "512",
        lambda c: c.max_batch_size == 512,
    ),
    (
        {"TRACING_MAX_BATCH_SIZE": "5000"},
        "TRACING_MAX_BATCH_SIZE",
        "'5000'",
        "2048",
        lambda c: c.max_batch_size == 2048,
    ),
    (
        {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "0", "TRACING_MAX_BATCH_SIZE": "64"},
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        "'0'",
        "64",
        lambda c: c.max_batch_size == 64,
    ),
    (
        {"OTEL_BSP_MAX_QUEUE_SIZE": "x"},
        "OTEL_BSP_MAX_QUEUE_SIZE",
        "'x'",
        "2048",
        lambda c: c.max_queue_size == 2048,
    ),
    (
        {"OTEL_BSP_SCHEDULE_DELAY": "0"},  # the SDK's batch processor rejects 0
        "OTEL_BSP_SCHEDULE_DELAY",
        "'0'",
        "5000.0",
        lambda c: c.schedule_delay_millis == 5000.0,
    ),
    (
        {"OTEL_EXPORTER_OTLP_TIMEOUT": "0"},  # every export would fail at once
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "'0'",
        "10.0",
        lambda c: c.timeout == 10.0,
    ),
    (
        {"OTEL_BSP_SCHEDULE_DELAY": "soon"},
        "OTEL_BSP_SCHEDULE_DELAY",
        "'soon'",
        "5000.0",
        lambda c: c.schedule_delay_millis == 5000.0,
    ),
    (
        {"OTEL_TRACES_EXPORTER": "jaegerx"},
        "OTEL_TRACES_EXPORTER",
        "'jaegerx'",
        "'otlp'",
        lambda c: c.exporters == ("otlp",),
    ),
    (
        {"OTEL_TRACES_EXPORTER": "console,zipkinx"},
        "OTEL_TRACES_EXPORTER",
        "'console,zipkinx'",
        "'console'",
        lambda c: c.exporters == ("console",),
    ),
    (
        {"OTEL_METRICS_EXPORTER": "prometheusx"},
        "OTEL_METRICS_EXPORTER",
        "'prometheusx'",
        "'none'",
        lambda c: c.metrics_exporters == (),
    ),
    (
        {"OTEL_LOGS_EXPORTER": "otlp,bogus"},
        "OTEL_LOGS_EXPORTER",
        "'otlp,bogus'",
        "'otlp'",
        lambda c: c.logs_exporters == ("otlp",),
    ),
    (
        {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/xml"},
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "'http/xml'",
        "'http/protobuf'",
        lambda c: c.protocol == "http/protobuf",
    ),
    (
        {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "udp", "JAEGER_PORT": "4317"},
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "'udp'",
        "'grpc'",
        lambda c: c.protocol == "grpc",
    ),
    (
        {"OTEL_PROPAGATORS": "tracecontext,b3x"},
        "OTEL_PROPAGATORS",
        "'tracecontext,b3x'",
        "'tracecontext'",
        lambda c: c.propagators == ("tracecontext",),
    ),
    (
        {"OTEL_PROPAGATORS": "nonsense"},
        "OTEL_PROPAGATORS",
        "'nonsense'",
        "'tracecontext,baggage'",
        lambda c: c.propagators == ("tracecontext", "baggage"),
    ),
    (
        {"OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "os,procss"},
        "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS",
        "'os,procss'",
        "'os'",
        lambda c: c.resource_detectors == ("os",),
    ),
    (
        {"OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "nonsense"},
        "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS",
        "'nonsense'",
        "'process,os,host'",
        lambda c: c.resource_detectors == ("process", "os", "host"),
    ),
    (
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "not a url"},
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "'not a url'",
        "'http://127.0.0.1:4318/v1/traces'",
        lambda c: c.endpoint == "http://127.0.0.1:4318/v1/traces",
    ),
    (
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:99999", "JAEGER_HOST": "jaeger"},
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "'http://collector:99999'",
        "'http://jaeger:4318/v1/traces'",
        lambda c: c.endpoint == "http://jaeger:4318/v1/traces",
    ),
    (
        {
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "ftp://x",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
        },
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "'ftp://x'",
        "'http://c:4318/v1/traces'",
        lambda c: c.endpoint == "http://c:4318/v1/traces",
    ),
    (
        {"OTEL_EXPORTER_OTLP_HEADERS": "authorization=secret,broken"},
        "OTEL_EXPORTER_OTLP_HEADERS",
        "'authorization=***,broken'",
        "'authorization=***'",
        lambda c: c.headers == {"authorization": "secret"},
    ),
    (
        {"OTEL_RESOURCE_ATTRIBUTES": "team=kg,oops"},
        "OTEL_RESOURCE_ATTRIBUTES",
        "'team=kg,oops'",
        "'team=kg'",
        lambda c: dict(c.resource_attributes) == {"team": "kg"},
    ),
    (
        {"JAEGER_ENABLED": "maybe"},
        "JAEGER_ENABLED",
        "'maybe'",
        "True",
        lambda c: c.exporters == ("otlp",),
    ),
    (
        {"TRACING_CONSOLE_EXPORT": "yes please"},
        "TRACING_CONSOLE_EXPORT",
        "'yes please'",
        "False",
        lambda c: c.exporters == ("otlp",),
    ),
    (
        {"TRACING_BATCH_PROCESSOR": "nope"},
        "TRACING_BATCH_PROCESSOR",
        "'nope'",
        "True",
        lambda c: c.batch_processor,
    ),
    (
        {"INSTRUMENT_NEO4J": "perhaps"},
        "INSTRUMENT_NEO4J",
        "'perhaps'",
        "True",
        lambda c: c.disabled_instrumentations == frozenset(),
    ),
    ({"OTEL_SDK_DISABLED": "sure"}, "OTEL_SDK_DISABLED", "'sure'", "False", lambda c: c.enabled),
    (
        {"OTEL_EXPORTER_OTLP_TIMEOUT": "later"},
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "'later'",
        "10.0",
        lambda c: c.timeout == 10.0,
    ),
    (
        {"OTEL_EXPORTER_OTLP_COMPRESSION": "zip"},
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        "'zip'",
        "'none'",
        lambda c: c.compression == "none",
    ),
    (
        {"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "many"},
        "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
        "'many'",
        "128",
        lambda c: dict(c.span_limits) == {"max_span_attributes": 128},
    ),
    (
        {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "-3"},
        "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        "'-3'",
        "'unlimited'",
        lambda c: dict(c.span_limits) == {"max_attribute_length": -1},
    ),
]


@pytest.mark.parametrize(
    ("env", "variable", "shown", "used", "check"),
    BAD_VALUES,
    ids=[f"{case[1]}={case[2]}" for case in BAD_VALUES],
)
def test_bad_value_gives_one_warning_and_a_working_config(
    env: dict,
    variable: str,
    shown: str,
    used: str,
    check: Callable[[TracingConfig], bool],
    our_warnings: Callable[[], list[str]],
) -> None:
    config = TracingConfig.from_env(env)
    TracingConfig.from_env(env)  # a second build must not warn again
    assert check(config), config
    (message,) = our_warnings()
    assert message.startswith(f"{variable}={shown} is invalid"), message
    assert message.endswith(f"using {used} instead"), message
    assert config.traces_enabled


def test_header_secrets_never_reach_the_warning(our_warnings: Callable[[], list[str]]) -> None:
    TracingConfig.from_env({"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "api-key=s3cr3t,=x"})
    (message,) = our_warnings()
    assert "s3cr3t" not in message and "OTEL_EXPORTER_OTLP_TRACES_HEADERS" in message


def test_strict_mode_raises_instead_of_warning() -> None:
    with pytest.raises(ConfigurationError, match="TRACING_SAMPLING_RATE='abc'"):
        TracingConfig.from_env({"PODCAST_KG_OTEL_STRICT": "true", "TRACING_SAMPLING_RATE": "abc"})


@pytest.mark.parametrize(
    ("explicit", "shown", "check"),
    [
        ({"max_batch_size": 0}, "max_batch_size='0'", lambda c: c.max_batch_size == 512),
        ({"max_queue_size": -1}, "max_queue_size='-1'", lambda c: c.max_queue_size == 2048),
        (
            {"schedule_delay_millis": 0},
            "schedule_delay_millis='0'",
            lambda c: c.schedule_delay_millis == 5000.0,
        ),
        (
            {"jaeger_port": -1},
            "jaeger_port='-1'",
            lambda c: c.endpoint == "http://127.0.0.1:4318/v1/traces",
        ),
    ],
)
def test_bad_explicit_argument_warns_and_the_provider_still_builds(
    explicit: dict, shown: str, check: Callable[[TracingConfig], bool], our_warnings
) -> None:
    """``init_tracing(max_batch_size=0)`` must not raise the SDK's ValueError into the app."""
    config = TracingConfig.from_env({}, **explicit)
    assert check(config), config
    (message,) = our_warnings()
    assert message.startswith(f"{shown} is invalid"), message
    build_span_processor(config, InMemorySpanExporter()).shutdown()


def test_explicit_port_from_getenv_is_a_port(our_warnings) -> None:
    config = TracingConfig(jaeger_port="4317")  # type: ignore[arg-type]
    assert config.protocol == "grpc" and config.endpoint == "http://127.0.0.1:4317"
    assert our_warnings() == []
