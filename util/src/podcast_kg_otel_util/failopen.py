"""Telemetry never breaks the app: errors inside instrumentation code are swallowed
and logged once per place, and the user's call proceeds unchanged.

The one idiom for it is `guard(logger, what)`, used by the distro and every plugin:

- `with guard(logger, what):` around a step of our own code, next to (never around)
  the user's call;
- `@guard(logger, what)` on a function made only of our code (a callback, a span
  start): on an error it returns None, which its callers read as "no telemetry here".

On hot paths, build the guard once (`_STEP = guard(...)`, then `with _STEP:`): entering
it costs one method call, and the warning text is only formatted on an error.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

_logged: set[tuple[str, str]] = set()
_lock = threading.Lock()

F = TypeVar("F", bound=Callable[..., Any])


def log_once(
    logger: logging.Logger, key: str, message: str, *, exc_info: bool | BaseException = True
) -> bool:
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


class guard:  # lower case: used like a function, `with guard(...)` and `@guard(...)`
    """One place of our code that fails open (see the module's docstring).

    An `Exception` raised inside is logged once per (logger, `what`), with its
    traceback, and swallowed. `BaseException`s that are not errors (KeyboardInterrupt,
    SystemExit, a cancelled task) pass. The default text names the distribution the
    logger belongs to (`podcast_kg_otel_neo4j.spans` gives `podcast-kg-otel-neo4j`);
    `message` replaces it.
    """

    __slots__ = ("logger", "message", "what")

    def __init__(self, logger: logging.Logger, what: str, message: str | None = None) -> None:
        self.logger = logger
        self.what = what
        self.message = message

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        self.failed(exc)
        return True

    def __call__(self, function: F) -> F:
        @functools.wraps(function)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except Exception as exc:
                self.failed(exc)
                return None

        return guarded  # type: ignore[return-value]

    def failed(self, exc: BaseException) -> None:
        """Log `exc` once for this place (for code that must catch it itself)."""
        message = self.message
        if message is None:
            source = self.logger.name.split(".", 1)[0].replace("_", "-")
            message = (
                f"{source}: instrumentation error in {self.what}; "
                "telemetry for this call may be incomplete, the application is unaffected"
            )
        log_once(self.logger, self.what, message, exc_info=exc)
