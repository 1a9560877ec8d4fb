"""Settings: keyword arguments of `instrument()` win over environment variables."""

from __future__ import annotations

import os
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


def capture_content_from_env() -> bool:
    """Whether prompts and completions may be recorded (off unless opted in)."""
    raw = os.environ.get(CAPTURE_CONTENT_ENV, "").strip()
    if not raw:
        return False
    lowered = raw.lower()
    if lowered in _CONTENT_ON:
        return True
    if lowered not in _CONTENT_OFF:
        report_bad_value(CAPTURE_CONTENT_ENV, raw, False, "expected true, false or a GenAI mode")
    return False


def load(kwargs: dict[str, Any]) -> Settings:
    """Settings for one `instrument()` call."""
    defaults = Settings()

    def pick(key: str, from_env: Any) -> Any:
        value = kwargs.get(key)
        return from_env if value is None else value

    return Settings(
        capture_content=bool(pick("capture_content", capture_content_from_env())),
        show_all_runs=bool(
            pick("show_all_runs", env_bool(SHOW_ALL_RUNS_ENV, defaults.show_all_runs))
        ),
        max_open_runs=int(
            pick(
                "max_open_runs",
                env_int(MAX_OPEN_RUNS_ENV, defaults.max_open_runs, minimum=1),
            )
        ),
        run_timeout_s=float(
            pick(
                "run_timeout",
                env_float(RUN_TIMEOUT_ENV, defaults.run_timeout_s, minimum=0.001),
            )
        ),
        content_max_length=int(
            pick(
                "content_max_length",
                env_int(CONTENT_MAX_LENGTH_ENV, defaults.content_max_length, minimum=0),
            )
        ),
    )
