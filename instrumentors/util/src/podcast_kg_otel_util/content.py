"""Opt-in content capture: size caps so captured text never grows without bound."""

from __future__ import annotations

TRUNCATION_MARK = "…[truncated]"


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, marked when cut."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    keep = max(0, limit - len(TRUNCATION_MARK))
    return text[:keep] + TRUNCATION_MARK[: limit - keep]
