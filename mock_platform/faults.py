"""Fault injection: a repeatable schedule of errors, dropped connections, hangs, broken answers,
latency and 429 bursts, plus targeted faults that fail the next N matching requests.

Every request in scope takes the next step of the schedule. Step ``n`` draws one number from
``random.Random(seed)``, so the same seed and the same sequence of requests give the same faults,
whichever transport serves them. A targeted fault that matches a request strikes instead, and
takes no step. A fault strikes either ``before`` the request is processed (nothing is stored) or
``after`` (the platform stored it, but the client never learns). Broken answers (an HTML 502 from a
proxy, a truncated body, a slow body, a 200 that is not JSON) always strike after processing.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Mapping

from mock_platform.http import HTML_TYPE, BrokenBody, DropConnection, HoldConnection, Outcome, Response, json_response

PHASES = ("before", "after")
BROKEN_KINDS = ("html_502", "truncated", "slow_body", "not_json")
TARGETED_KINDS = ("error", "drop", "hang", "burst", *BROKEN_KINDS)
DEFAULT_PHASES = {"error": "before", "drop": "after", "hang": "before", "burst": "before"}

INJECTED_ERRORS = {
    500: ("internal_error", "平台内部错误，请稍后重试"),
    502: ("bad_gateway", "网关错误，请稍后重试"),
    503: ("service_unavailable", "服务暂不可用，请稍后重试"),
    504: ("gateway_timeout", "网关超时，请稍后重试"),
}
INJECTED_ERROR = ("injected_error", "模拟故障（HTTP {status}）")
PROXY_502_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
NOT_JSON_PAGE = "<!DOCTYPE html><html><head><title>系统维护中</title></head><body>系统维护中，请稍后访问。</body></html>"


@dataclass(frozen=True)
class TargetedFault:
    """Fail the next ``times`` requests that match every filter given (method, record kind, record id)."""

    fault: str
    times: int = 1
    status: int = 503
    phase: str | None = None
    method: str | None = None
    kind: str | None = None
    record_id: str | None = None
    seconds: float = 30.0
    retry_after: int = 1

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "TargetedFault":
        return cls(**{k: v for k, v in data.items() if v is not None})

    def to_json(self) -> dict[str, Any]:
        return {"fault": self.fault, "times": self.times, "status": self.status, "phase": self.strikes,
                "method": self.method, "kind": self.kind, "record_id": self.record_id,
                "seconds": self.seconds, "retry_after": self.retry_after}

    @property
    def strikes(self) -> str:
        return "after" if self.fault in BROKEN_KINDS else self.phase or DEFAULT_PHASES[self.fault]

    def matches(self, probe: "Probe") -> bool:
        return ((self.method is None or self.method == probe.method)
                and (self.kind is None or self.kind == probe.kind)
                and (self.record_id is None or self.record_id in probe.record_ids))


@dataclass(frozen=True)
class Probe:
    """What a targeted fault can match a request on."""

    method: str
    kind: str | None = None
    record_ids: frozenset[str] = frozenset()


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
    broken_rates: Mapping[str, float] = field(default_factory=dict)
    slow_body_seconds: float = 2.0
    latency_ms: int = 0
    burst_every: int = 0
    burst_length: int = 0
    burst_retry_after: int = 1
    targeted: tuple[TargetedFault, ...] = ()
    scope: str = "/api/"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "FaultConfig":
        """Build from the control API's nested form (already validated)."""
        d = cls()
        errors = data.get("errors") or {}
        drops = data.get("drops") or {}
        hangs = data.get("hangs") or {}
        broken = data.get("broken") or {}
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
            broken_rates=dict(broken.get("rates") or {}),
            slow_body_seconds=broken.get("slow_body_seconds", d.slow_body_seconds),
            latency_ms=data.get("latency_ms", d.latency_ms),
            burst_every=bursts.get("every", d.burst_every),
            burst_length=bursts.get("length", d.burst_length),
            burst_retry_after=bursts.get("retry_after", d.burst_retry_after),
            targeted=tuple(TargetedFault.from_json(t) for t in data.get("targeted") or ()),
            scope=data.get("scope", d.scope),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "errors": {"rates": {str(s): r for s, r in sorted(self.error_rates.items())}, "phase": self.error_phase},
            "drops": {"rate": self.drop_rate, "phase": self.drop_phase},
            "hangs": {"rate": self.hang_rate, "seconds": self.hang_seconds, "phase": self.hang_phase},
            "broken": {"rates": {k: self.broken_rates[k] for k in BROKEN_KINDS if k in self.broken_rates},
                       "slow_body_seconds": self.slow_body_seconds},
            "latency_ms": self.latency_ms,
            "bursts": {"every": self.burst_every, "length": self.burst_length, "retry_after": self.burst_retry_after},
            "targeted": [t.to_json() for t in self.targeted],
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
        self.remaining = [t.times for t in self.config.targeted]

    def to_json(self) -> dict[str, Any]:
        """The configuration, each targeted fault's ``times`` being the strikes it has left."""
        data = self.config.to_json()
        for entry, left in zip(data["targeted"], self.remaining):
            entry["times"] = left
        return data

    def applies_to(self, path: str) -> bool:
        return path.startswith(self.config.scope)

    def _targeted(self, probe: Probe) -> Decision | None:
        for index, target in enumerate(self.config.targeted):
            if self.remaining[index] > 0 and target.matches(probe):
                self.remaining[index] -= 1
                return Decision(target.fault, target.strikes, target.status if target.fault == "error" else None,
                                seconds=target.seconds, retry_after=target.retry_after,
                                latency_ms=self.config.latency_ms)
        return None

    def decide(self, probe: Probe | None = None) -> Decision:
        """The next step of the schedule (a matching targeted fault first, without taking a step)."""
        c = self.config
        if probe is not None:
            targeted = self._targeted(probe)
            if targeted is not None:
                return targeted
        self.steps += 1
        draw = self._rng.random()
        if c.burst_every and c.burst_length and (self.steps - 1) % c.burst_every >= c.burst_every - c.burst_length:
            return Decision("burst", "before", 429, retry_after=c.burst_retry_after, latency_ms=c.latency_ms)
        candidates = [
            Decision("hang", c.hang_phase, seconds=c.hang_seconds, latency_ms=c.latency_ms),
            Decision("drop", c.drop_phase, latency_ms=c.latency_ms),
            *(Decision("error", c.error_phase, status, latency_ms=c.latency_ms) for status in sorted(c.error_rates)),
            *(Decision(kind, "after", seconds=c.slow_body_seconds, latency_ms=c.latency_ms)
              for kind in BROKEN_KINDS if kind in c.broken_rates),
        ]
        rates = [c.hang_rate, c.drop_rate, *(c.error_rates[s] for s in sorted(c.error_rates)),
                 *(c.broken_rates[k] for k in BROKEN_KINDS if k in c.broken_rates)]
        threshold = 0.0
        for decision, rate in zip(candidates, rates):
            threshold += rate
            if draw < threshold:
                return decision
        return Decision(latency_ms=c.latency_ms)


def injected_error(status: int) -> tuple[str, str]:
    """The code and message of an injected error answer with ``status``."""
    code, message = INJECTED_ERRORS.get(status, INJECTED_ERROR)
    return code, message.format(status=status)


def fault_outcome(decision: Decision, answer: Response | None) -> Outcome:
    """What the client gets for an injected fault; ``answer`` is the real answer (faults striking after)."""
    if decision.kind == "drop":
        return DropConnection()
    if decision.kind == "hang":
        return HoldConnection(decision.seconds)
    if decision.kind == "burst":
        return json_response(
            429, {"code": "rate_limited", "message": f"请求过于频繁，请在 {decision.retry_after} 秒后重试",
                  "retry_after": decision.retry_after, "injected": True},
            {"Retry-After": str(decision.retry_after)},
        )
    if decision.kind == "html_502":
        return Response(502, PROXY_502_PAGE.encode(), {"Content-Type": "text/html", "Server": "nginx"})
    if decision.kind == "not_json":
        return Response(200, NOT_JSON_PAGE.encode("utf-8"), {"Content-Type": HTML_TYPE})
    if decision.kind in ("truncated", "slow_body"):
        assert answer is not None
        if decision.kind == "truncated":
            return BrokenBody(answer, keep=len(answer.body) // 2)
        return BrokenBody(answer, keep=len(answer.body) // 2, pause=decision.seconds)
    assert decision.status is not None
    code, message = injected_error(decision.status)
    return json_response(decision.status, {"code": code, "message": message, "injected": True})
