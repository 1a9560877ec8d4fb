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

from opentelemetry.environment_variables import (
    OTEL_LOGS_EXPORTER,
    OTEL_METRICS_EXPORTER,
    OTEL_PROPAGATORS,
    OTEL_TRACES_EXPORTER,
)
from opentelemetry.instrumentation.environment_variables import (
    OTEL_PYTHON_DISABLED_INSTRUMENTATIONS,
)
from opentelemetry.sdk.environment_variables import (
    OTEL_ATTRIBUTE_COUNT_LIMIT,
    OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
    OTEL_BSP_EXPORT_TIMEOUT,
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
    OTEL_BSP_MAX_QUEUE_SIZE,
    OTEL_BSP_SCHEDULE_DELAY,
    OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT,
    OTEL_EXPORTER_OTLP_COMPRESSION,
    OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_EXPORTER_OTLP_HEADERS,
    OTEL_EXPORTER_OTLP_PROTOCOL,
    OTEL_EXPORTER_OTLP_TIMEOUT,
    OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
    OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
    OTEL_LINK_ATTRIBUTE_COUNT_LIMIT,
    OTEL_RESOURCE_ATTRIBUTES,
    OTEL_SDK_DISABLED,
    OTEL_SERVICE_NAME,
    OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT,
    OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
    OTEL_SPAN_EVENT_COUNT_LIMIT,
    OTEL_SPAN_LINK_COUNT_LIMIT,
    OTEL_TRACES_SAMPLER,
    OTEL_TRACES_SAMPLER_ARG,
)
from podcast_kg_otel_util import env as envtools
from podcast_kg_otel_util.failopen import log_once

from podcast_kg_otel import components
from podcast_kg_otel import environment_variables as legacy
from podcast_kg_otel.parsing import parse_key_values, redact_key_values, valid_endpoint
from podcast_kg_otel.runtime import RuntimeSettings

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
DEFAULT_SAMPLER = "parentbased_always_on"
RATIO_SAMPLERS = ("traceidratio", "parentbased_traceidratio")
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
        port = self.jaeger_port
        if port in RETIRED_JAEGER_PORTS:
            port = None
        protocol = self.protocol or (GRPC_PROTOCOL if port == 4317 else HTTP_PROTOCOL)
        self._set("protocol", protocol)
        if self.endpoint is None:
            port = port or DEFAULT_PORTS[protocol]
            base = f"http://{self.jaeger_host or DEFAULT_HOST}:{port}"
            self._set("endpoint", base + TRACES_PATH if protocol == HTTP_PROTOCOL else base)
            if self.jaeger_port in RETIRED_JAEGER_PORTS:
                _warn_retired_port(self.jaeger_port, self.endpoint)
        if self.exporters is None:
            legacy_exporters = ((OTLP_EXPORTER,) if self.jaeger_enabled else ()) + (
                ("console",) if self.console_export else ()
            )
            self._set("exporters", legacy_exporters)
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
        values = _from_environment(env)
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


def _raw(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value.strip() if value is not None and value.strip() else None


def _first_raw(env: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    """The first of `names` that is set, as (name, value)."""
    for name in names:
        value = _raw(env, name)
        if value is not None:
            return name, value
    return None


def _from_environment(env: Mapping[str, str]) -> dict[str, Any]:
    """Every setting the environment provides, validated; absent keys mean "not set"."""
    values: dict[str, Any] = {}
    resource = _resource_attributes(env)
    values["resource_attributes"] = resource
    values["service_name"] = (
        _raw(env, OTEL_SERVICE_NAME)
        or resource.get("service.name")
        or _raw(env, legacy.TRACING_SERVICE_NAME)
        or DEFAULT_SERVICE_NAME
    )
    values["service_version"] = (
        resource.get("service.version")
        or _raw(env, legacy.TRACING_SERVICE_VERSION)
        or DEFAULT_SERVICE_VERSION
    )
    values["environment"] = (
        resource.get("deployment.environment.name")
        or resource.get("deployment.environment")
        or _raw(env, legacy.ENVIRONMENT)
        or DEFAULT_ENVIRONMENT
    )
    values["enabled"] = not envtools.env_bool(OTEL_SDK_DISABLED, False, env)
    values["jaeger_enabled"] = envtools.env_bool(legacy.JAEGER_ENABLED, True, env)
    values["console_export"] = envtools.env_bool(legacy.TRACING_CONSOLE_EXPORT, False, env)
    values["batch_processor"] = envtools.env_bool(legacy.TRACING_BATCH_PROCESSOR, True, env)
    values.update(_endpoint_settings(env))
    values.update(_exporter_settings(env))
    values.update(_sampler_settings(env))
    values.update(_batch_settings(env))
    values["headers"] = _headers(env)
    timeout_default = envtools.env_float(OTEL_EXPORTER_OTLP_TIMEOUT, 10.0, minimum=0, environ=env)
    values["timeout"] = envtools.env_float(
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, timeout_default, minimum=0, environ=env
    )
    compression = envtools.env_choice(OTEL_EXPORTER_OTLP_COMPRESSION, "none", COMPRESSIONS, env)
    values["compression"] = envtools.env_choice(
        OTEL_EXPORTER_OTLP_TRACES_COMPRESSION, compression, COMPRESSIONS, env
    )
    values["propagators"] = _propagators(env)
    values["disabled_instrumentations"] = _disabled_instrumentations(env)
    values["span_limits"] = _span_limits(env)
    values["runtime"] = RuntimeSettings.from_env(env)
    return values


def _resource_attributes(env: Mapping[str, str]) -> dict[str, str]:
    raw = _raw(env, OTEL_RESOURCE_ATTRIBUTES)
    if raw is None:
        return {}
    pairs, malformed = parse_key_values(raw)
    if malformed:
        used = ",".join(f"{key}={value}" for key, value in pairs.items())
        envtools.report_bad_value(
            OTEL_RESOURCE_ATTRIBUTES, raw, used, "expected key=value pairs", env
        )
    return pairs


def _legacy_port(env: Mapping[str, str], protocol: str | None) -> int | None:
    raw = _raw(env, legacy.JAEGER_PORT)
    if raw is None:
        return None
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if 0 < port < 65536:
        return port
    used = DEFAULT_PORTS[protocol or HTTP_PROTOCOL]
    envtools.report_bad_value(legacy.JAEGER_PORT, raw, used, "expected a port 1..65535", env)
    return None


def _legacy_host(env: Mapping[str, str]) -> str | None:
    raw = _raw(env, legacy.JAEGER_HOST)
    if raw is None:
        return None
    if valid_endpoint(raw, scheme_required=False) and "/" not in raw and ":" not in raw:
        return raw
    envtools.report_bad_value(legacy.JAEGER_HOST, raw, DEFAULT_HOST, "expected a host name", env)
    return None


def _endpoint_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """protocol, endpoint, jaeger_host and jaeger_port."""
    values: dict[str, Any] = {}
    protocol: str | None = None
    chosen = _first_raw(env, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL)
    host = _legacy_host(env)
    if chosen is not None:
        name, raw = chosen
        if raw.lower() in PROTOCOLS:
            protocol = raw.lower()
            values["protocol"] = protocol
    port = _legacy_port(env, protocol)
    values["jaeger_host"], values["jaeger_port"] = host, port
    if chosen is not None and protocol is None:
        name, raw = chosen
        used = GRPC_PROTOCOL if port == 4317 else HTTP_PROTOCOL
        envtools.report_bad_value(name, raw, used, f"expected one of {', '.join(PROTOCOLS)}", env)
    resolved_protocol = protocol or (GRPC_PROTOCOL if port == 4317 else HTTP_PROTOCOL)
    http = resolved_protocol == HTTP_PROTOCOL
    candidates: list[tuple[str, str, str]] = []  # (variable, raw, endpoint it gives)
    specific = _raw(env, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
    if specific is not None:
        candidates.append((OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, specific, specific))
    generic = _raw(env, OTEL_EXPORTER_OTLP_ENDPOINT)
    if generic is not None:
        derived = generic.rstrip("/") + TRACES_PATH if http else generic
        candidates.append((OTEL_EXPORTER_OTLP_ENDPOINT, generic, derived))
    bad: list[tuple[str, str]] = []
    for variable, raw, endpoint in candidates:
        if valid_endpoint(raw, scheme_required=http):
            values["endpoint"] = endpoint
            break
        bad.append((variable, raw))
    if bad:
        used = (
            values.get("endpoint")
            or TracingConfig(jaeger_host=host, jaeger_port=port, protocol=protocol).endpoint
        )
        for variable, raw in bad:
            envtools.report_bad_value(
                variable, raw, used, "expected a URL like http://host:port", env
            )
    return values


def _exporter_names(
    env: Mapping[str, str], variable: str, group: str
) -> tuple[tuple[str, ...] | None, list[str], str]:
    """(valid names or None when unset, unknown names, raw value)."""
    raw = _raw(env, variable)
    if raw is None:
        return None, [], ""
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if [name.lower() for name in names] == ["none"]:
        return (), [], raw
    known = components.installed(group) | {OTLP_EXPORTER}
    valid = tuple(dict.fromkeys(name for name in names if name in known))
    unknown = [name for name in names if name not in known]
    return valid, unknown, raw


def _exporter_settings(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    traces, unknown, raw = _exporter_names(
        env, OTEL_TRACES_EXPORTER, components.TRACES_EXPORTER_GROUP
    )
    if traces:
        values["exporters"] = traces
    elif traces == () and not unknown:
        values["exporters"] = ()
    if unknown:
        used = (
            traces
            or TracingConfig(
                jaeger_enabled=envtools.env_bool(legacy.JAEGER_ENABLED, True, env),
                console_export=envtools.env_bool(legacy.TRACING_CONSOLE_EXPORT, False, env),
            ).exporters
        )
        envtools.report_bad_value(
            OTEL_TRACES_EXPORTER, raw, ",".join(used or ("none",)), "unknown exporter name", env
        )
    for key, variable, group in (
        ("metrics_exporters", OTEL_METRICS_EXPORTER, components.METRICS_EXPORTER_GROUP),
        ("logs_exporters", OTEL_LOGS_EXPORTER, components.LOGS_EXPORTER_GROUP),
    ):
        names, unknown, raw = _exporter_names(env, variable, group)
        values[key] = names or ()
        if unknown:
            envtools.report_bad_value(
                variable, raw, ",".join(names or ("none",)), "unknown exporter name", env
            )
    return values


def _sampler_settings(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    rate_raw = _raw(env, legacy.TRACING_SAMPLING_RATE)
    if rate_raw is not None:
        values["sampling_rate"] = envtools.env_float(
            legacy.TRACING_SAMPLING_RATE, 1.0, minimum=0.0, maximum=1.0, environ=env
        )
    name = _raw(env, OTEL_TRACES_SAMPLER)
    if name is None:
        return values
    if name not in components.installed(components.SAMPLER_GROUP):
        used = "parentbased_traceidratio" if "sampling_rate" in values else DEFAULT_SAMPLER
        envtools.report_bad_value(OTEL_TRACES_SAMPLER, name, used, "unknown sampler name", env)
        return values
    values["sampler"] = name
    if name in RATIO_SAMPLERS:
        values["sampler_arg"] = envtools.env_float(
            OTEL_TRACES_SAMPLER_ARG, 1.0, minimum=0.0, maximum=1.0, environ=env
        )
    else:
        values["sampler_arg"] = _raw(env, OTEL_TRACES_SAMPLER_ARG)
    return values


def _batch_settings(env: Mapping[str, str]) -> dict[str, Any]:
    queue = envtools.env_int(OTEL_BSP_MAX_QUEUE_SIZE, 2048, minimum=1, environ=env)
    legacy_size = envtools.env_int(legacy.TRACING_MAX_BATCH_SIZE, 512, minimum=1, environ=env)
    size = envtools.env_int(OTEL_BSP_MAX_EXPORT_BATCH_SIZE, legacy_size, minimum=1, environ=env)
    if size > queue:
        chosen = _first_raw(env, OTEL_BSP_MAX_EXPORT_BATCH_SIZE, legacy.TRACING_MAX_BATCH_SIZE)
        variable, raw = chosen or ("max_batch_size", str(size))
        reason = f"larger than the queue size {queue}"
        envtools.report_bad_value(variable, raw, queue, reason, env)
        size = queue
    return {
        "max_queue_size": queue,
        "max_batch_size": size,
        "schedule_delay_millis": envtools.env_float(
            OTEL_BSP_SCHEDULE_DELAY, 5000.0, minimum=0, environ=env
        ),
        "export_timeout_millis": envtools.env_float(
            OTEL_BSP_EXPORT_TIMEOUT, 30000.0, minimum=0, environ=env
        ),
    }


def _headers(env: Mapping[str, str]) -> dict[str, str]:
    chosen = _first_raw(env, OTEL_EXPORTER_OTLP_TRACES_HEADERS, OTEL_EXPORTER_OTLP_HEADERS)
    if chosen is None:
        return {}
    variable, raw = chosen
    pairs, malformed = parse_key_values(raw)
    if malformed:
        used = ",".join(f"{key}=***" for key in pairs) or "no headers"
        envtools.report_bad_value(
            variable, redact_key_values(raw), used, "expected key=value pairs", env
        )
    return pairs


def _propagators(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = _raw(env, OTEL_PROPAGATORS)
    if raw is None:
        return DEFAULT_PROPAGATORS
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if "none" in (name.lower() for name in names):
        return ()
    known = components.installed(components.PROPAGATOR_GROUP)
    valid = tuple(dict.fromkeys(name for name in names if name in known))
    if len(valid) != len(names):
        used = valid or DEFAULT_PROPAGATORS
        envtools.report_bad_value(
            OTEL_PROPAGATORS, raw, ",".join(used), "unknown propagator name", env
        )
        return used
    return valid


def _disabled_instrumentations(env: Mapping[str, str]) -> frozenset[str]:
    disabled = set(envtools.env_list(OTEL_PYTHON_DISABLED_INSTRUMENTATIONS, env))
    for flag, entry_point in legacy.INSTRUMENT_FLAGS.items():
        if not envtools.env_bool(flag, True, env):
            disabled.add(entry_point)
    return frozenset(disabled)


def _span_limits(env: Mapping[str, str]) -> dict[str, int]:
    """SpanLimits arguments for the limit variables that are set but invalid (the SDK
    raises on those); valid ones are left for the SDK to read."""
    limits: dict[str, int] = {}
    for variable, (argument, default) in SPAN_LIMIT_VARIABLES.items():
        raw = _raw(env, variable)
        if raw is None:
            continue
        if raw.isdigit():
            continue
        used = "unlimited" if default < 0 else default
        envtools.report_bad_value(variable, raw, used, "expected a non-negative integer", env)
        limits[argument] = default
    return limits


_current: TracingConfig | None = None


def current_config(factory: Callable[[], TracingConfig] = TracingConfig.from_env) -> TracingConfig:
    """The process-wide configuration, built once (by the distro, the configurator or
    ``init_tracing``, whichever runs first)."""
    global _current
    if _current is None:
        _current = factory()
    return _current
