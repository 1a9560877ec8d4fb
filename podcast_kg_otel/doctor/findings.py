"""What the doctor found: problems by level, and how they decide the exit status."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from podcast_kg_otel_util.env import STRICT_ENV

INFO = "info"
WARNING = "warning"
ERROR = "error"

#: The loggers whose records are configuration warnings (ours and the shared helpers').
CONFIG_LOGGERS = ("podcast_kg_otel", "podcast_kg_otel_util")


@dataclass(frozen=True)
class Problem:
    level: str
    section: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level, "section": self.section, "message": self.message}


def exit_status(problems: list[Problem], strict: bool) -> int:
    """1 on an error (or, with ``strict``, a warning), else 0."""
    failing = {ERROR, WARNING} if strict else {ERROR}
    return 1 if any(problem.level in failing for problem in problems) else 0


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message not in self.messages:
            self.messages.append(message)


@contextmanager
def captured_warnings(*names: str) -> Iterator[list[str]]:
    """The warnings logged under ``names`` (default: ours) while the block runs, kept
    from the terminal (the doctor reports them itself)."""
    collector = _Collector()
    loggers = [logging.getLogger(name) for name in names or CONFIG_LOGGERS]
    saved = [logger.propagate for logger in loggers]
    for logger in loggers:
        logger.addHandler(collector)
        logger.propagate = False
    try:
        yield collector.messages
    finally:
        for logger, propagate in zip(loggers, saved, strict=True):
            logger.removeHandler(collector)
            logger.propagate = propagate


@contextmanager
def muted() -> Iterator[None]:
    """No log record at all while the block runs (re-resolutions of the configuration)."""
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(previous)


@contextmanager
def lenient() -> Iterator[None]:
    """Strict mode off while the block runs, so every problem is reported, not the first
    raised (the doctor says separately that strict mode would stop the program)."""
    saved = os.environ.pop(STRICT_ENV, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[STRICT_ENV] = saved
