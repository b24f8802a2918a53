"""Expectations on the requests a test makes: strict mode, all-fired checks and ordered expectations.

An expectation names a method and a path (a trailing ``*`` matches any path with that prefix) and
how many times it should be requested (``times``, or at least once when ``None``). In ``strict``
mode a request no expectation allows is answered 501 ``unexpected_request``; with ``ordered``,
requests must meet the expectations in the order given, and one that skips ahead is answered 501
``unexpected_request`` too. :meth:`Expectations.report` says what went wrong, for the test to assert.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass
class Expectation:
    method: str
    path: str
    times: int | None = 1
    calls: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method != method:
            return False
        return path.startswith(self.path[:-1]) if self.path.endswith("*") else path == self.path

    @property
    def open(self) -> bool:
        """Whether it may take another call."""
        return self.times is None or self.calls < self.times

    @property
    def met(self) -> bool:
        return self.calls >= 1 if self.times is None else self.calls == self.times

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "times": self.times, "calls": self.calls, "met": self.met}


@dataclass
class Expectations:
    strict: bool = False
    ordered: bool = False
    items: list[Expectation] = field(default_factory=list)
    unexpected: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Expectations":
        return cls(strict=data.get("strict", False), ordered=data.get("ordered", False),
                   items=[Expectation(e["method"], e["path"], e.get("times", 1)) for e in data.get("expectations", [])])

    def add(self, method: str, path: str, times: int | None = 1) -> None:
        self.items.append(Expectation(method, path, times))

    def observe(self, seq: int, method: str, path: str) -> str | None:
        """Count a request; the reason it breaks the expectations (``unexpected``, ``out_of_order``) or None."""
        if not self.items and not self.strict:
            return None
        if self.ordered:
            target = self._in_order(method, path)
            matching = any(e.open and e.matches(method, path) for e in self.items)
            reason = None if target else ("out_of_order" if matching else "unexpected")
        else:
            target = next((e for e in self.items if e.open and e.matches(method, path)), None)
            reason = None if target else "unexpected"
        if target is not None:
            target.calls += 1
        if reason is not None:
            self.unexpected.append({"seq": seq, "method": method, "path": path, "reason": reason})
        return reason

    def _in_order(self, method: str, path: str) -> Expectation | None:
        """The expectation this request meets in order: the first one still short of its calls, or the
        one before it when that one takes any number of calls."""
        pending = next((i for i, e in enumerate(self.items) if e.calls < (e.times or 1)), len(self.items))
        for index in (pending, pending - 1):
            if 0 <= index < len(self.items) and self.items[index].open and self.items[index].matches(method, path):
                return self.items[index]
        return None

    def violations(self) -> list[dict[str, Any]]:
        return list(self.unexpected) if self.strict else [u for u in self.unexpected if u["reason"] == "out_of_order"]

    def refuses(self, reason: str | None) -> bool:
        """Whether a request breaking the expectations for ``reason`` is refused rather than served."""
        return reason is not None and (self.strict or reason == "out_of_order")

    def report(self) -> dict[str, Any]:
        unmet = [e.to_json() for e in self.items if not e.met]
        return {
            "strict": self.strict, "ordered": self.ordered,
            "expectations": [e.to_json() for e in self.items],
            "unmet": unmet,
            "unexpected": list(self.unexpected),
            "satisfied": not unmet and not self.violations(),
        }
