"""Progress lines on stderr while episodes run (stdout carries only the report)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """`[2/4] ep-002 Breaking Enigma` when an episode starts, `[2/4] ep-002 ok (0.4 s)` when done.

    Whole lines, so that log lines written in between do not break them up.
    """

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self._total = total
        self._stream = stream or sys.stderr
        self._index = 0
        self._guid = ""
        self._started = 0.0

    def start(self, guid: str, title: str) -> None:
        self._index += 1
        self._guid = guid
        self._started = time.monotonic()
        self._write(f"{guid} {title}")

    def finish(self, outcome: str) -> None:
        self._write(f"{self._guid} {outcome} ({time.monotonic() - self._started:.1f} s)")

    def _write(self, text: str) -> None:
        self._stream.write(f"[{self._index}/{self._total}] {text}\n")
        self._stream.flush()
