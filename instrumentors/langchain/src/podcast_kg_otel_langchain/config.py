"""Settings: keyword arguments of `instrument()` win over environment variables."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from podcast_kg_otel_util.env import env_bool, env_float, env_int, report_bad_value

CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
SHOW_ALL_RUNS_ENV = "PODCAST_KG_OTEL_LANGCHAIN_SHOW_ALL_RUNS"
MAX_OPEN_RUNS_ENV = "PODCAST_KG_OTEL_LANGCHAIN_MAX_OPEN_RUNS"
RUN_TIMEOUT_ENV = "PODCAST_KG_OTEL_LANGCHAIN_RUN_TIMEOUT"
CONTENT_MAX_LENGTH_ENV = "PODCAST_KG_OTEL_LANGCHAIN_CONTENT_MAX_LENGTH"

# util-genai's enum and the older true/false spelling are both accepted.
_CONTENT_ON = {"true", "1", "yes", "on", "span_only", "span_and_event"}
_CONTENT_OFF = {"false", "0", "no", "off", "no_content", "event_only"}


@dataclass(frozen=True)
class Settings:
    capture_content: bool = False
    show_all_runs: bool = False
    max_open_runs: int = 10_000
    run_timeout_s: float = 3600.0
    content_max_length: int = 4096


def _content_setting(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in _CONTENT_ON:
        return True
    if lowered and lowered not in _CONTENT_OFF:
        report_bad_value(name, raw, False, "expected true, false or a GenAI mode")
    return False


def capture_content_from_env() -> bool:
    """Whether prompts and completions may be recorded (off unless opted in)."""
    return _content_setting(CAPTURE_CONTENT_ENV, os.environ.get(CAPTURE_CONTENT_ENV, ""))


def _capture_kwarg(value: Any) -> bool:
    return value if isinstance(value, bool) else _content_setting("capture_content", str(value))


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
            capture_content_from_env() if capture is None else _capture_kwarg(capture)
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
