"""Telemetry never breaks the app: errors inside instrumentation code are swallowed
and logged once per place, and the user's call proceeds unchanged."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_logged: set[tuple[str, str]] = set()
_lock = threading.Lock()


def log_once(logger: logging.Logger, key: str, message: str, *, exc_info: bool = True) -> bool:
    """Log `message` at WARNING the first time `key` is seen for this logger.

    Returns True when it logged. Keys are per logger name, so plugins do not mute
    each other.
    """
    marker = (logger.name, key)
    with _lock:
        if marker in _logged:
            return False
        _logged.add(marker)
    logger.warning(message, exc_info=exc_info)
    return True


@contextmanager
def guard(logger: logging.Logger, what: str) -> Iterator[None]:
    """Run instrumentation code; on an exception, log it once and carry on.

    Wrap only our own code with it, never the user's call: the user's exceptions must
    propagate unchanged.
    """
    try:
        yield
    except Exception:
        log_once(
            logger,
            what,
            f"podcast-kg-otel: instrumentation error in {what}; "
            "telemetry for this call may be incomplete, the application is unaffected",
        )
