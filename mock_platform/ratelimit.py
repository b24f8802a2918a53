"""Per-access-key token buckets for the platform's rate limit."""
from __future__ import annotations

import math
from typing import Callable


class RateLimiter:
    """``rate`` requests a second per key on average, bursts of up to ``burst``; ``rate=None`` disables it."""

    def __init__(self, rate: float | None, burst: int, clock: Callable[[], float]):
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def acquire(self, key: str) -> int:
        """Take a token: 0 when allowed, else the whole seconds to wait (for ``Retry-After``)."""
        if self.rate is None:
            return 0
        now = self._clock()
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0
        self._buckets[key] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / self.rate))
