"""``instrument()`` keyword arguments, read the same way by every plugin.

An option is the keyword argument when one is given, else its environment variable, else
the default. A bad keyword value is treated exactly like a bad environment value: one
warning that names the argument, the value and what is used instead (the environment's
value or the default), never an exception, except under strict mode (see ``env``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, TypeVar

from podcast_kg_otel_util.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    report_bad_value,
)

T = TypeVar("T")


def _checked(
    key: str, value: Any, fallback: T, read: Callable[..., T], reason: str, **bounds: Any
) -> T:
    """``value`` checked by the environment parser ``read``, under the argument's name."""
    if value is None:
        return fallback
    if isinstance(value, bool) and read is not env_bool:  # True is an int, not a number
        report_bad_value(key, str(value), fallback, reason)
        return fallback
    return read(key, fallback, environ={**os.environ, key: str(value)}, **bounds)


def option_bool(kwargs: Mapping[str, Any], key: str, env_name: str, default: bool) -> bool:
    fallback = env_bool(env_name, default)
    value = kwargs.get(key)
    if isinstance(value, bool):
        return value
    return _checked(key, value, fallback, env_bool, "expected true or false")


def option_int(
    kwargs: Mapping[str, Any],
    key: str,
    env_name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    bounds = {"minimum": minimum, "maximum": maximum}
    fallback = env_int(env_name, default, **bounds)
    return _checked(key, kwargs.get(key), fallback, env_int, "expected an integer", **bounds)


def option_float(
    kwargs: Mapping[str, Any],
    key: str,
    env_name: str,
    default: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    bounds = {"minimum": minimum, "maximum": maximum}
    fallback = env_float(env_name, default, **bounds)
    return _checked(key, kwargs.get(key), fallback, env_float, "expected a number", **bounds)


def option_choice(
    kwargs: Mapping[str, Any], key: str, env_name: str, default: str, choices: Collection[str]
) -> str:
    """One of ``choices`` (case-insensitive)."""
    fallback = env_choice(env_name, default, choices)
    value = kwargs.get(key)
    if value is None:
        return fallback
    if not isinstance(value, str):
        report_bad_value(key, str(value), fallback, f"expected one of {', '.join(choices)}")
        return fallback
    return env_choice(key, fallback, choices, environ={**os.environ, key: value})


def option_names(kwargs: Mapping[str, Any], key: str, env_name: str) -> frozenset[str]:
    """A set of names: a comma-separated string or any iterable of names."""
    value = kwargs.get(key)
    if value is None:
        return frozenset(env_list(env_name))
    if isinstance(value, str):
        return frozenset(env_list(key, {key: value}))
    if isinstance(value, Iterable):
        return frozenset(str(name).strip() for name in value if str(name).strip())
    fallback = frozenset(env_list(env_name))
    report_bad_value(key, str(value), sorted(fallback), "expected a list of names")
    return fallback
