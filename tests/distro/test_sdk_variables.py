"""The OTEL_* values the SDK and the OTLP exporters read themselves get our bad-value
handling: one warning naming the variable, the value and what is used, and the variable
rewritten so the SDK reads exactly that (upstream would raise, print a traceback, or warn
without naming it)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.trace import SpanLimits
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import _get_from_env_or_default
from podcast_kg_otel_util.env import ConfigurationError

from podcast_kg_otel.configurator import load_config
from podcast_kg_otel.settings import sdk_variables


def _bsp(**_: object) -> BatchSpanProcessor:
    return BatchSpanProcessor(InMemorySpanExporter())


CASES = [
    # (environment, variable, shown value used, the SDK's own reading afterwards)
    (
        {"OTEL_BSP_MAX_QUEUE_SIZE": "0"},  # upstream: ValueError, no processor
        "OTEL_BSP_MAX_QUEUE_SIZE",
        "2048",
        lambda: _bsp()._batch_processor._max_queue_size == 2048,
    ),
    (
        {"OTEL_BSP_SCHEDULE_DELAY": "soon"},  # upstream: a traceback
        "OTEL_BSP_SCHEDULE_DELAY",
        "5000.0",
        lambda: _bsp()._batch_processor._schedule_delay_millis == 5000,
    ),
    (
        {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "4096"},  # upstream: ValueError (above the queue)
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        "2048",
        lambda: _bsp()._batch_processor._max_export_batch_size == 2048,
    ),
    (
        {"OTEL_BSP_EXPORT_TIMEOUT": "-1"},
        "OTEL_BSP_EXPORT_TIMEOUT",
        "30000.0",
        lambda: _bsp()._batch_processor._export_timeout_millis == 30000,
    ),
    (
        {"OTEL_BLRP_MAX_QUEUE_SIZE": "many"},
        "OTEL_BLRP_MAX_QUEUE_SIZE",
        "2048",
        lambda: BatchLogRecordProcessor(OTLPLogExporter())._batch_processor._max_queue_size == 2048,
    ),
    (
        {"OTEL_EXPORTER_OTLP_TIMEOUT": "later"},  # upstream gRPC: ValueError, no exporter
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "10.0",
        lambda: GrpcExporter()._timeout == 10.0,
    ),
    (
        {"OTEL_EXPORTER_OTLP_TIMEOUT": "4", "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": "0"},
        "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
        "4.0",
        lambda: OTLPLogExporter()._client._timeout == 4.0,
    ),
    (
        {"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip", "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": "zip"},
        "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
        "'gzip'",
        lambda: OTLPLogExporter()._compression.value == "gzip",
    ),
    (
        {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "7"},
        "OTEL_TRACES_SAMPLER_ARG",
        "1.0",
        lambda: _get_from_env_or_default().rate == 1.0,
    ),
    (
        {"OTEL_SPAN_LINK_COUNT_LIMIT": "lots"},  # upstream: ValueError from SpanLimits()
        "OTEL_SPAN_LINK_COUNT_LIMIT",
        "128",
        lambda: SpanLimits().max_links == 128,
    ),
    (
        {"OTEL_METRIC_EXPORT_INTERVAL": "-5"},
        "OTEL_METRIC_EXPORT_INTERVAL",
        "60000.0",
        lambda: True,
    ),
]


@pytest.mark.parametrize(
    ("env", "variable", "used", "reads"), CASES, ids=[case[1] for case in CASES]
)
def test_bad_sdk_value_warns_once_and_the_sdk_reads_the_value_used(
    env: dict,
    variable: str,
    used: str,
    reads: Callable[[], bool],
    monkeypatch: pytest.MonkeyPatch,
    our_warnings: Callable[[], list[str]],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    load_config()  # what the configurator runs first
    sdk_variables.repair()  # again (init_tracing's path): no second warning
    (message,) = [m for m in our_warnings() if m.startswith(f"{variable}=")]
    assert message.startswith(f"{variable}={env[variable]!r} is invalid"), message
    assert message.endswith(f"using {used} instead"), message
    assert len(our_warnings()) == 1, our_warnings()
    assert reads()


def test_valid_values_are_left_alone_or_written_as_the_sdk_reads_them(
    monkeypatch: pytest.MonkeyPatch, our_warnings: Callable[[], list[str]]
) -> None:
    env = {"OTEL_BSP_SCHEDULE_DELAY": "250.0", "OTEL_EXPORTER_OTLP_TIMEOUT": " 3 "}
    sdk_variables.repair(env)
    assert env == {"OTEL_BSP_SCHEDULE_DELAY": "250", "OTEL_EXPORTER_OTLP_TIMEOUT": " 3 "}
    assert our_warnings() == []


def test_strict_mode_stops_start_up_on_a_bad_sdk_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODCAST_KG_OTEL_STRICT", "true")
    monkeypatch.setenv("OTEL_BLRP_EXPORT_TIMEOUT", "never")
    with pytest.raises(ConfigurationError, match="OTEL_BLRP_EXPORT_TIMEOUT='never'"):
        sdk_variables.repair()
    with pytest.raises(SystemExit, match="OTEL_BLRP_EXPORT_TIMEOUT"):
        load_config()


def test_insecure_flags_are_written_as_the_grpc_exporter_reads_them(
    monkeypatch: pytest.MonkeyPatch, our_warnings: Callable[[], list[str]]
) -> None:
    """The exporter takes only ``true``: ``yes`` would silently mean a TLS connection to a
    plain-text collector (every export failing)."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", "no")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "maybe")
    sdk_variables.repair()
    assert GrpcExporter()._insecure is False  # "no", written as "false", then inherited
    (message,) = our_warnings()
    assert message == (
        "OTEL_EXPORTER_OTLP_TRACES_INSECURE='maybe' is invalid (expected true or false); "
        "using False instead"
    )
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", "yes")
    sdk_variables.repair()
    assert GrpcExporter()._insecure is True


def test_unknown_semconv_opt_in_names_warn_once(
    monkeypatch: pytest.MonkeyPatch, our_warnings: Callable[[], list[str]]
) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http/dup, databse")
    sdk_variables.repair()
    sdk_variables.repair()
    (message,) = our_warnings()
    assert message.startswith("OTEL_SEMCONV_STABILITY_OPT_IN='http/dup, databse' is invalid")
    assert "unknown name databse; known: http, http/dup, database" in message
    assert message.endswith("using 'http/dup' instead")
    import os

    assert os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] == "http/dup"


@pytest.mark.parametrize(
    ("value", "written"),
    [("os,procss", "os"), ("nonsense", "process,os,host"), ("otel,os", "otel,os")],
)
def test_resource_detectors_the_sdk_reads_again_at_fork_are_known_ones(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, value: str, written: str
) -> None:
    # The SDK's own fork handler re-reads the list and logs a traceback per unknown name.
    import os

    from opentelemetry.sdk.resources import _get_process_dependent_resource

    monkeypatch.setenv("OTEL_EXPERIMENTAL_RESOURCE_DETECTORS", value)
    sdk_variables.repair()
    assert os.environ["OTEL_EXPERIMENTAL_RESOURCE_DETECTORS"] == written
    assert "service.instance.id" in _get_process_dependent_resource().attributes
    assert not [r for r in caplog.records if r.exc_info], caplog.text
