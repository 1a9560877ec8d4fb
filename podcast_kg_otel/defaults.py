"""Defaults and fixed tables of the configuration, shared by `TracingConfig` (config.py)
and the environment readers (config_env.py)."""

from __future__ import annotations

from opentelemetry.sdk.environment_variables import (
    OTEL_ATTRIBUTE_COUNT_LIMIT,
    OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
    OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT,
    OTEL_LINK_ATTRIBUTE_COUNT_LIMIT,
    OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT,
    OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
    OTEL_SPAN_EVENT_COUNT_LIMIT,
    OTEL_SPAN_LINK_COUNT_LIMIT,
)

DEFAULT_SERVICE_NAME = "podcast-kg-pipeline"
DEFAULT_SERVICE_VERSION = "unknown"
DEFAULT_ENVIRONMENT = "development"
DEFAULT_HOST = "127.0.0.1"
HTTP_PROTOCOL = "http/protobuf"
GRPC_PROTOCOL = "grpc"
PROTOCOLS = (HTTP_PROTOCOL, GRPC_PROTOCOL)
DEFAULT_PORTS = {HTTP_PROTOCOL: 4318, GRPC_PROTOCOL: 4317}
TRACES_PATH = "/v1/traces"
DEFAULT_PROPAGATORS = ("tracecontext", "baggage")
#: Resource detectors the SDK itself registers (``opentelemetry_resource_detector``).
SDK_RESOURCE_DETECTORS = ("host", "os", "otel", "process", "service_instance")
#: What fills the resource besides our identity attributes, unless
#: ``OTEL_EXPERIMENTAL_RESOURCE_DETECTORS`` names others. ``service_instance`` is always
#: added and ``otel`` always applies (we read ``OTEL_RESOURCE_ATTRIBUTES`` ourselves), as
#: in the SDK's own ``Resource.create``.
DEFAULT_RESOURCE_DETECTORS = ("process", "os", "host")
# One vocabulary: the contrib instrumentations emit the stable HTTP and database names too
# (OTEL_SEMCONV_STABILITY_OPT_IN; a user's own value wins).
STABLE_SEMCONV = "http,database"
DEFAULT_SAMPLER = "parentbased_always_on"
RATIO_SAMPLERS = ("traceidratio", "parentbased_traceidratio")
#: Samplers that apply the strategy Jaeger serves (podcast_kg_otel.remote_sampling).
REMOTE_SAMPLERS = ("jaeger_remote", "parentbased_jaeger_remote")
#: Head samplers that keep no trace: under tail sampling they keep only the error traces.
OFF_SAMPLERS = ("always_off", "parentbased_always_off")
COMPRESSIONS = ("none", "gzip", "deflate")
#: The OTLP alias resolved through the protocol; every other name is an entry point.
OTLP_EXPORTER = "otlp"
#: Jaeger-native ports retired in Jaeger v2, translated to OTLP with one warning.
RETIRED_JAEGER_PORTS = {
    6831: "the Jaeger agent's UDP port (compact Thrift)",
    6832: "the Jaeger agent's UDP port (binary Thrift)",
    14250: "the Jaeger collector's model.proto gRPC port",
    14268: "the Jaeger collector's Thrift HTTP port",
}
#: ``OTEL_*`` span-limit variable -> (SpanLimits argument, SDK default; -1 is unlimited).
SPAN_LIMIT_VARIABLES = {
    OTEL_ATTRIBUTE_COUNT_LIMIT: ("max_attributes", 128),
    OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: ("max_span_attributes", 128),
    OTEL_SPAN_EVENT_COUNT_LIMIT: ("max_events", 128),
    OTEL_SPAN_LINK_COUNT_LIMIT: ("max_links", 128),
    OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT: ("max_event_attributes", 128),
    OTEL_LINK_ATTRIBUTE_COUNT_LIMIT: ("max_link_attributes", 128),
    OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: ("max_attribute_length", -1),
    OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: ("max_span_attribute_length", -1),
}


def legacy_protocol(jaeger_port: int | None) -> str:
    """The OTLP protocol a legacy ``JAEGER_PORT`` implies: gRPC for 4317, HTTP otherwise."""
    return GRPC_PROTOCOL if jaeger_port == 4317 else HTTP_PROTOCOL


def legacy_endpoint(host: str | None, port: int | None, protocol: str) -> str:
    """The OTLP traces endpoint for a legacy ``JAEGER_HOST``/``JAEGER_PORT``; a retired
    Jaeger-native port gives the protocol's default port."""
    if port in RETIRED_JAEGER_PORTS:
        port = None
    base = f"http://{host or DEFAULT_HOST}:{port or DEFAULT_PORTS[protocol]}"
    return base + TRACES_PATH if protocol == HTTP_PROTOCOL else base


def legacy_exporters(jaeger_enabled: bool, console_export: bool) -> tuple[str, ...]:
    """The exporters the guide's ``JAEGER_ENABLED``/``TRACING_CONSOLE_EXPORT`` select."""
    return ((OTLP_EXPORTER,) if jaeger_enabled else ()) + (("console",) if console_export else ())
