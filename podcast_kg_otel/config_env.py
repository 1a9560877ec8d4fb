"""Reading `TracingConfig`'s fields from the environment: each group of settings from its
standard ``OTEL_*`` variables first, then the tracing guide's legacy ones. A bad value gives
exactly one warning (variable, bad value, value used) and falls back to the next level."""

from __future__ import annotations

import logging
from collections.abc import Mapping
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
    OTEL_BSP_EXPORT_TIMEOUT,
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
    OTEL_BSP_MAX_QUEUE_SIZE,
    OTEL_BSP_SCHEDULE_DELAY,
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
    OTEL_RESOURCE_ATTRIBUTES,
    OTEL_SDK_DISABLED,
    OTEL_SERVICE_NAME,
    OTEL_TRACES_SAMPLER,
    OTEL_TRACES_SAMPLER_ARG,
)
from podcast_kg_otel_util import env as envtools

from podcast_kg_otel import components
from podcast_kg_otel import environment_variables as legacy
from podcast_kg_otel.defaults import (
    COMPRESSIONS,
    DEFAULT_ENVIRONMENT,
    DEFAULT_HOST,
    DEFAULT_PORTS,
    DEFAULT_PROPAGATORS,
    DEFAULT_SAMPLER,
    DEFAULT_SERVICE_NAME,
    DEFAULT_SERVICE_VERSION,
    HTTP_PROTOCOL,
    OTLP_EXPORTER,
    PROTOCOLS,
    RATIO_SAMPLERS,
    REMOTE_SAMPLERS,
    SPAN_LIMIT_VARIABLES,
    TRACES_PATH,
    legacy_endpoint,
    legacy_exporters,
    legacy_protocol,
)
from podcast_kg_otel.parsing import parse_key_values, redact_key_values, valid_endpoint
from podcast_kg_otel.runtime import RuntimeSettings

_logger = logging.getLogger("podcast_kg_otel.config")
_MIN_TIMEOUT = 0.001  # seconds


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


def settings_from_env(env: Mapping[str, str]) -> dict[str, Any]:
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
    # A zero timeout fails every export (the HTTP exporter rejects it outright).
    timeout_default = envtools.env_float(
        OTEL_EXPORTER_OTLP_TIMEOUT, 10.0, minimum=_MIN_TIMEOUT, environ=env
    )
    values["timeout"] = envtools.env_float(
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, timeout_default, minimum=_MIN_TIMEOUT, environ=env
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
        used = legacy_protocol(port)
        envtools.report_bad_value(name, raw, used, f"expected one of {', '.join(PROTOCOLS)}", env)
    resolved_protocol = protocol or legacy_protocol(port)
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
        used = values.get("endpoint") or legacy_endpoint(
            host, port, protocol or legacy_protocol(port)
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
        used = traces or legacy_exporters(
            envtools.env_bool(legacy.JAEGER_ENABLED, True, env),
            envtools.env_bool(legacy.TRACING_CONSOLE_EXPORT, False, env),
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
        if envtools.env_bool(legacy.PODCAST_KG_OTEL_REMOTE_SAMPLING, False, env):
            # TRACING_SAMPLING_RATE stays the rate until Jaeger's first strategy arrives.
            values["sampler"] = "parentbased_jaeger_remote"
            values["sampler_arg"] = _remote_sampler_arg(env)
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
    elif name in REMOTE_SAMPLERS:
        values["sampler_arg"] = _remote_sampler_arg(env)
    else:
        values["sampler_arg"] = _raw(env, OTEL_TRACES_SAMPLER_ARG)
    return values


def _remote_sampler_arg(env: Mapping[str, str]) -> str | None:
    """The jaeger_remote argument, checked now so that a bad entry is reported at start-up
    (a strict-mode error stops it) rather than when the sampler is built."""
    from podcast_kg_otel.remote_sampling import settings_from_arg

    raw = _raw(env, OTEL_TRACES_SAMPLER_ARG)
    settings_from_arg(raw, env)
    return raw


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
        # The SDK's batch processor raises on a delay of 0 (no provider at all).
        "schedule_delay_millis": envtools.env_float(
            OTEL_BSP_SCHEDULE_DELAY, 5000.0, minimum=1, environ=env
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
