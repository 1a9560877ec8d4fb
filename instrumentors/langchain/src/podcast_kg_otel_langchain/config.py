"""Settings: keyword arguments of `instrument()` win over environment variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from podcast_kg_otel_util.content import capture_option
from podcast_kg_otel_util.options import option_bool, option_float, option_int

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


def load(kwargs: Mapping[str, Any]) -> Settings:
    """Settings for one `instrument()` call (a bad value warns and falls back, see
    podcast_kg_otel_util.options)."""
    defaults = Settings()
    return Settings(
        capture_content=capture_option(kwargs.get("capture_content"), "capture_content"),
        show_all_runs=option_bool(
            kwargs, "show_all_runs", SHOW_ALL_RUNS_ENV, defaults.show_all_runs
        ),
        max_open_runs=option_int(
            kwargs, "max_open_runs", MAX_OPEN_RUNS_ENV, defaults.max_open_runs, minimum=1
        ),
        run_timeout_s=option_float(
            kwargs, "run_timeout", RUN_TIMEOUT_ENV, defaults.run_timeout_s, minimum=0.001
        ),
        content_max_length=option_int(
            kwargs,
            "content_max_length",
            CONTENT_MAX_LENGTH_ENV,
            defaults.content_max_length,
            minimum=0,
        ),
    )
