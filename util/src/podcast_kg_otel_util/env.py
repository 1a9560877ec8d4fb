"""Validated settings from environment variables.

A bad value never raises into the application and never turns telemetry off: it gives
exactly one warning that names the variable, the bad value and what is used instead.
With PODCAST_KG_OTEL_STRICT=true the same problem raises ConfigurationError, for CI.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Collection, Mapping
from typing import TypeVar

STRICT_ENV = "PODCAST_KG_OTEL_STRICT"

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
# Its own logger, not the distro's: the plugins warn through it under the stock distro too.
_logger = logging.getLogger(__name__)
_warned: set[tuple[str, str]] = set()
_lock = threading.Lock()

T = TypeVar("T")


class ConfigurationError(ValueError):
    """A bad setting under strict mode."""


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def strict_mode(environ: Mapping[str, str] | None = None) -> bool:
    raw = _environ(environ).get(STRICT_ENV, "").strip().lower()
    return raw in _TRUE


def report_bad_value(
    name: str,
    raw: str,
    used: object,
    reason: str = "",
    environ: Mapping[str, str] | None = None,
) -> None:
    """Warn once about `name=raw` (or raise under strict mode)."""
    detail = f" ({reason})" if reason else ""
    message = f"{name}={raw!r} is invalid{detail}; using {used!r} instead"
    if strict_mode(environ):
        raise ConfigurationError(message)
    with _lock:
        if (name, raw) in _warned:
            return
        _warned.add((name, raw))
    _logger.warning(message)


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    raw = _environ(environ).get(name)
    if raw is None or not raw.strip():
        return None
    return raw.strip()


def env_bool(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    raw = _raw(name, environ)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    report_bad_value(name, raw, default, "expected true or false", environ)
    return default


def _number(
    name: str,
    default: T,
    kind: type,
    minimum: float | None,
    maximum: float | None,
    environ: Mapping[str, str] | None,
) -> T:
    raw = _raw(name, environ)
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        report_bad_value(
            name, raw, default, f"expected {'an integer' if kind is int else 'a number'}", environ
        )
        return default
    problem = out_of_range(value, minimum, maximum)
    if problem:
        report_bad_value(name, raw, default, problem, environ)
        return default
    return value


def out_of_range(value: float, minimum: float | None, maximum: float | None) -> str:
    """Why ``value`` is not usable within the bounds (``""`` when it is): the one range
    check of util's readers and the distro's settings loader."""
    if (
        value != value  # NaN
        or value == float("inf")  # threading waits raise OverflowError on it
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        return f"expected a value {bounds}"
    return ""


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    return _number(name, default, int, minimum, maximum, environ)


def env_float(
    name: str,
    default: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> float:
    return _number(name, default, float, minimum, maximum, environ)


def split_list(text: str) -> list[str]:
    """The items of a comma-separated list, stripped; blanks are dropped."""
    return [item.strip() for item in text.split(",") if item.strip()]


def env_list(name: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    raw = _raw(name, environ)
    return [] if raw is None else split_list(raw)


def env_choice(
    name: str,
    default: str,
    choices: Collection[str],
    environ: Mapping[str, str] | None = None,
) -> str:
    """One of `choices` (case-insensitive)."""
    raw = _raw(name, environ)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in choices:
        return lowered
    report_bad_value(name, raw, default, f"expected one of {', '.join(sorted(choices))}", environ)
    return default
