"""Settings: `instrument()` keyword arguments first, then environment variables.

Transcripts are private by default: captured only when the user opts in, and capped.
"""

from __future__ import annotations

from dataclasses import dataclass

from podcast_kg_otel_util.content import capture_content_from_env, capture_enabled
from podcast_kg_otel_util.env import env_int, report_bad_value

MAX_CHARS_ENV = "PODCAST_KG_OTEL_WHISPER_TRANSCRIPT_MAX_CHARS"
DEFAULT_MAX_CHARS = 4096


@dataclass(frozen=True)
class Settings:
    capture_transcript: bool = False
    transcript_max_chars: int = DEFAULT_MAX_CHARS


def load_settings(
    capture_transcript: bool | None = None,
    transcript_max_chars: int | None = None,
) -> Settings:
    """Resolve the settings; a bad value warns once and falls back, never raises."""
    if capture_transcript is None:
        capture_transcript = capture_content_from_env()
    else:
        capture_transcript = capture_enabled(capture_transcript, "capture_transcript")
    if transcript_max_chars is None:
        transcript_max_chars = env_int(MAX_CHARS_ENV, DEFAULT_MAX_CHARS, minimum=1)
    elif not isinstance(transcript_max_chars, int) or transcript_max_chars < 1:
        report_bad_value(
            "transcript_max_chars",
            repr(transcript_max_chars),
            DEFAULT_MAX_CHARS,
            "expected int >= 1",
        )
        transcript_max_chars = DEFAULT_MAX_CHARS
    return Settings(bool(capture_transcript), transcript_max_chars)
