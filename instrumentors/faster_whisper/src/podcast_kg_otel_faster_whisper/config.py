"""Settings: `instrument()` keyword arguments first, then environment variables.

Transcripts are private by default: captured only when the user opts in, and capped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from podcast_kg_otel_util.content import capture_option
from podcast_kg_otel_util.options import option_int

MAX_CHARS_ENV = "PODCAST_KG_OTEL_WHISPER_TRANSCRIPT_MAX_CHARS"
DEFAULT_MAX_CHARS = 4096


@dataclass(frozen=True)
class Settings:
    capture_transcript: bool = False
    transcript_max_chars: int = DEFAULT_MAX_CHARS


def load_settings(kwargs: Mapping[str, Any]) -> Settings:
    """Resolve the settings; a bad value warns once and falls back, never raises."""
    return Settings(
        capture_option(kwargs.get("capture_transcript"), "capture_transcript"),
        option_int(kwargs, "transcript_max_chars", MAX_CHARS_ENV, DEFAULT_MAX_CHARS, minimum=1),
    )
