"""In-process rate limits (sign-in, public endpoints): a sliding window per key.

Each gateway process counts on its own; behind several processes the effective limit is the
per-process limit times the number of processes, which is the intended order of magnitude for
a county deployment. Configure as ``"<requests>/<seconds>"``; ``""`` or ``"0/…"`` disables.
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Callable


def parse_limit(text: str) -> tuple[int, float] | None:
    """``"10/60"`` -> (10, 60.0); None when the limit is off. Raises ValueError on nonsense."""
    text = (text or "").strip()
    if not text:
        return None
    count, _, seconds = text.partition("/")
    n, s = int(count), float(seconds or 60)
    if n < 0 or s <= 0:
        raise ValueError(f"bad rate limit {text!r}: expected '<requests>/<seconds>'")
    return None if n == 0 else (n, s)


class RateLimiter:
    """``hit(key)`` returns 0 when allowed, else the seconds to wait (an integer >= 1)."""

    def __init__(self, limit: str, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        parsed = parse_limit(limit)
        self.enabled = parsed is not None
        self.count, self.window = parsed or (0, 1.0)
        self.clock = clock
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int:
        if not self.enabled:
            return 0
        now = self.clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self.max_keys:
                    self._sweep(now)
                hits = self._hits[key] = deque()
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.count:
                return max(1, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            return 0

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def _sweep(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]
        if len(self._hits) >= self.max_keys:  # still full: forget the oldest half
            for key in list(self._hits)[: self.max_keys // 2]:
                del self._hits[key]
