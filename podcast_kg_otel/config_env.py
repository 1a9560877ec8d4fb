"""Reading `TracingConfig`'s fields from the environment: each declared setting through
the loader (``settings.loader``), standard ``OTEL_*`` variables first, then the tracing
guide's legacy ones; the settings whose variables combine (endpoint, exporters, sampler,
headers, propagators, resource attributes and detectors, instrumentations) by a function
each. A bad value gives exactly one warning (variable, bad value, value used) and falls
back to the next level."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podcast_kg_otel_util import env as envtools

from podcast_kg_otel import components
from podcast_kg_otel.defaults import (
    DEFAULT_HOST,
    DEFAULT_PORTS,
    DEFAULT_PROPAGATORS,
    DEFAULT_RESOURCE_DETECTORS,
    DEFAULT_SAMPLER,
    HTTP_PROTOCOL,
    OTLP_EXPORTER,
    RATIO_SAMPLERS,
    REMOTE_SAMPLERS,
    SDK_RESOURCE_DETECTORS,
    TRACES_PATH,
    legacy_endpoint,
    legacy_exporters,
    legacy_protocol,
)
from podcast_kg_otel.environment_variables import INSTRUMENT_FLAGS
from podcast_kg_otel.parsing import parse_key_values, redact_key_values, valid_endpoint
from podcast_kg_otel.settings import loader
from podcast_kg_otel.settings.declarations import (
    COMPOSITE,
    ELSEWHERE,
    RATIO_SAMPLER_ARG,
    RESOURCE,
    SETTINGS,
    declared,
    declared_variable,
)

_raw = loader.raw
#: Fields read together by ``_endpoint_settings`` (each one's fallback depends on another).
_ENDPOINT_FIELDS = ("jaeger_host", "jaeger_port", "protocol")


def _first_raw(env: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    """The first of `names` that is set, as (name, value)."""
    for name in names:
        value = _raw(env, name)
        if value is not None:
            return name, value
    return None


def _declared_value(name: str, env: Mapping[str, str]) -> Any:
    """A declared setting read where it is used (``field`` empty), by its variable."""
    return loader.from_env(declared_variable(name), env)


def settings_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Every setting the environment provides, validated; absent keys mean "not set"."""
    values: dict[str, Any] = {}
    resource = _resource_attributes(env)
    values["resource_attributes"] = resource
    # A resource attribute key is one level of a setting's precedence (service.name).
    lookup = {**env, **{f"{RESOURCE}[{key}]": value for key, value in resource.items()}}
    for setting in SETTINGS:
        if (
            not setting.field
            or setting.runtime
            or setting.kind in (COMPOSITE, ELSEWHERE)
            or setting.field in _ENDPOINT_FIELDS
        ):
            continue
        values[setting.field] = setting.to_field(loader.from_env(setting, lookup))
    values.update(_endpoint_settings(env))
    values.update(_exporter_settings(env, values))
    values.update(_sampler_settings(env, values["sampling_rate"]))
    values["max_batch_size"] = _batch_size(env, values["max_batch_size"], values["max_queue_size"])
    values["headers"] = _headers(env)
    values["propagators"] = _propagators(env)
    values["resource_detectors"] = _resource_detectors(env)
    values["disabled_instrumentations"] = _disabled_instrumentations(env)
    values["span_limits"] = _span_limits(env)
    return values


def _resource_attributes(env: Mapping[str, str]) -> dict[str, str]:
    raw = _raw(env, RESOURCE)
    if raw is None:
        return {}
    pairs, malformed = parse_key_values(raw)
    if malformed:
        used = ",".join(f"{key}={value}" for key, value in pairs.items())
        envtools.report_bad_value(RESOURCE, raw, used, "expected key=value pairs", env)
    return pairs


def _endpoint_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """protocol, endpoint, jaeger_host and jaeger_port."""
    values: dict[str, Any] = {}
    protocol_setting = declared("protocol")
    host = loader.from_env(declared("jaeger_host"), env, shown=DEFAULT_HOST)
    valid_protocol = loader.quiet(protocol_setting, env)
    shown_port = DEFAULT_PORTS[valid_protocol or HTTP_PROTOCOL]
    port = loader.from_env(declared("jaeger_port"), env, shown=shown_port)
    values["jaeger_host"], values["jaeger_port"] = host, port
    protocol = loader.from_env(protocol_setting, env, shown=legacy_protocol(port))
    if protocol is not None:
        values["protocol"] = protocol
    resolved_protocol = protocol or legacy_protocol(port)
    http = resolved_protocol == HTTP_PROTOCOL
    candidates: list[tuple[str, str, str]] = []  # (variable, raw, endpoint it gives)
    traces_variable, base_variable = declared("endpoint").variables
    specific = _raw(env, traces_variable)
    if specific is not None:
        candidates.append((traces_variable, specific, specific))
    generic = _raw(env, base_variable)
    if generic is not None:
        derived = generic.rstrip("/") + TRACES_PATH if http else generic
        candidates.append((base_variable, generic, derived))
    bad: list[tuple[str, str]] = []
    for variable, raw, endpoint in candidates:
        if valid_endpoint(raw, scheme_required=http):
            values["endpoint"] = endpoint
            break
        bad.append((variable, raw))
    if bad:
        used = values.get("endpoint") or legacy_endpoint(host, port, resolved_protocol)
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
    names = envtools.split_list(raw)
    if [name.lower() for name in names] == ["none"]:
        return (), [], raw
    known = components.installed(group) | {OTLP_EXPORTER}
    valid = tuple(dict.fromkeys(name for name in names if name in known))
    unknown = [name for name in names if name not in known]
    return valid, unknown, raw


def _exporter_settings(env: Mapping[str, str], legacy: Mapping[str, Any]) -> dict[str, Any]:
    """exporters, metrics_exporters and logs_exporters; ``legacy`` holds the resolved
    ``jaeger_enabled`` and ``console_export`` (the traces fallback)."""
    values: dict[str, Any] = {}
    (variable,) = declared("exporters").variables
    traces, unknown, raw = _exporter_names(env, variable, components.TRACES_EXPORTER_GROUP)
    if traces:
        values["exporters"] = traces
    elif traces == () and not unknown:
        values["exporters"] = ()
    if unknown:
        used = traces or legacy_exporters(legacy["jaeger_enabled"], legacy["console_export"])
        envtools.report_bad_value(
            variable, raw, ",".join(used or ("none",)), "unknown exporter name", env
        )
    for key, group in (
        ("metrics_exporters", components.METRICS_EXPORTER_GROUP),
        ("logs_exporters", components.LOGS_EXPORTER_GROUP),
    ):
        (variable,) = declared(key).variables
        names, unknown, raw = _exporter_names(env, variable, group)
        values[key] = names or ()
        if unknown:
            envtools.report_bad_value(
                variable, raw, ",".join(names or ("none",)), "unknown exporter name", env
            )
    return values


def _sampler_settings(env: Mapping[str, str], sampling_rate: float | None) -> dict[str, Any]:
    """sampler and sampler_arg (``sampling_rate``, the legacy rate, already resolved)."""
    values: dict[str, Any] = {}
    (sampler_variable,) = declared("sampler").variables
    name = _raw(env, sampler_variable)
    if name is None:
        if _declared_value("PODCAST_KG_OTEL_REMOTE_SAMPLING", env):
            # TRACING_SAMPLING_RATE stays the rate until Jaeger's first strategy arrives.
            values["sampler"] = "parentbased_jaeger_remote"
            values["sampler_arg"] = _remote_sampler_arg(env)
        return values
    if name not in components.installed(components.SAMPLER_GROUP):
        used = "parentbased_traceidratio" if sampling_rate is not None else DEFAULT_SAMPLER
        envtools.report_bad_value(sampler_variable, name, used, "unknown sampler name", env)
        return values
    values["sampler"] = name
    if name in RATIO_SAMPLERS:
        values["sampler_arg"] = loader.from_env(RATIO_SAMPLER_ARG, env)
    elif name in REMOTE_SAMPLERS:
        values["sampler_arg"] = _remote_sampler_arg(env)
    else:
        values["sampler_arg"] = _raw(env, RATIO_SAMPLER_ARG.variables[0])
    return values


def _remote_sampler_arg(env: Mapping[str, str]) -> str | None:
    """The jaeger_remote argument, checked now so that a bad entry is reported at start-up
    (a strict-mode error stops it) rather than when the sampler is built."""
    from podcast_kg_otel.remote_sampling import settings_from_arg

    raw = _raw(env, RATIO_SAMPLER_ARG.variables[0])
    settings_from_arg(raw, env)
    return raw


def _batch_size(env: Mapping[str, str], size: int, queue: int) -> int:
    """The export batch size within the queue (the variable that set it is named)."""
    variables = declared("max_batch_size").variables
    variable, raw = _first_raw(env, *variables) or ("max_batch_size", str(size))
    return loader.batch_within_queue(size, queue, variable, raw, env)


def _headers(env: Mapping[str, str]) -> dict[str, str]:
    chosen = _first_raw(env, *declared("headers").variables)
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
    (variable,) = declared("propagators").variables
    raw = _raw(env, variable)
    if raw is None:
        return DEFAULT_PROPAGATORS
    names = envtools.split_list(raw)
    if "none" in (name.lower() for name in names):
        return ()
    known = components.installed(components.PROPAGATOR_GROUP)
    valid = tuple(dict.fromkeys(name for name in names if name in known))
    if len(valid) != len(names):
        used = valid or DEFAULT_PROPAGATORS
        envtools.report_bad_value(variable, raw, ",".join(used), "unknown propagator name", env)
        return used
    return valid


def _resource_detectors(env: Mapping[str, str]) -> tuple[str, ...]:
    """The detectors named, in order, without the ones always applied; an unknown name
    is left out with one warning (none known: the default)."""
    (variable,) = declared("resource_detectors").variables
    raw = _raw(env, variable)
    if raw is None:
        return DEFAULT_RESOURCE_DETECTORS
    names = list(dict.fromkeys(envtools.split_list(raw)))
    group = components.RESOURCE_DETECTOR_GROUP
    valid, unknown = components.split_known(group, names, (*SDK_RESOURCE_DETECTORS, "*"))
    if "*" in valid:  # every installed detector, where the star is
        at = valid.index("*")
        valid[at : at + 1] = sorted(components.installed(group) - set(valid))
    chosen = tuple(name for name in valid if name not in ("otel", "service_instance"))
    if unknown:
        used = chosen if chosen or "otel" in valid else DEFAULT_RESOURCE_DETECTORS
        envtools.report_bad_value(
            variable, raw, ",".join(used) or "otel", "unknown resource detector name", env
        )
        return used
    return chosen


def _disabled_instrumentations(env: Mapping[str, str]) -> frozenset[str]:
    (variable,) = declared("disabled_instrumentations").variables
    disabled = set(envtools.env_list(variable, env))
    for flag, entry_point in INSTRUMENT_FLAGS.items():
        if not _declared_value(flag, env):
            disabled.add(entry_point)
    return frozenset(disabled)


def _span_limits(env: Mapping[str, str]) -> dict[str, int]:
    """SpanLimits arguments for the limit variables that are set but invalid (the SDK
    raises on those); valid ones are left for the SDK to read."""
    return dict(loader.bad_span_limits(env).values())
