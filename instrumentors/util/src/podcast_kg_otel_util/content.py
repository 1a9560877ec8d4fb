"""Opt-in content capture: size caps so captured text never grows without bound."""

from __future__ import annotations

TRUNCATION_MARK = "…[truncated]"


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, marked when cut."""
    if len(text) <= limit:
        return text
    if limit <= len(TRUNCATION_MARK):
        return text[: max(limit, 0)]
    return text[: limit - len(TRUNCATION_MARK)] + TRUNCATION_MARK
