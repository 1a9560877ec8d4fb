"""Warnings that stay visible even when the root logger only feeds OpenTelemetry.

The contrib logging instrumentation adds an OpenTelemetry ``LoggingHandler`` to the root
logger. Python then no longer falls back to printing warnings on stderr, so in an app that
never configured logging our warnings would only go to the (usually disabled) logs
pipeline. ``warn`` logs normally and, when no other handler would show the record, also
writes the line to stderr.
"""

from __future__ import annotations

import logging
import sys

_OTEL_HANDLERS = {"LoggingHandler"}


def _shown(logger: logging.Logger, level: int) -> bool:
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if type(handler).__name__ not in _OTEL_HANDLERS and level >= handler.level:
                return True
        if not current.propagate:
            return False
        current = current.parent
    return logging.lastResort is not None and not _has_handlers(logger)


def _has_handlers(logger: logging.Logger) -> bool:
    current: logging.Logger | None = logger
    while current is not None:
        if current.handlers:
            return True
        if not current.propagate:
            return False
        current = current.parent
    return False


def warn(logger: logging.Logger, message: str) -> None:
    """``logger.warning(message)``, also on stderr if nothing else would show it."""
    if not logger.isEnabledFor(logging.WARNING):
        return
    logger.warning(message)
    if not _shown(logger, logging.WARNING):
        try:
            sys.stderr.write(message + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
