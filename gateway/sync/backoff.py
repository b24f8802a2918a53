"""When to try a batch again: exponential backoff with full jitter, and the platform's Retry-After.

The ceiling grows as ``base * 2 ** (attempt - 1)`` up to ``cap`` (tenacity's ``wait_exponential``
computes it); the delay is drawn uniformly from ``[0, ceiling]`` ("full jitter", so workers that
failed together do not come back together). When the platform says ``Retry-After: n``, the batch
waits ``n`` seconds, but never more than ``retry_after_cap``: a platform asking for an hour does
not stall a county's publication beyond what the operator configured.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from types import SimpleNamespace

from tenacity import wait_exponential


@dataclass(frozen=True)
class Backoff:
    base: float = 2.0
    cap: float = 600.0
    retry_after_cap: float = 300.0

    def ceiling(self, attempt: int) -> float:
        """The largest delay after the ``attempt``-th failed attempt (1-based)."""
        wait = wait_exponential(multiplier=self.base, max=self.cap, exp_base=2)
        return float(wait(SimpleNamespace(attempt_number=max(1, attempt))))

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before the next attempt."""
        if retry_after is not None:
            return min(max(0.0, retry_after), self.retry_after_cap)
        return (rng or random).uniform(0.0, self.ceiling(attempt))
