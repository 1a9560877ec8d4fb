"""A cache bounded by entry count AND by the characters it holds.

Query texts are the keys of our per-query caches, and a text can be megabytes (a
generated query with inlined literals): an entry count alone would let 512 of those pin
gigabytes. A hit is one C-level dict lookup (`get` is the dict's own method); only a
miss takes the lock and may evict, oldest entries first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any


class BoundedCache:
    """At most `max_entries` entries and `max_chars` characters (as sized by `put`)."""

    __slots__ = ("_entries", "_lock", "_sizes", "chars", "get", "max_chars", "max_entries")

    def __init__(self, max_entries: int, max_chars: int) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self.chars = 0
        self._entries: dict[Hashable, Any] = {}
        self._sizes: dict[Hashable, int] = {}
        self._lock = threading.Lock()
        self.get: Callable[[Hashable], Any] = self._entries.get

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, key: Hashable, value: Any, size: int) -> None:
        """Keep `value` (`size` characters) unless it alone exceeds the budget."""
        if size > self.max_chars:
            return
        with self._lock:
            entries, sizes = self._entries, self._sizes
            if key in entries:
                return
            while entries and (
                len(entries) >= self.max_entries or self.chars + size > self.max_chars
            ):
                oldest = next(iter(entries))
                del entries[oldest]
                self.chars -= sizes.pop(oldest)
            entries[key] = value
            sizes[key] = size
            self.chars += size
