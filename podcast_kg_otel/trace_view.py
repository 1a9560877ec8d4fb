"""Traces as terminal text: the span tree with durations, status, key attributes and the
error where it happened (``podcast-kg-otel traces`` and ``make demo`` print the same)."""

from __future__ import annotations

import textwrap
import urllib.request

from podcast_kg_otel.jaeger_query import Span, Trace

# Attributes worth a glance, in the order shown (span names already carry the operation,
# model and query summary); everything else is one click away in the query API.
KEY_ATTRIBUTES = (
    "http.request.method",
    "http.method",
    "url.full",
    "http.url",
    "http.response.status_code",
    "http.status_code",
    "db.system.name",
    "db.system",
    "db.response.status_code",
    "neo4j.transaction.attempts",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "faster_whisper.audio.duration",
    "faster_whisper.segments.count",
    "faster_whisper.realtime_factor",
    "error.type",
)
MAX_VALUE_CHARS = 60


def _short(value: object) -> str:
    text = f"{value:.3g}" if isinstance(value, float) else str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def span_details(span: Span) -> str:
    """Key attributes, then the error: status description and recorded exceptions."""
    parts = [
        f"{key}={_short(span.attributes[key])}" for key in KEY_ATTRIBUTES if key in span.attributes
    ]
    if span.status_code == "ERROR":
        for event in span.events_named("exception"):
            exc_type = event.attributes.get("exception.type", "")
            message = event.attributes.get("exception.message", "")
            parts.append(f"!! {exc_type}: {_short(message)}")
        if span.status_description and not span.events_named("exception"):
            parts.append(f"!! {_short(span.status_description)}")
    return "  ".join(parts)


def render(trace: Trace) -> str:
    """The trace as an indented tree with durations, status and key attributes."""
    lines = trace.render(span_details).splitlines()
    return textwrap.indent("\n".join(line.rstrip() for line in lines), "  ")


def serves_ui(query_url: str) -> bool:
    """Whether this Jaeger has its UI; a go-built binary serves a placeholder page instead."""
    try:
        with urllib.request.urlopen(f"{query_url}/", timeout=5) as response:
            page = response.read(65536).decode("utf-8", "replace")
    except OSError:
        return False
    return "placeholder for the Jaeger UI" not in page
