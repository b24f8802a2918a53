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
    """At most ``count`` events per key in any ``window`` seconds. ``hit(key)`` counts a request and
    returns 0 when allowed, else the seconds to wait (an integer >= 1); ``wait``/``record``/``forget``
    let a caller count only some events (failures) and look before it counts."""

    def __init__(self, limit: str, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        parsed = parse_limit(limit)
        self.enabled = parsed is not None
        self.count, self.window = parsed or (0, 1.0)
        self.clock = clock
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int:
        """Count a request under ``key`` unless over the limit: 0 when allowed, else the wait."""
        with self._lock:
            wait = self._wait(key)
            if not wait:
                self._record(key)
            return wait

    def wait(self, key: str) -> int:
        """The seconds ``key`` must wait before its next request (0: none), counting nothing."""
        with self._lock:
            return self._wait(key)

    def record(self, key: str) -> None:
        """Count one event under ``key`` (a failed sign-in, say) whatever the limit says."""
        with self._lock:
            self._record(key)

    def forget(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

    def _wait(self, key: str) -> int:
        if not self.enabled:
            return 0
        now = self.clock()
        hits = self._hits.get(key)
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if hits is not None and len(hits) >= self.count:
            return max(1, math.ceil(hits[0] + self.window - now))
        return 0

    def _record(self, key: str) -> None:
        if not self.enabled:
            return
        now = self.clock()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._sweep(now)
            hits = self._hits[key] = deque()
        hits.append(now)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def _sweep(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]
        if len(self._hits) >= self.max_keys:  # still full: forget the oldest half
            for key in list(self._hits)[: self.max_keys // 2]:
                del self._hits[key]
