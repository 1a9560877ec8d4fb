"""The effective configuration, each value with the variable that decided it.

No second table of settings and variables: the source of each value is found by
resolving the configuration again with one set variable removed; the fields that change
are that variable's. A field that no single removal changes but that differs from the
all-defaults configuration is decided by several variables that agree (an ``OTEL_*``
variable and its legacy one set to the same value); a field that differs from nothing is
a default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from podcast_kg_otel_util.env import STRICT_ENV, strict_mode

from podcast_kg_otel import config_file
from podcast_kg_otel.config import TracingConfig
from podcast_kg_otel.doctor.findings import (
    ERROR,
    INFO,
    WARNING,
    Problem,
    captured_warnings,
    muted,
)
from podcast_kg_otel.settings.declarations import configuration_variables

SECTION = "configuration"
_FILE_VARIABLES = (config_file.OTEL_CONFIG_FILE, config_file.OTEL_EXPERIMENTAL_CONFIG_FILE)
DEFAULT = "default"
#: Setting values never printed as they are (they carry credentials).
_SECRET_FIELDS = frozenset({"headers"})


def known_variables() -> tuple[str, ...]:
    """Every variable the configuration reads (its declarations), strict mode aside."""
    return tuple(name for name in configuration_variables() if name != STRICT_ENV)


def kind(variable: str) -> str:
    if variable.startswith("OTEL_"):
        return "OTEL_* variable"
    if variable.startswith("PODCAST_KG_OTEL_"):
        return "podcast-kg-otel variable"
    return "legacy variable"


def _flatten(config: TracingConfig) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if dataclasses.is_dataclass(value):
            for inner in dataclasses.fields(value):
                values[f"{field.name}.{inner.name}"] = getattr(value, inner.name)
        else:
            values[field.name] = value
    return values


def _resolve(env: Mapping[str, str]) -> dict[str, Any]:
    return _flatten(TracingConfig.from_env(env))


def printable(name: str, value: Any) -> Any:
    """A JSON-ready value; header values redacted."""
    if name in _SECRET_FIELDS and isinstance(value, Mapping):
        return {key: "***" for key in value}
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _changed(a: Mapping[str, Any], b: Mapping[str, Any]) -> set[str]:
    return {name for name in a if a[name] != b.get(name)}


def attribute_sources(
    env: Mapping[str, str], resolved: Mapping[str, Any]
) -> tuple[dict[str, list[str]], list[str]]:
    """(field -> the variables deciding it, set variables that decide no field)."""
    present = [name for name in known_variables() if env.get(name, "").strip()]
    with muted():
        alone = {
            name: _changed(resolved, _resolve({k: v for k, v in env.items() if k != name}))
            for name in present
        }
        base_env = {k: v for k, v in env.items() if k not in present}
        base = _resolve(base_env)
        redundant = _changed(resolved, base) - set().union(*alone.values())
        solo = {
            name: _changed(_resolve({**base_env, name: env[name]}), base)
            for name in present
            if redundant
        }
    sources: dict[str, list[str]] = {}
    for field in resolved:
        deciding = [name for name in present if field in alone[name]]
        if not deciding and field in redundant:
            deciding = [name for name in present if field in solo.get(name, ())]
        if deciding:
            sources[field] = deciding
    # The file also decides what no field shows (the SDK's providers): never "unused".
    used = {name for names in sources.values() for name in names} | set(_FILE_VARIABLES)
    return sources, [name for name in present if name not in used]


def _config_file(env: Mapping[str, str], sources: dict[str, list[str]]) -> dict[str, Any] | None:
    """What the file decides instead of our variables (``config_file``'s own lists and
    conflict warnings); the sources of the settings it overrides say so."""
    variable = next(
        (
            name
            for name in (config_file.OTEL_CONFIG_FILE, config_file.OTEL_EXPERIMENTAL_CONFIG_FILE)
            if env.get(name, "").strip()
        ),
        None,
    )
    if variable is None:
        return None
    path = env[variable].strip()
    model = config_file.load_file(path, variable)
    if model is None:
        return {"variable": variable, "path": path, "usable": False, "decides": []}
    decides: list[str] = []
    if getattr(model, "tracer_provider", None) is not None:
        decides.append("where spans go")
        ignored = set(config_file.EXPORT_VARIABLES)
        if getattr(model.tracer_provider, "sampler", None):
            decides.append("the sampler")
            ignored |= set(config_file.SAMPLER_VARIABLES)
    else:
        ignored = set()
    if "service.name" in config_file.file_resource_names(model):
        decides.append("service.name")
        ignored |= set(config_file.SERVICE_VARIABLES)
    with muted():
        config = TracingConfig.from_env(env)
    config_file.warn_conflicts(model, config, env, variable)
    overridden = [field for field, names in sources.items() if ignored.intersection(names)]
    for field in overridden:
        sources[field] = [variable, *sources[field]]
    return {
        "variable": variable,
        "path": path,
        "usable": True,
        "decides": decides,
        "overrides": overridden,
    }


def _setting(
    name: str, value: Any, sources: Mapping[str, list[str]], overridden: set[str]
) -> dict[str, Any]:
    if name in overridden:  # the file's value applies; the variables' is shown as ignored
        file_variable, *names = sources[name]
        return {
            "name": name,
            "value": None,
            "source": f"{file_variable}; {', '.join(names)} ignored",
            "kind": "config file",
            "ignored_value": printable(name, value),
        }
    return {
        "name": name,
        "value": printable(name, value),
        "source": ", ".join(sources.get(name, [DEFAULT])),
        "kind": kind(sources[name][0]) if name in sources else DEFAULT,
    }


def check_configuration(env: Mapping[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    """The effective configuration with sources, its warnings, and the problems."""
    strict = strict_mode(env)
    lenient = {k: v for k, v in env.items() if k != STRICT_ENV}  # every warning, not the first
    problems: list[Problem] = []
    with captured_warnings() as warnings:
        resolved = _resolve(lenient)
    sources, unused = attribute_sources(lenient, resolved)
    with captured_warnings() as file_warnings:
        file_info = _config_file(lenient, sources)
    overridden = set(file_info["overrides"]) if file_info and file_info["usable"] else set()
    settings = [_setting(name, value, sources, overridden) for name, value in resolved.items()]
    problems += [Problem(ERROR, SECTION, message) for message in warnings]
    # An unusable file is a bad value (the environment applies instead); a conflict is the
    # file winning, as documented.
    file_level = ERROR if file_info and not file_info["usable"] else WARNING
    problems += [Problem(file_level, SECTION, message) for message in file_warnings]
    if strict and warnings:
        problems.append(
            Problem(
                ERROR,
                SECTION,
                f"{STRICT_ENV}=true: the program would stop at start-up on the first of these",
            )
        )
    for name in unused:
        problems.append(
            Problem(
                INFO,
                SECTION,
                f"{name} is set but decides no tracing setting (shadowed by "
                "a variable that takes precedence, or read elsewhere)",
            )
        )
    payload = {
        "settings": settings,
        "warnings": [*warnings, *file_warnings],
        "unused_variables": unused,
        "config_file": file_info,
        "strict": strict,
    }
    return payload, problems
