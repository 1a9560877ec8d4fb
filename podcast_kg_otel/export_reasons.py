"""Why spans were not delivered, in whole words: the cause inside an exporter's message
or exception, and each drop cause of an ``ExportStats``. Used by the export warnings,
the exit line, the exit summary and ``doctor``."""

from __future__ import annotations

import re
import textwrap

from podcast_kg_otel.accounting import ExportStats

_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\"()\[\]]+")
_GRPC = re.compile(r"StatusCode\.(\w+).*?[Ee]rror details: (.+)", re.DOTALL)
_HTTP_STATUS = re.compile(r"code: (\d{3}), reason: ([^,]+)")
_MAX_REASON = 200


def failure_reason(text: str) -> str:
    """The cause inside an exporter's message or an exception's text, in whole words.

    The OTLP exporters wrap the cause in long retry sentences (``Transient error
    HTTPConnectionPool(...) ... Connection refused')) encountered while exporting...``);
    cutting those at a length cut words and hid the cause.
    """
    text = " ".join(text.split())
    if match := _GRPC.search(text):
        detail = f"gRPC {match.group(1)}: {match.group(2)}"
    elif match := _HTTP_STATUS.search(text):
        detail = f"HTTP status {match.group(1)} {match.group(2).strip()}"
    elif match := _ERRNO.search(text):
        detail = f"connection failed: {match.group(0).strip()}"
    elif "timed out" in text.lower():
        detail = f"no answer in time: {text}"
    else:
        detail = text
    return textwrap.shorten(detail, _MAX_REASON, placeholder=" ...")


def describe(error: BaseException) -> str:
    """An exception as its type and its cause in whole words."""
    text = str(error)
    return f"{type(error).__name__}: {failure_reason(text)}" if text else type(error).__name__


def cause_words(stats: ExportStats, exit_budget: float | None = None) -> str:
    """Each non-zero drop cause in ``stats`` as words, e.g. ``6 because ...``."""
    parts = []
    if stats.queue_full:
        parts.append(
            f"{stats.queue_full} because the export queue was full "
            "(spans ended faster than they could be sent)"
        )
    if stats.export_failed:
        reason = stats.last_failure or "no reason given"
        parts.append(f"{stats.export_failed} because the collector did not take them ({reason})")
    if stats.exit_budget:
        budget = f" of {exit_budget:g} s" if exit_budget is not None else ""
        tail = f" (last export error: {stats.last_failure})" if stats.last_failure else ""
        if stats.export_failed:
            tail = ""
        parts.append(
            f"{stats.exit_budget} because the exit budget{budget} ran out "
            f"before the collector took them{tail}"
        )
    if stats.after_shutdown:
        parts.append(f"{stats.after_shutdown} because they ended after export was shut down")
    return "; ".join(parts)
