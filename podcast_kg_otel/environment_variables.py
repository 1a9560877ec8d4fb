"""Environment variables read by podcast-kg-otel, beyond the standard ``OTEL_*`` ones.

Standard variables are honoured as the OpenTelemetry specification describes them (see
``docs/configuration.md`` for the full table). The legacy variables below come from the
original tracing guide; a standard variable always wins over its legacy counterpart.
"""

PODCAST_KG_OTEL_STRICT = "PODCAST_KG_OTEL_STRICT"
"""
.. envvar:: PODCAST_KG_OTEL_STRICT

``true`` turns every configuration warning into a ``ConfigurationError`` at start-up (for
CI). Default: ``false``.
"""

JAEGER_HOST = "JAEGER_HOST"
"""
.. envvar:: JAEGER_HOST

Legacy. Host of the OTLP endpoint when no ``OTEL_EXPORTER_OTLP_*ENDPOINT`` is set.
Default: ``127.0.0.1``.
"""

JAEGER_PORT = "JAEGER_PORT"
"""
.. envvar:: JAEGER_PORT

Legacy. Port of the OTLP endpoint. The retired Jaeger-native ports (6831/6832 UDP agent,
14250/14268 collector) are translated to the OTLP port with one migration warning; 4317
selects the gRPC protocol. Default: ``4318`` (``4317`` for gRPC).
"""

JAEGER_ENABLED = "JAEGER_ENABLED"
"""
.. envvar:: JAEGER_ENABLED

Legacy. ``false`` removes the OTLP trace exporter (when ``OTEL_TRACES_EXPORTER`` is unset).
Default: ``true``.
"""

TRACING_SERVICE_NAME = "TRACING_SERVICE_NAME"
"""
.. envvar:: TRACING_SERVICE_NAME

Legacy ``service.name``. Default: ``podcast-kg-pipeline``.
"""

TRACING_SERVICE_VERSION = "TRACING_SERVICE_VERSION"
"""
.. envvar:: TRACING_SERVICE_VERSION

Legacy ``service.version``. Default: ``unknown``.
"""

ENVIRONMENT = "ENVIRONMENT"
"""
.. envvar:: ENVIRONMENT

Legacy ``deployment.environment.name``. Default: ``development``.
"""

TRACING_SAMPLING_RATE = "TRACING_SAMPLING_RATE"
"""
.. envvar:: TRACING_SAMPLING_RATE

Legacy. A rate in 0..1 giving a ``parentbased_traceidratio`` sampler, unless
``OTEL_TRACES_SAMPLER`` is set. Default: unset (``parentbased_always_on``).
"""

TRACING_CONSOLE_EXPORT = "TRACING_CONSOLE_EXPORT"
"""
.. envvar:: TRACING_CONSOLE_EXPORT

Legacy. ``true`` adds the console span exporter (when ``OTEL_TRACES_EXPORTER`` is unset).
Default: ``false``.
"""

TRACING_BATCH_PROCESSOR = "TRACING_BATCH_PROCESSOR"
"""
.. envvar:: TRACING_BATCH_PROCESSOR

Legacy. ``false`` exports each span synchronously (``SimpleSpanProcessor``).
Default: ``true``.
"""

TRACING_MAX_BATCH_SIZE = "TRACING_MAX_BATCH_SIZE"
"""
.. envvar:: TRACING_MAX_BATCH_SIZE

Legacy ``OTEL_BSP_MAX_EXPORT_BATCH_SIZE``. Default: ``512``.
"""

INSTRUMENT_FLAGS: dict[str, str] = {
    "INSTRUMENT_NEO4J": "podcast_kg_neo4j",
    "INSTRUMENT_REDIS": "redis",
    "INSTRUMENT_REQUESTS": "requests",
    "INSTRUMENT_LOGGING": "logging",
    "INSTRUMENT_LANGCHAIN": "podcast_kg_langchain",
    "INSTRUMENT_WHISPER": "podcast_kg_faster_whisper",
}
"""
Legacy ``INSTRUMENT_*`` flags and the ``opentelemetry_instrumentor`` entry-point name each one
disables when set to ``false``. Default of every flag: ``true``.
"""
