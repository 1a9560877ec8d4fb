"""The one loader: a declared setting's value from the environment, an explicit argument or
the configuration file, each checked by the same parser with the same warning.

A bad value never raises into the application (unless ``PODCAST_KG_OTEL_STRICT=true``) and
never turns telemetry off: it gives exactly one warning naming where it came from (the
variable, or the argument), the bad value and the value used instead, which is the next
level of the precedence (a lower-precedence variable, else the default).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from podcast_kg_otel_util import env as envtools
from podcast_kg_otel_util.failopen import log_once

from podcast_kg_otel.defaults import SPAN_LIMIT_VARIABLES
from podcast_kg_otel.parsing import valid_endpoint
from podcast_kg_otel.settings.setting import (
    BOOL,
    CHOICE,
    FLOAT,
    HOST,
    INT,
    PORT,
    TEXT,
    Setting,
)

#: The configuration file's own logger (``config_file``): its conflicts are reported there.
_file_logger = logging.getLogger("podcast_kg_otel.config_file")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class _Bad(Exception):
    """A value the setting's parser rejects; the message is the reason."""


def _as_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise _Bad("expected true or false")


def _as_number(setting: Setting, value: object, kind: type) -> float:
    if isinstance(value, bool):
        raise _Bad(f"expected {'an integer' if kind is int else 'a number'}")
    try:
        if isinstance(value, str):
            number = kind(value)
        elif isinstance(value, (int, float)):
            number = kind(value) if kind is float or float(value).is_integer() else None
            if number is None:
                raise ValueError(value)
        else:
            raise ValueError(value)
    except (TypeError, ValueError, OverflowError):
        raise _Bad(f"expected {'an integer' if kind is int else 'a number'}") from None
    problem = envtools.out_of_range(number, setting.minimum, setting.maximum)
    if problem:
        raise _Bad(problem)
    return number


def _as_port(value: object) -> int:
    try:
        port = int(value) if not isinstance(value, bool) else -1  # type: ignore[call-overload]
    except (TypeError, ValueError):
        port = -1
    if isinstance(value, float) and not value.is_integer():
        port = -1
    if not 0 < port < 65536:
        raise _Bad("expected a port 1..65535")
    return port


def _as_host(value: object) -> str:
    if (
        isinstance(value, str)
        and valid_endpoint(value, scheme_required=False)
        and "/" not in value
        and ":" not in value
    ):
        return value
    raise _Bad("expected a host name")


def parse(setting: Setting, value: object) -> Any:
    """``value`` (a string from the environment or a file, or a typed argument) in the
    variables' unit; raises ``_Bad`` with the reason."""
    kind = setting.kind
    if kind == BOOL:
        return _as_bool(value)
    if kind == INT:
        return int(_as_number(setting, value, int))
    if kind == FLOAT:
        return float(_as_number(setting, value, float))
    if kind == CHOICE:
        lowered = value.lower() if isinstance(value, str) else None
        if lowered in setting.choices:
            return lowered
        raise _Bad(f"expected one of {', '.join(setting.choices)}")
    if kind == PORT:
        return _as_port(value)
    if kind == HOST:
        return _as_host(value)
    if kind == TEXT:
        if isinstance(value, str):
            return value
        raise _Bad("expected text")
    raise TypeError(f"{setting.field} ({kind}) has a reader of its own")


def valid(setting: Setting, value: object) -> bool:
    """True when ``setting``'s parser takes ``value``."""
    try:
        parse(setting, value)
    except _Bad:
        return False
    return True


def checked(
    setting: Setting,
    source: str,
    value: object,
    fallback: Any,
    *,
    shown: object | None = None,
    environ: Mapping[str, str] | None = None,
) -> Any:
    """``value`` parsed, or ``fallback`` after one warning naming ``source`` (the variable
    or the argument), the value and what is used instead (``shown``, when it differs from
    ``fallback``: e.g. the port an unset ``JAEGER_PORT`` resolves to)."""
    try:
        return parse(setting, value)
    except _Bad as bad:
        used = shown if fallback is None and shown is not None else fallback
        envtools.report_bad_value(source, str(value), used, str(bad), environ)
        return fallback


def raw(env: Mapping[str, str], name: str) -> str | None:
    """The stripped value of ``name``; None when unset or blank."""
    value = env.get(name)
    return value.strip() if value is not None and value.strip() else None


def from_env(
    setting: Setting,
    env: Mapping[str, str],
    *,
    shown: object | None = None,
) -> Any:
    """The setting from its variables, in the variables' unit: each variable that is set
    is checked, from the lowest precedence up, a bad one falling back to what the levels
    below it gave; None-default settings stay None when no variable is set."""
    value = setting.default
    for variable in reversed(setting.variables):
        text = raw(env, variable)
        if text is None:
            continue
        fallback = setting.used_when_invalid if value is None else value
        value = checked(setting, variable, text, fallback, shown=shown, environ=env)
    return value


def is_set(setting: Setting, env: Mapping[str, str]) -> bool:
    return any(raw(env, variable) is not None for variable in setting.variables)


def argument(
    setting: Setting, name: str, value: object, fallback: Any, *, shown: object | None = None
) -> Any:
    """An explicit argument (``init_tracing(max_batch_size=0)``, a ``TracingConfig`` or
    ``RuntimeSettings`` field) checked by the variables' parser: a bad one gives the same
    one warning, naming the argument, and ``fallback``. In and out in the field's unit."""
    if value is None:
        return None
    scaled = value / setting.scale if setting.scale != 1.0 and _numeric(value) else value
    try:
        parsed = parse(setting, scaled)
    except _Bad as bad:
        used = shown if fallback is None and shown is not None else fallback
        envtools.report_bad_value(name, str(value), used, str(bad))
        return fallback
    if setting.scale != 1.0:
        return value  # as given: the check passed, and scaling back would round
    return parsed


def _numeric(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def quiet(setting: Setting, env: Mapping[str, str]) -> Any:
    """The setting from the first of its variables that is set and valid, without a
    warning (for a setting another one's fallback depends on, warned about later)."""
    for variable in setting.variables:
        text = raw(env, variable)
        if text is None:
            continue
        try:
            return parse(setting, text)
        except _Bad:
            continue
    return setting.default


def bad_span_limits(environ: Mapping[str, str]) -> dict[str, tuple[str, int]]:
    """The span-limit variables set to something other than a non-negative integer (the
    SDK raises on those), each warned about once: variable -> (``SpanLimits`` argument,
    the SDK default used instead)."""
    bad: dict[str, tuple[str, int]] = {}
    for variable, (argument, default) in SPAN_LIMIT_VARIABLES.items():
        text = raw(environ, variable)
        if text is None or text.isdigit():
            continue
        used = "unlimited" if default < 0 else default
        envtools.report_bad_value(variable, text, used, "expected a non-negative integer", environ)
        bad[variable] = (argument, default)
    return bad


def batch_within_queue(
    size: int, queue: int, source: str, value: object, environ: Mapping[str, str] | None = None
) -> int:
    """The export batch size, capped at the queue size with one warning naming ``source``
    (the SDK's batch processor raises on a batch larger than its queue)."""
    if size <= queue:
        return size
    reason = f"larger than the queue size {queue}"
    envtools.report_bad_value(source, str(value), queue, reason, environ)
    return queue


def from_file(
    setting: Setting,
    variable: str,
    values: Mapping[str, Any],
    env_value: Any,
    environ: Mapping[str, str],
    shown: object | None = None,
) -> Any:
    """The file's value of ``setting`` (variables' unit) checked by its parser, else
    ``env_value``; a variable set to something else gives one warning: the file wins."""
    key = setting.file_key
    if key is None or key not in values:
        return env_value
    source = f"{variable} distribution.podcast_kg_otel.{key}"
    fallback = setting.used_when_invalid if env_value is None else env_value
    value = checked(setting, source, values[key], fallback, shown=shown, environ=environ)
    overridden = [name for name in setting.variables if raw(environ, name) is not None]
    if overridden and value != env_value:
        names = ", ".join(overridden)
        log_once(
            _file_logger,
            f"config-file-setting-{key}",
            f"podcast-kg-otel: {source} and {names} both set {setting.name}: the file wins, "
            f"{names} ignored",
            exc_info=False,
        )
    return value
