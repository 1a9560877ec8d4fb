"""The run-to-span map, bounded by a size cap and a timeout.

Runs that never report an end (a stream nobody closed, a crashed worker) are evicted
oldest first and handed to `on_orphan`, which ends their span flagged as orphaned: the
map cannot grow without bound and no span is silently lost. So is a run whose id a later
run reuses: it could never be ended otherwise.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from uuid import UUID

from opentelemetry.context import Context
from opentelemetry.trace import Span


class RunEntry:
    """What we keep per open LangChain run. `span` is None for a folded (hidden) run."""

    __slots__ = (
        "child_ctx",
        "closed",
        "first_chunk_seen",
        "interrupt",
        "is_agent",
        "name",
        "open_children",
        "parent",
        "parent_ctx",
        "run_id",
        "span",
        "started",
        "token",
    )

    def __init__(
        self,
        run_id: UUID,
        name: str,
        span: Span | None,
        parent: RunEntry | None,
        parent_ctx: Context,
        child_ctx: Context,
        token: Any,
    ) -> None:
        self.run_id = run_id
        self.name = name
        self.span = span
        self.parent = parent
        self.parent_ctx = parent_ctx
        self.child_ctx = child_ctx
        self.token = token
        self.open_children = 0
        self.closed = False
        self.first_chunk_seen = False
        self.is_agent = False
        self.interrupt: BaseException | None = None
        self.started = time.monotonic()


class RunRegistry:
    """Open runs in start order; evicts past `max_open` entries or `timeout_s` of age."""

    def __init__(
        self, max_open: int, timeout_s: float, on_orphan: Callable[[RunEntry], None]
    ) -> None:
        self._runs: OrderedDict[UUID, RunEntry] = OrderedDict()
        self._lock = threading.Lock()
        self._max_open = max_open
        self._timeout_s = timeout_s
        self._on_orphan = on_orphan
        self._sweep_at = 0.0
        # The open run with this id, or None (None for None): the dict's own method, as
        # it is looked up several times per run.
        self.get: Callable[[UUID | None], RunEntry | None] = self._runs.get  # type: ignore[assignment]

    def __len__(self) -> int:
        return len(self._runs)

    def add(self, entry: RunEntry) -> None:
        orphans: list[RunEntry] = []
        with self._lock:
            runs = self._runs
            displaced = runs.get(entry.run_id)
            if displaced is not None:
                # A run id used twice (LangChain reports it as an error): the earlier
                # run's end can no longer be told apart, so it ends now, as an orphan.
                self._forget(displaced)
                orphans.append(displaced)
            runs[entry.run_id] = entry
            if entry.parent is not None:
                entry.parent.open_children += 1
            # No run can have timed out before `_sweep_at` (the oldest run, when last
            # checked, plus the timeout; the oldest only gets younger): skip the check.
            if len(runs) > self._max_open or entry.started >= self._sweep_at:
                limit = entry.started - self._timeout_s
                while runs:
                    oldest = next(iter(runs.values()))
                    if len(runs) <= self._max_open and oldest.started >= limit:
                        self._sweep_at = oldest.started + self._timeout_s
                        break
                    self._forget(oldest)
                    orphans.append(oldest)
        for orphan in orphans:
            self._on_orphan(orphan)

    def pop(self, run_id: UUID) -> RunEntry | None:
        with self._lock:
            entry = self._runs.pop(run_id, None)
            if entry is not None and entry.parent is not None:
                entry.parent.open_children -= 1
        return entry

    def _forget(self, entry: RunEntry) -> None:
        """Remove `entry`; the caller holds the lock."""
        del self._runs[entry.run_id]
        if entry.parent is not None:
            entry.parent.open_children -= 1

    def drain(self) -> list[RunEntry]:
        """Remove and return every open run."""
        with self._lock:
            entries = list(self._runs.values())
            for entry in entries:
                self._forget(entry)
        return entries
