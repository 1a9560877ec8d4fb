"""The token bucket of Jaeger's rate-limiting and lower-bound samplers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """``credits_per_second`` credits accrue up to ``max_balance``; a decision costs one.

    Starts full, like Jaeger's rate limiter, so a new sampler keeps its first traces
    (Jaeger's samplers use ``max_balance = max(credits_per_second, 1)``).
    """

    __slots__ = ("_balance", "_clock", "_last", "_lock", "credits_per_second", "max_balance")

    def __init__(
        self,
        credits_per_second: float,
        max_balance: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.credits_per_second = credits_per_second
        self.max_balance = max_balance
        self._balance = max_balance
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed, self._last = now - self._last, now
        self._balance = min(self.max_balance, self._balance + elapsed * self.credits_per_second)

    def take(self, cost: float = 1.0) -> bool:
        """Spend `cost` credits when the balance has them."""
        with self._lock:
            self._refill()
            if self._balance < cost:
                return False
            self._balance -= cost
            return True

    def update(self, credits_per_second: float, max_balance: float) -> None:
        """New rates, keeping the balance's share of the maximum (Jaeger's ``Update``)."""
        with self._lock:
            self._refill()
            if self.max_balance > 0:
                self._balance = max_balance * self._balance / self.max_balance
            self.credits_per_second = credits_per_second
            self.max_balance = max_balance

    def reset_after_fork(self) -> None:
        """The parent's lock may have been held by a thread the child does not have."""
        self._lock = threading.Lock()
