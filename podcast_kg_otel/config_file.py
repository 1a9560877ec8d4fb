"""``OTEL_CONFIG_FILE``: the SDK configured from a declarative file, our extensions on top.

When the variable is set, the SDK's own configurator skips the whole environment start-up
path and builds the providers from the file (the experimental ``opentelemetry-configuration``
package). Ours does the same, so the file means exactly what upstream says it means, and
then applies what the file cannot express: the bounded exit and SIGTERM flush, open spans
ended at exit, fork handlers, context into threads and processes, traced functions, the run
span, error-keeping tail sampling, and the legacy variables' resource attributes where the
file sets none. Lazy instrumentation is the distro's and applies either way.

Where the file and one of our settings both decide the same thing, one warning names both
and says which wins. A file that cannot be used (package missing, unreadable, invalid)
gives one warning and the environment configuration instead: telemetry never goes off
silently.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, TraceIdRatioBased
from podcast_kg_otel_util.failopen import log_once

from podcast_kg_otel import runtime
from podcast_kg_otel.environment_variables import (
    JAEGER_HOST,
    JAEGER_PORT,
    PODCAST_KG_OTEL_TAIL_SAMPLING,
    TRACING_SAMPLING_RATE,
    TRACING_SERVICE_NAME,
)
from podcast_kg_otel.settings.file import (
    OTEL_CONFIG_FILE,
    OTEL_EXPERIMENTAL_CONFIG_FILE,
    load_file,
)
from podcast_kg_otel.settings.file import warn as _warn

if TYPE_CHECKING:
    from podcast_kg_otel.config import TracingConfig

_logger = logging.getLogger("podcast_kg_otel.config_file")
#: Our variables that the file's tracer_provider section decides instead.
EXPORT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_TRACES_EXPORTER",
    JAEGER_HOST,
    JAEGER_PORT,
)
SAMPLER_VARIABLES = ("OTEL_TRACES_SAMPLER", TRACING_SAMPLING_RATE)
SERVICE_VARIABLES = ("OTEL_SERVICE_NAME", TRACING_SERVICE_NAME)


def configure_from_file(
    path: str, config: TracingConfig, environ: Mapping[str, str]
) -> TracerProvider | None:
    """Configure the SDK from ``path`` and put our extensions on top.

    Returns the provider (None when the file declares no tracer provider). Raises
    ``FileUnusable`` when the file cannot be used, so the caller configures from the
    environment instead.
    """
    variable = (
        OTEL_CONFIG_FILE
        if environ.get(OTEL_CONFIG_FILE, "").strip()
        else (OTEL_EXPERIMENTAL_CONFIG_FILE)
    )
    model = load_file(path, variable)
    if model is None:
        raise FileUnusable(path)
    from opentelemetry.configuration import configure_sdk

    warn_conflicts(model, config, environ, variable)
    try:
        configure_sdk(model)
    except Exception as error:
        _warn("apply", f"{variable}={path} could not be applied ({error}); spans may be lost")
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        _warn(
            "no-tracer-provider",
            f"{variable}={path} declares no tracer_provider (or disabled: true): no spans are "
            "recorded, as the file says",
        )
        return None
    _fill_resource(provider, config)
    if config.runtime.tail_sampling:
        _tail_sample(provider, config)
    other_signals = model.meter_provider is not None or model.logger_provider is not None
    runtime.install(provider, config.runtime, other_signals=other_signals)
    return provider


class FileUnusable(Exception):
    """The configuration file could not be used (already reported)."""


def _set(environ: Mapping[str, str], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if environ.get(name, "").strip()]


def file_resource_names(model: Any) -> set[str]:
    resource = getattr(model, "resource", None)
    names = {attribute.name for attribute in getattr(resource, "attributes", None) or []}
    for item in (getattr(resource, "attributes_list", None) or "").split(","):
        if "=" in item:
            names.add(item.split("=", 1)[0].strip())
    return names


def warn_conflicts(
    model: Any, config: TracingConfig, environ: Mapping[str, str], variable: str
) -> None:
    """One warning for each of our settings that the file overrides (or overrides the file)."""
    file_sets_traces = getattr(model, "tracer_provider", None) is not None
    exporters = _set(environ, EXPORT_VARIABLES)
    if exporters and file_sets_traces:
        _warn(
            "exporters",
            f"{variable} and {', '.join(exporters)} both configure where spans go: the file "
            f"wins, {', '.join(exporters)} ignored",
        )
    file_sampler = file_sets_traces and getattr(model.tracer_provider, "sampler", None)
    samplers = _set(environ, SAMPLER_VARIABLES)
    if samplers and file_sampler and not config.runtime.tail_sampling:
        _warn(
            "sampler",
            f"{variable} and {', '.join(samplers)} both set the sampler: the file wins, "
            f"{', '.join(samplers)} ignored",
        )
    if config.runtime.tail_sampling and file_sampler:
        _warn(
            "tail-sampling",
            f"{variable} sets a sampler and {PODCAST_KG_OTEL_TAIL_SAMPLING} is on: tail "
            "sampling wins (every span is recorded, errors kept whole, the healthy share "
            "from the file's ratio sampler or PODCAST_KG_OTEL_TAIL_SAMPLING_RATIO)",
        )
    services = _set(environ, SERVICE_VARIABLES)
    if services and "service.name" in file_resource_names(model):
        _warn(
            "service",
            f"{variable} and {', '.join(services)} both set service.name: the file wins, "
            f"{', '.join(services)} ignored",
        )


def _fill_resource(provider: TracerProvider, config: TracingConfig) -> None:
    """Our resource (service settings from OTEL_* or legacy variables, detected process and
    host, distro identity) under the file's: the file's attributes win.

    The SDK has no public way to change a provider's resource; no tracer exists yet, so
    the provider's own field is replaced before any span can read it.
    """
    from podcast_kg_otel.resource import build_resource

    try:
        provider._resource = build_resource(config).merge(provider.resource)
    except Exception:
        log_once(_logger, "config-file-resource", "podcast-kg-otel: resource merge failed")


def _head_ratio(sampler: Any) -> float | None:
    """The share a ratio sampler (bare or parent-based) keeps; None for other samplers."""
    root = getattr(sampler, "_root", sampler)
    return root.rate if isinstance(root, TraceIdRatioBased) else None


def _tail_sample(provider: TracerProvider, config: TracingConfig) -> None:
    """The file's processors behind tail sampling, with an always-on head (the tail must
    see every span to keep error traces whole)."""
    from podcast_kg_otel.sampling import TailSamplingProcessor

    settings = config.runtime
    ratio = (
        settings.tail_ratio if settings.tail_ratio is not None else _head_ratio(provider.sampler)
    )
    active = provider._active_span_processor
    processors = tuple(
        TailSamplingProcessor(
            processor,
            1.0 if ratio is None else ratio,
            slow_threshold=settings.tail_slow_threshold,
            max_traces=settings.tail_max_traces,
            max_spans=settings.tail_max_spans,
            trace_timeout=settings.tail_trace_timeout,
        )
        for processor in active._span_processors
    )
    with active._lock:
        active._span_processors = processors
    provider.sampler = ParentBased(ALWAYS_ON)
