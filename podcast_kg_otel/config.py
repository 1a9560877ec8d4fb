"""One typed, validated configuration, built once from the environment.

Precedence: explicit arguments > standard ``OTEL_*`` variables > the tracing guide's legacy
variables > defaults. A bad value at one level gives exactly one warning (variable, bad value,
value used) and falls back to the next level; it never raises (unless
``PODCAST_KG_OTEL_STRICT=true``) and never turns telemetry off.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from podcast_kg_otel_util import env as envtools
from podcast_kg_otel_util.failopen import log_once

from podcast_kg_otel.config_env import settings_from_env
from podcast_kg_otel.defaults import (
    DEFAULT_ENVIRONMENT,
    DEFAULT_PORTS,
    DEFAULT_PROPAGATORS,
    DEFAULT_SAMPLER,
    DEFAULT_SERVICE_NAME,
    DEFAULT_SERVICE_VERSION,
    RETIRED_JAEGER_PORTS,
    legacy_endpoint,
    legacy_exporters,
    legacy_protocol,
)
from podcast_kg_otel.runtime import RuntimeSettings

_logger = logging.getLogger("podcast_kg_otel.config")


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

    service_name: str = DEFAULT_SERVICE_NAME
    service_version: str = DEFAULT_SERVICE_VERSION
    environment: str = DEFAULT_ENVIRONMENT
    enabled: bool = True
    # The guide's fields.
    jaeger_host: str | None = None
    jaeger_port: int | None = None
    jaeger_enabled: bool = True
    console_export: bool = False
    sampling_rate: float | None = None
    batch_processor: bool = True
    max_batch_size: int = 512
    # Standard OTLP / SDK settings.
    exporters: tuple[str, ...] | None = None
    protocol: str | None = None
    endpoint: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    compression: str = "none"
    sampler: str | None = None
    sampler_arg: float | str | None = None
    max_queue_size: int = 2048
    schedule_delay_millis: float = 5000.0
    export_timeout_millis: float = 30000.0
    propagators: tuple[str, ...] = DEFAULT_PROPAGATORS
    disabled_instrumentations: frozenset[str] = frozenset()
    metrics_exporters: tuple[str, ...] = ()
    logs_exporters: tuple[str, ...] = ()
    resource_attributes: Mapping[str, str] = field(default_factory=dict)
    span_limits: Mapping[str, int] = field(default_factory=dict)
    #: Lazy instrumentation, exit budget, tail sampling, traced functions, fork handling.
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)

    def __post_init__(self) -> None:
        raw_port = self.jaeger_port
        bad_port = raw_port is not None and _port(raw_port) is None
        self._set("jaeger_port", None if raw_port is None else _port(raw_port))
        port = None if self.jaeger_port in RETIRED_JAEGER_PORTS else self.jaeger_port
        protocol = self.protocol or legacy_protocol(port)
        self._set("protocol", protocol)
        if bad_port:
            used_port = DEFAULT_PORTS.get(protocol, 4318)
            envtools.report_bad_value("jaeger_port", str(raw_port), used_port, "expected 1..65535")
        self._check_batch_numbers()
        if self.endpoint is None:
            self._set("endpoint", legacy_endpoint(self.jaeger_host, port, protocol))
            if self.jaeger_port in RETIRED_JAEGER_PORTS:
                _warn_retired_port(self.jaeger_port, self.endpoint)
        if self.exporters is None:
            self._set("exporters", legacy_exporters(self.jaeger_enabled, self.console_export))
        if self.sampling_rate is not None and not 0.0 <= self.sampling_rate <= 1.0:
            envtools.report_bad_value(
                "sampling_rate", str(self.sampling_rate), 1.0, "expected 0..1"
            )
            self._set("sampling_rate", 1.0)
        if self.sampler is None:
            if self.sampling_rate is None:
                self._set("sampler", DEFAULT_SAMPLER)
            else:
                self._set("sampler", "parentbased_traceidratio")
                self._set("sampler_arg", self.sampling_rate)
        if self.max_batch_size > self.max_queue_size:
            envtools.report_bad_value(
                "max_batch_size",
                str(self.max_batch_size),
                self.max_queue_size,
                f"larger than the queue size {self.max_queue_size}",
            )
            self._set("max_batch_size", self.max_queue_size)

    def _check_batch_numbers(self) -> None:
        """Explicit batch settings the SDK's batch processor would raise on (it would take
        ``init_tracing`` down with it) give one warning and the default instead."""
        for name, default in _BATCH_DEFAULTS.items():
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 1 <= value < float("inf"):
                envtools.report_bad_value(name, str(value), default, "expected a value >= 1")
                self._set(name, default)

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


def _port(value: object) -> int | None:
    """`value` as a TCP port (``"4318"`` from ``os.getenv`` too), None when it is not one."""
    try:
        port = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return port if 0 < port < 65536 else None


_BATCH_DEFAULTS = {
    name: TracingConfig.__dataclass_fields__[name].default
    for name in ("max_queue_size", "max_batch_size", "schedule_delay_millis")
}
_current: TracingConfig | None = None


def current_config(factory: Callable[[], TracingConfig] = TracingConfig.from_env) -> TracingConfig:
    """The process-wide configuration, built once (by the distro, the configurator or
    ``init_tracing``, whichever runs first)."""
    global _current
    if _current is None:
        _current = factory()
    return _current
