"""The SDK set-up: one TracerProvider with our resource, sampler and export pipeline.

Each part is built by a small function (sampler, exporters, span processor, provider) so it
can be replaced on its own. Bad settings were already resolved by `TracingConfig`; a
component that still fails to build is skipped with one warning, never taking the rest down.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import (
    SpanExporter,
    SpanProcessor,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, Sampler, TraceIdRatioBased
from podcast_kg_otel_util.env import ConfigurationError
from podcast_kg_otel_util.failopen import log_once

from podcast_kg_otel import components, runtime
from podcast_kg_otel.config import TracingConfig, current_config
from podcast_kg_otel.defaults import (
    DEFAULT_SAMPLER,
    GRPC_PROTOCOL,
    HTTP_PROTOCOL,
    OFF_SAMPLERS,
    OTLP_EXPORTER,
    RATIO_SAMPLERS,
    REMOTE_SAMPLERS,
)
from podcast_kg_otel.propagation import install_propagators
from podcast_kg_otel.resource import build_resource
from podcast_kg_otel.settings import file as settings_file
from podcast_kg_otel.settings import sdk_variables

if TYPE_CHECKING:
    from podcast_kg_otel.sampling import TraceStrategy

_logger = logging.getLogger(__name__)
_OTLP_BY_PROTOCOL = {HTTP_PROTOCOL: "otlp_proto_http", GRPC_PROTOCOL: "otlp_proto_grpc"}
#: The gRPC exporter's module imports the logs SDK, whose import builds a Resource on a
#: thread pool: impossible once interpreter shutdown has begun, so a process whose first
#: span ends in an atexit handler would lose it. Imported at threading shutdown instead
#: (about 9 ms, only when the exporter was never built).
_EXIT_IMPORTS = {"otlp_proto_grpc": ("opentelemetry.sdk._logs",)}


class PodcastKgOtelConfigurator:
    """The ``opentelemetry_configurator`` entry point ``podcast_kg_otel``.

    Shaped like the SDK's ``_BaseConfigurator`` (the loader only calls ``configure``) without
    subclassing it: its module imports the metrics and logs SDKs, ~30 ms of start-up.
    """

    def configure(self, **kwargs: Any) -> None:
        self._configure(**kwargs)

    def _configure(self, **kwargs: Any) -> None:
        config = load_config()
        path = settings_file.config_file_path(os.environ)
        if path is not None and config.enabled:
            from podcast_kg_otel import config_file  # only with a file: it is rarely used

            install_propagators(config.propagators)  # the file's propagator section wins
            try:
                config_file.configure_from_file(path, config, os.environ)
                return
            except config_file.FileUnusable:
                pass  # reported; the environment configuration follows
        configure_sdk(config)


def load_config() -> TracingConfig:
    """The process configuration, and the ``OTEL_*`` values the SDK reads itself repaired
    (``settings.sdk_variables``); in strict mode a bad value stops start-up."""
    try:
        config = current_config()
        sdk_variables.repair(os.environ)
        return config
    except ConfigurationError as error:
        raise SystemExit(f"podcast-kg-otel (PODCAST_KG_OTEL_STRICT): {error}") from None


def configure_sdk(config: TracingConfig) -> TracerProvider | None:
    """Install the propagators and, when tracing is on, the global TracerProvider (and
    metrics/logs providers only when their exporters are configured). The ``OTEL_*``
    values the SDK reads are repaired first (``init_tracing`` does not pass
    ``load_config``)."""
    sdk_variables.repair(os.environ)
    install_propagators(config.propagators)
    if not config.traces_enabled:
        return None
    resource = build_resource(config)
    provider = build_tracer_provider(config, resource)
    trace.set_tracer_provider(provider)
    init_other_signals(config, resource)
    runtime.install(
        provider,
        config.runtime,
        other_signals=bool(config.metrics_exporters or config.logs_exporters),
    )
    return provider


def build_tracer_provider(config: TracingConfig, resource: Resource) -> TracerProvider:
    """A provider with one span processor per exporter."""
    provider = TracerProvider(
        sampler=build_sampler(config),
        resource=resource,
        span_limits=SpanLimits(**config.span_limits),
    )
    for exporter in build_exporters(config):
        provider.add_span_processor(build_span_processor(config, exporter))
    return provider


def build_sampler(config: TracingConfig) -> Sampler:
    """The configured sampler; a factory that fails gives the default with one warning."""
    if config.runtime.tail_sampling:
        return ParentBased(ALWAYS_ON)  # the tail decides; it must see every span
    name = config.sampler or DEFAULT_SAMPLER
    if name == "parentbased_traceidratio" and isinstance(config.sampler_arg, float):
        return ParentBased(TraceIdRatioBased(config.sampler_arg))
    try:
        sampler = components.load(components.SAMPLER_GROUP, name)(config.sampler_arg)
        if isinstance(sampler, Sampler):
            return sampler
    except Exception:
        pass
    log_once(
        _logger,
        f"sampler-{name}",
        f"podcast-kg-otel: sampler {name!r} could not be built; using {DEFAULT_SAMPLER}",
        exc_info=False,
    )
    return components.load(components.SAMPLER_GROUP, DEFAULT_SAMPLER)(None)


def build_exporters(config: TracingConfig) -> list[SpanExporter]:
    """One exporter per configured name; one that fails to build is skipped."""
    exporters: list[SpanExporter] = []
    for name in config.exporters or ():
        try:
            # Built on first use, off the start-up path; failures are quiet (runtime.py).
            factory = functools.partial(build_exporter, config, name)
            where = config.endpoint if name == OTLP_EXPORTER else f"{name} exporter"
            exit_imports = _EXIT_IMPORTS.get(_entry_point(config, name), ())
            exporters.append(
                runtime.quiet_exporter(config.runtime, factory, str(where), exit_imports)
            )
        except Exception:
            log_once(
                _logger,
                f"exporter-{name}",
                f"podcast-kg-otel: trace exporter {name!r} failed to start; skipping it",
            )
    return exporters


def _entry_point(config: TracingConfig, name: str) -> str:
    """The exporter entry point a configured name stands for."""
    return _OTLP_BY_PROTOCOL[config.protocol or HTTP_PROTOCOL] if name == OTLP_EXPORTER else name


def build_exporter(config: TracingConfig, name: str) -> SpanExporter:
    entry_point = _entry_point(config, name)
    if entry_point == "otlp_proto_http":
        from opentelemetry.exporter.otlp.proto.http import Compression
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        if config.protocol != HTTP_PROTOCOL:
            config = dataclasses.replace(config, protocol=HTTP_PROTOCOL, endpoint=None)
        return OTLPSpanExporter(
            endpoint=config.endpoint,
            headers=dict(config.headers),
            timeout=config.timeout,
            compression=Compression(config.compression),
        )
    if entry_point == "otlp_proto_grpc":
        from grpc import Compression
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        if config.protocol != GRPC_PROTOCOL:
            config = dataclasses.replace(config, protocol=GRPC_PROTOCOL, endpoint=None)
        compression = {"none": Compression.NoCompression, "gzip": Compression.Gzip}
        return OTLPSpanExporter(
            endpoint=config.endpoint,
            # gRPC rejects metadata keys with capitals (every export would fail); upstream
            # lowercases header names when it parses the variable itself.
            headers={key.lower(): value for key, value in config.headers.items()},
            timeout=config.timeout,
            compression=compression.get(config.compression, Compression.Deflate),
        )
    return components.load(components.TRACES_EXPORTER_GROUP, entry_point)()


def build_span_processor(config: TracingConfig, exporter: SpanExporter) -> SpanProcessor:
    """Batch export by default; synchronous export when ``TRACING_BATCH_PROCESSOR=false``."""
    return runtime.export_processor(
        config.runtime,
        exporter,
        head_keep_ratio(config),
        batch=config.batch_processor,
        max_queue_size=config.max_queue_size,
        schedule_delay_millis=config.schedule_delay_millis,
        max_export_batch_size=config.max_batch_size,
        export_timeout_millis=config.export_timeout_millis,
    )


def head_keep_ratio(config: TracingConfig) -> float | TraceStrategy | None:
    """The share of traces the configured head sampler keeps, which tail sampling (when
    on) takes over for error-free traces: the remote strategy itself for the
    ``jaeger_remote`` samplers (unless a tail ratio is set); None when the sampler has no
    fixed share."""
    if config.sampler in REMOTE_SAMPLERS and config.runtime.tail_ratio is None:
        from podcast_kg_otel.remote_sampling import shared_sampler

        arg = config.sampler_arg if isinstance(config.sampler_arg, str) else None
        return shared_sampler(arg, service_name=config.service_name)
    if config.sampler in RATIO_SAMPLERS and isinstance(config.sampler_arg, float):
        return config.sampler_arg
    if config.sampler in OFF_SAMPLERS:
        return 0.0
    return None


def init_other_signals(config: TracingConfig, resource: Resource) -> None:
    """Metrics and logs providers, only when their exporters are configured (Jaeger
    accepts traces only, so they are off by default)."""
    if not (config.metrics_exporters or config.logs_exporters):
        return
    otlp = _OTLP_BY_PROTOCOL[config.protocol or HTTP_PROTOCOL]

    def names(configured: tuple[str, ...]) -> list[str]:
        return [otlp if name == OTLP_EXPORTER else name for name in configured]

    from opentelemetry.sdk._configuration import _import_exporters, _init_logging, _init_metrics

    try:
        _, metric_exporters, log_exporters = _import_exporters(
            [], names(config.metrics_exporters), names(config.logs_exporters)
        )
        if metric_exporters:
            _init_metrics(metric_exporters, resource)
        if log_exporters:
            _init_logging(log_exporters, resource, setup_logging_handler=False)
    except Exception:
        log_once(
            _logger,
            "other-signals",
            "podcast-kg-otel: metrics/logs set-up failed; traces are unaffected",
        )
