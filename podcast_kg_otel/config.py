"""One typed, validated configuration, built once from the environment.

Precedence: explicit arguments > standard ``OTEL_*`` variables > the tracing guide's legacy
variables > defaults. Each field is declared once in ``podcast_kg_otel.settings`` (its
variables, parser, bounds, default); explicit arguments are checked by the same parser as
the variables. A bad value at one level gives exactly one warning (variable or argument,
bad value, value used) and falls back to the next level; it never raises (unless
``PODCAST_KG_OTEL_STRICT=true``) and never turns telemetry off.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from podcast_kg_otel_util.failopen import log_once

from podcast_kg_otel.config_env import settings_from_env
from podcast_kg_otel.defaults import (
    DEFAULT_HOST,
    DEFAULT_PORTS,
    DEFAULT_SAMPLER,
    HTTP_PROTOCOL,
    PROTOCOLS,
    RETIRED_JAEGER_PORTS,
    legacy_endpoint,
    legacy_exporters,
    legacy_protocol,
)
from podcast_kg_otel.settings import file as settings_file
from podcast_kg_otel.settings import loader
from podcast_kg_otel.settings.declarations import COMPOSITE, ELSEWHERE, SETTINGS, declared
from podcast_kg_otel.settings.runtime_settings import RuntimeSettings
from podcast_kg_otel.settings.setting import Setting

_logger = logging.getLogger("podcast_kg_otel.config")
#: The fields checked by their declaration's parser (``_check_arguments``).
_ARGUMENTS: tuple[Setting, ...] = tuple(
    setting
    for setting in SETTINGS
    if setting.field and not setting.runtime and setting.kind not in (COMPOSITE, ELSEWHERE)
)


def _default(name: str) -> object:
    """A field's default, as its declaration gives it."""
    setting = declared(name)
    return setting.to_field(setting.default)


@dataclass(frozen=True)
class TracingConfig:
    """The resolved tracing settings.

    Construct it directly (the guide's ``TracingConfig(service_name=..., jaeger_host=...,
    jaeger_port=..., sampling_rate=...)``) for a configuration that ignores the environment,
    or with :meth:`from_env` to apply the precedence rules. Fields left as ``None`` are
    derived from the guide's fields in ``__post_init__``: ``protocol`` and ``endpoint`` from
    ``jaeger_host``/``jaeger_port``, ``exporters`` from ``jaeger_enabled``/``console_export``,
    ``sampler`` from ``sampling_rate``.
    """

    service_name: str = _default("service_name")
    service_version: str = _default("service_version")
    environment: str = _default("environment")
    enabled: bool = _default("enabled")
    # The guide's fields.
    jaeger_host: str | None = _default("jaeger_host")
    jaeger_port: int | None = _default("jaeger_port")
    jaeger_enabled: bool = _default("jaeger_enabled")
    console_export: bool = _default("console_export")
    sampling_rate: float | None = _default("sampling_rate")
    batch_processor: bool = _default("batch_processor")
    max_batch_size: int = _default("max_batch_size")
    # Standard OTLP / SDK settings.
    exporters: tuple[str, ...] | None = None
    protocol: str | None = _default("protocol")
    endpoint: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = _default("timeout")
    compression: str = _default("compression")
    sampler: str | None = None
    sampler_arg: float | str | None = None
    max_queue_size: int = _default("max_queue_size")
    schedule_delay_millis: float = _default("schedule_delay_millis")
    export_timeout_millis: float = _default("export_timeout_millis")
    propagators: tuple[str, ...] = _default("propagators")
    resource_detectors: tuple[str, ...] = _default("resource_detectors")
    disabled_instrumentations: frozenset[str] = frozenset()
    metrics_exporters: tuple[str, ...] = ()
    logs_exporters: tuple[str, ...] = ()
    resource_attributes: Mapping[str, str] = field(default_factory=dict)
    span_limits: Mapping[str, int] = field(default_factory=dict)
    #: Lazy instrumentation, exit budget, tail sampling, traced functions, fork handling.
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)

    def __post_init__(self) -> None:
        self._check_arguments()
        port = None if self.jaeger_port in RETIRED_JAEGER_PORTS else self.jaeger_port
        protocol = self.protocol or legacy_protocol(port)
        self._set("protocol", protocol)
        if self.endpoint is None:
            self._set("endpoint", legacy_endpoint(self.jaeger_host, port, protocol))
            if self.jaeger_port in RETIRED_JAEGER_PORTS:
                _warn_retired_port(self.jaeger_port, self.endpoint)
        if self.exporters is None:
            self._set("exporters", legacy_exporters(self.jaeger_enabled, self.console_export))
        if self.sampler is None:
            if self.sampling_rate is None:
                self._set("sampler", DEFAULT_SAMPLER)
            else:
                self._set("sampler", "parentbased_traceidratio")
                self._set("sampler_arg", self.sampling_rate)
        size = loader.batch_within_queue(
            self.max_batch_size, self.max_queue_size, "max_batch_size", self.max_batch_size
        )
        self._set("max_batch_size", size)

    def _check_arguments(self) -> None:
        """Each declared field given a value is checked by its variables' parser: a bad
        one (which the SDK might raise on, taking ``init_tracing`` down with it) gives one
        warning and the default instead. Values read from the environment pass again
        unchanged."""
        for setting in _ARGUMENTS:
            name = setting.field
            value = getattr(self, name)
            default = _default(name)
            if value is None or value is default:
                continue
            shown: object = None
            if name == "jaeger_host":
                shown = DEFAULT_HOST
            elif name == "jaeger_port":
                protocol = self.protocol if self.protocol in PROTOCOLS else HTTP_PROTOCOL
                shown = DEFAULT_PORTS[protocol]
            fallback = setting.used_when_invalid if default is None else default
            checked = loader.argument(setting, name, value, fallback, shown=shown)
            if checked is not value:
                self._set(name, checked)

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    @property
    def traces_enabled(self) -> bool:
        """True when spans are recorded and sent somewhere."""
        return self.enabled and bool(self.exporters)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **explicit: Any) -> TracingConfig:
        """Resolve every setting: `explicit` > ``OTEL_*`` > legacy variables > defaults."""
        env = os.environ if environ is None else environ
        values = settings_from_env(env)
        values["runtime"] = RuntimeSettings.from_env(env, settings_file.section(env))
        given = {key: value for key, value in explicit.items() if value is not None}
        if "jaeger_host" in given or "jaeger_port" in given:
            values.pop("endpoint", None)
            values.pop("protocol", None)
        if "sampling_rate" in given:
            values.pop("sampler", None)
            values.pop("sampler_arg", None)
        if "jaeger_enabled" in given or "console_export" in given:
            values.pop("exporters", None)
        values.update(given)
        return cls(**values)


def _warn_retired_port(port: int, endpoint: str | None) -> None:
    log_once(
        _logger,
        f"retired-port-{port}",
        f"JAEGER_PORT={port} is {RETIRED_JAEGER_PORTS[port]}, which Jaeger v2 no longer "
        f"serves; sending OTLP to {endpoint} instead. Set OTEL_EXPORTER_OTLP_ENDPOINT (or "
        "JAEGER_PORT=4318) to make this explicit and silence this warning.",
        exc_info=False,
    )


_current: TracingConfig | None = None


def current_config(factory: Callable[[], TracingConfig] = TracingConfig.from_env) -> TracingConfig:
    """The process-wide configuration, built once (by the distro, the configurator or
    ``init_tracing``, whichever runs first)."""
    global _current
    if _current is None:
        _current = factory()
    return _current
