"""Settings: `instrument()` keyword arguments first, then environment variables.

Transcripts are private by default: captured only when the user opts in, and capped.
"""

from __future__ import annotations

from dataclasses import dataclass

from podcast_kg_otel_util.env import env_choice, env_int, report_bad_value

CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
MAX_CHARS_ENV = "PODCAST_KG_OTEL_WHISPER_TRANSCRIPT_MAX_CHARS"
DEFAULT_MAX_CHARS = 4096

# Legacy booleans and the GenAI enum; only the span-carrying modes capture here.
_CAPTURE_CHOICES = ("true", "false", "no_content", "span_only", "event_only", "span_and_event")
_CAPTURING = {"true", "span_only", "span_and_event"}


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
        capture_transcript = (
            env_choice(CAPTURE_CONTENT_ENV, "false", _CAPTURE_CHOICES) in _CAPTURING
        )
    elif not isinstance(capture_transcript, bool):
        capture_transcript = _capture_argument(capture_transcript)
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


def _capture_argument(value: object) -> bool:
    """A non-bool `capture_transcript` ("false" from a config file is not truthy):
    the environment variable's words, anything else warns and keeps transcripts out."""
    if isinstance(value, str) and value.strip().lower() in _CAPTURE_CHOICES:
        return value.strip().lower() in _CAPTURING
    report_bad_value(
        "capture_transcript", repr(value), False, f"expected a bool or one of {_CAPTURE_CHOICES}"
    )
    return False
