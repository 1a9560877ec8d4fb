"""Opt-in content capture: one reading of the GenAI capture setting for every plugin, and
size caps so captured text never grows without bound."""

from __future__ import annotations

import os

from podcast_kg_otel_util.env import report_bad_value

CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
TRUNCATION_MARK = "…[truncated]"

# The GenAI capture modes and the older boolean spellings; only span-carrying modes capture.
_CAPTURE_ON = {"true", "1", "yes", "on", "span_only", "span_and_event"}
_CAPTURE_OFF = {"false", "0", "no", "off", "no_content", "event_only"}


def capture_enabled(value: object, name: str = CAPTURE_CONTENT_ENV) -> bool:
    """Whether `value` (a bool, or the setting's words, e.g. from an `instrument()`
    argument) opts in to content on spans. Anything else warns once and stays off."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _CAPTURE_ON:
            return True
        if not lowered or lowered in _CAPTURE_OFF:
            return False
    report_bad_value(name, str(value), "false", "expected true, false or a GenAI capture mode")
    return False


def capture_content_from_env() -> bool:
    """``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``: off unless opted in."""
    return capture_enabled(os.environ.get(CAPTURE_CONTENT_ENV, ""))


def capture_option(value: object, name: str) -> bool:
    """An ``instrument()`` content-capture argument; ``None`` defers to the environment."""
    return capture_content_from_env() if value is None else capture_enabled(value, name)


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, marked when cut."""
    if len(text) <= limit:
        return text
    if limit <= len(TRUNCATION_MARK):
        return text[: max(limit, 0)]
    return text[: limit - len(TRUNCATION_MARK)] + TRUNCATION_MARK
