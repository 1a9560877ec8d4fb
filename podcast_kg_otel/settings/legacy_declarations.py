"""The tracing guide's legacy variables that have no standard counterpart (``JAEGER_*``,
``TRACING_CONSOLE_EXPORT``, ``TRACING_BATCH_PROCESSOR``, the ``INSTRUMENT_*`` flags).
Declared as in ``declarations``, which lists them after the standard ones; a legacy
variable that is a fallback of a standard one (``TRACING_SERVICE_NAME``,
``TRACING_SAMPLING_RATE``, ...) is declared there, with it."""

from __future__ import annotations

from podcast_kg_otel.environment_variables import INSTRUMENT_FLAGS
from podcast_kg_otel.settings.setting import (
    BOOL,
    HOST,
    PORT,
    Setting,
)

LEGACY_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "jaeger_host",
        ("JAEGER_HOST",),
        HOST,
        None,
        shown_default="`127.0.0.1`",
        doc="Legacy: host of the OTLP endpoint when no `OTEL_EXPORTER_OTLP_*ENDPOINT` is set.",
    ),
    Setting(
        "jaeger_port",
        ("JAEGER_PORT",),
        PORT,
        None,
        shown_default="`4318` (`4317` for gRPC)",
        doc="Legacy: OTLP port. The retired Jaeger-native ports **6831/6832** (UDP agent) and "
        "**14250/14268** (collector) are translated to the OTLP port with one warning "
        "explaining the migration; `4317` selects gRPC.",
    ),
    Setting(
        "jaeger_enabled",
        ("JAEGER_ENABLED",),
        BOOL,
        True,
        doc="Legacy: `false` removes the OTLP exporter (when `OTEL_TRACES_EXPORTER` is unset). "
        "With no exporter left, no SDK provider is installed.",
    ),
    Setting(
        "console_export",
        ("TRACING_CONSOLE_EXPORT",),
        BOOL,
        False,
        doc="Legacy: `true` adds the console exporter (when `OTEL_TRACES_EXPORTER` is unset).",
    ),
    Setting(
        "batch_processor",
        ("TRACING_BATCH_PROCESSOR",),
        BOOL,
        True,
        doc="Legacy: `false` exports each span synchronously (`SimpleSpanProcessor`).",
    ),
    *(
        Setting(
            "",
            (flag,),
            BOOL,
            True,
            doc=f"Legacy: `false` disables entry point `{entry_point}`.",
        )
        for flag, entry_point in INSTRUMENT_FLAGS.items()
    ),
)
