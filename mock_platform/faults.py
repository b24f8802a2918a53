"""Fault injection: a repeatable schedule of errors, dropped connections, hangs, latency and 429 bursts.

Every request in scope takes the next step of the schedule. Step ``n`` draws one number from
``random.Random(seed)``, so the same seed and the same sequence of requests give the same faults,
whichever transport serves them. A fault strikes either ``before`` the request is processed
(nothing is stored) or ``after`` (the platform stored it, but the client never learns).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Mapping

PHASES = ("before", "after")


@dataclass(frozen=True)
class FaultConfig:
    """What to inject. Rates are probabilities per request; together they may not exceed 1."""

    seed: int = 0
    error_rates: Mapping[int, float] = field(default_factory=dict)
    error_phase: str = "before"
    drop_rate: float = 0.0
    drop_phase: str = "after"
    hang_rate: float = 0.0
    hang_seconds: float = 30.0
    hang_phase: str = "before"
    latency_ms: int = 0
    burst_every: int = 0
    burst_length: int = 0
    burst_retry_after: int = 1
    scope: str = "/api/"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "FaultConfig":
        """Build from the control API's nested form (already validated)."""
        d = cls()
        errors = data.get("errors") or {}
        drops = data.get("drops") or {}
        hangs = data.get("hangs") or {}
        bursts = data.get("bursts") or {}
        return cls(
            seed=data.get("seed", d.seed),
            error_rates={int(status): rate for status, rate in (errors.get("rates") or {}).items()},
            error_phase=errors.get("phase", d.error_phase),
            drop_rate=drops.get("rate", d.drop_rate),
            drop_phase=drops.get("phase", d.drop_phase),
            hang_rate=hangs.get("rate", d.hang_rate),
            hang_seconds=hangs.get("seconds", d.hang_seconds),
            hang_phase=hangs.get("phase", d.hang_phase),
            latency_ms=data.get("latency_ms", d.latency_ms),
            burst_every=bursts.get("every", d.burst_every),
            burst_length=bursts.get("length", d.burst_length),
            burst_retry_after=bursts.get("retry_after", d.burst_retry_after),
            scope=data.get("scope", d.scope),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "errors": {"rates": {str(s): r for s, r in sorted(self.error_rates.items())}, "phase": self.error_phase},
            "drops": {"rate": self.drop_rate, "phase": self.drop_phase},
            "hangs": {"rate": self.hang_rate, "seconds": self.hang_seconds, "phase": self.hang_phase},
            "latency_ms": self.latency_ms,
            "bursts": {"every": self.burst_every, "length": self.burst_length, "retry_after": self.burst_retry_after},
            "scope": self.scope,
        }


@dataclass(frozen=True)
class Decision:
    """The fault chosen for one request (``kind`` is None when the request goes through untouched)."""

    kind: str | None = None
    phase: str = "before"
    status: int | None = None
    seconds: float = 0.0
    retry_after: int = 0
    latency_ms: int = 0

    @property
    def label(self) -> str | None:
        """How the request log names the fault, e.g. ``error_503_before`` or ``drop_after``."""
        if self.kind is None:
            return f"latency_{self.latency_ms}ms" if self.latency_ms else None
        name = f"error_{self.status}" if self.kind == "error" else self.kind
        return f"{name}_{self.phase}"


NO_FAULT = Decision()


class FaultSchedule:
    """The repeatable sequence of decisions for one :class:`FaultConfig`."""

    def __init__(self, config: FaultConfig | None = None):
        self.config = config or FaultConfig()
        self._rng = random.Random(self.config.seed)
        self.steps = 0

    def applies_to(self, path: str) -> bool:
        return path.startswith(self.config.scope)

    def decide(self) -> Decision:
        """The next step of the schedule."""
        c = self.config
        self.steps += 1
        draw = self._rng.random()
        if c.burst_every and c.burst_length and (self.steps - 1) % c.burst_every >= c.burst_every - c.burst_length:
            return Decision("burst", "before", 429, retry_after=c.burst_retry_after, latency_ms=c.latency_ms)
        candidates = [
            Decision("hang", c.hang_phase, seconds=c.hang_seconds, latency_ms=c.latency_ms),
            Decision("drop", c.drop_phase, latency_ms=c.latency_ms),
            *(Decision("error", c.error_phase, status, latency_ms=c.latency_ms) for status in sorted(c.error_rates)),
        ]
        rates = [c.hang_rate, c.drop_rate, *(c.error_rates[s] for s in sorted(c.error_rates))]
        threshold = 0.0
        for decision, rate in zip(candidates, rates):
            threshold += rate
            if draw < threshold:
                return decision
        return Decision(latency_ms=c.latency_ms)
