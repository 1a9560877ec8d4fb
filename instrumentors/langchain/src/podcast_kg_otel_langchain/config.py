"""Settings: keyword arguments of `instrument()` win over environment variables."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from podcast_kg_otel_util.content import capture_content_from_env, capture_enabled
from podcast_kg_otel_util.env import env_bool, env_float, env_int, report_bad_value

SHOW_ALL_RUNS_ENV = "PODCAST_KG_OTEL_LANGCHAIN_SHOW_ALL_RUNS"
MAX_OPEN_RUNS_ENV = "PODCAST_KG_OTEL_LANGCHAIN_MAX_OPEN_RUNS"
RUN_TIMEOUT_ENV = "PODCAST_KG_OTEL_LANGCHAIN_RUN_TIMEOUT"
CONTENT_MAX_LENGTH_ENV = "PODCAST_KG_OTEL_LANGCHAIN_CONTENT_MAX_LENGTH"


@dataclass(frozen=True)
class Settings:
    capture_content: bool = False
    show_all_runs: bool = False
    max_open_runs: int = 10_000
    run_timeout_s: float = 3600.0
    content_max_length: int = 4096


def _checked(
    kwargs: dict[str, Any], key: str, read: Callable[..., Any], fallback: Any, **bounds: Any
) -> Any:
    """The keyword argument `key` checked like its environment variable: a bad value (the
    string "false", a zero cap, text for a number) warns and keeps `fallback`, never raises."""
    value = kwargs.get(key)
    if value is None:
        return fallback
    if isinstance(value, bool) and read is not env_bool:
        report_bad_value(key, str(value), fallback, "expected a number")
        return fallback
    return read(key, fallback, environ={**os.environ, key: str(value)}, **bounds)


def load(kwargs: dict[str, Any]) -> Settings:
    """Settings for one `instrument()` call."""
    defaults = Settings()
    capture = kwargs.get("capture_content")
    return Settings(
        capture_content=(
            capture_content_from_env()
            if capture is None
            else capture_enabled(capture, "capture_content")
        ),
        show_all_runs=_checked(
            kwargs,
            "show_all_runs",
            env_bool,
            env_bool(SHOW_ALL_RUNS_ENV, defaults.show_all_runs),
        ),
        max_open_runs=_checked(
            kwargs,
            "max_open_runs",
            env_int,
            env_int(MAX_OPEN_RUNS_ENV, defaults.max_open_runs, minimum=1),
            minimum=1,
        ),
        run_timeout_s=_checked(
            kwargs,
            "run_timeout",
            env_float,
            env_float(RUN_TIMEOUT_ENV, defaults.run_timeout_s, minimum=0.001),
            minimum=0.001,
        ),
        content_max_length=_checked(
            kwargs,
            "content_max_length",
            env_int,
            env_int(CONTENT_MAX_LENGTH_ENV, defaults.content_max_length, minimum=0),
            minimum=0,
        ),
    )
