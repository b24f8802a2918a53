"""What a test holds: a handle on a running mock platform and a client for its control API.

The same :class:`PlatformHandle` interface fronts both transports, so a test written against
one runs against the other.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

import requests

from schemas.signing import PlatformAuth


class ControlError(RuntimeError):
    """A control request was refused; ``body`` holds the platform's coded error."""

    def __init__(self, status: int, body: Any):
        super().__init__(f"control request failed with HTTP {status}: {body}")
        self.status = status
        self.body = body


class ControlClient:
    """The control API (``/_control/...``) over HTTP, for either transport."""

    def __init__(self, base_url: str, session: requests.Session | None = None, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout

    def call(self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None) -> Any:
        """One control request; the decoded JSON answer, or :class:`ControlError`."""
        response = self.session.request(
            method, f"{self.base_url}/_control/{path}", json=body, params=params, timeout=self.timeout
        )
        payload = response.json()
        if response.status_code >= 400:
            raise ControlError(response.status_code, payload)
        return payload

    def health(self) -> dict[str, Any]:
        return self.call("GET", "health")

    def reset(self) -> None:
        self.call("POST", "reset")

    def settings(self) -> dict[str, Any]:
        return self.call("GET", "settings")

    def update_settings(self, **changes: Any) -> dict[str, Any]:
        return self.call("PATCH", "settings", changes)

    def add_credentials(self, access_key: str, secret: str) -> None:
        self.call("POST", "credentials", {"access_key": access_key, "secret": secret})

    def seed_entities(self, entities: list[dict[str, Any]]) -> dict[str, Any]:
        return self.call("POST", "entities", {"entities": entities})

    def seed_inspections(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return self.call("POST", "inspections", {"records": records})

    def faults(self) -> dict[str, Any]:
        return self.call("GET", "faults")

    def set_faults(self, config: dict[str, Any]) -> dict[str, Any]:
        """Replace the fault configuration, e.g. ``{"seed": 7, "errors": {"rates": {"503": 0.3}}}``."""
        return self.call("PUT", "faults", config)

    def clear_faults(self) -> None:
        self.call("DELETE", "faults")

    def received(self, kind: str | None = None) -> dict[str, Any]:
        return self.call("GET", "received", params={"kind": kind} if kind else None)

    def requests(self) -> list[dict[str, Any]]:
        return self.call("GET", "requests")["requests"]

    def clock(self) -> dict[str, Any]:
        return self.call("GET", "clock")

    def set_clock(self, now: datetime | str, frozen: bool = False) -> dict[str, Any]:
        """Pin the platform's clock at ``now`` (a naive datetime is China Standard Time)."""
        return self.call("PUT", "clock", {"now": now.isoformat() if isinstance(now, datetime) else now, "frozen": frozen})

    def clear_clock(self) -> dict[str, Any]:
        return self.call("DELETE", "clock")

    def expectations(self) -> dict[str, Any]:
        return self.call("GET", "expectations")

    def set_expectations(self, expectations: Iterable[dict[str, Any]] = (), *, strict: bool = False,
                         ordered: bool = False) -> dict[str, Any]:
        return self.call("PUT", "expectations", {"strict": strict, "ordered": ordered, "expectations": list(expectations)})

    def expect(self, method: str, path: str, times: int | None = 1) -> dict[str, Any]:
        return self.call("POST", "expectations", {"method": method, "path": path, "times": times})

    def clear_expectations(self) -> dict[str, Any]:
        return self.call("DELETE", "expectations")


@dataclass(frozen=True)
class Call:
    """One recorded request and its answer (``status`` None when the connection was dropped or held)."""

    seq: int
    method: str
    path: str
    status: int | None
    fault: str | None
    replayed: bool
    access_key: str | None
    idempotency_key: str | None
    at: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    response_headers: dict[str, str] | None = None
    response_body: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Call":
        names = cls.__dataclass_fields__
        values = {k: v for k, v in data.items() if k in names}
        values["query"] = [tuple(pair) for pair in data.get("query", [])]
        return cls(**values)

    def json(self) -> Any:
        """The request body as JSON."""
        return json.loads(self.body)

    def response_json(self) -> Any:
        assert self.response_body is not None, "no answer was sent"
        return json.loads(self.response_body)


class Calls(list):  # type: ignore[type-arg]
    """The recorded calls, oldest first, with helpers to assert on them (like ``responses.calls``)."""

    def filter(self, method: str | None = None, path: str | None = None, status: int | None = None) -> "Calls":
        """Calls with this method, path (a trailing ``*`` matches a prefix) and status."""
        def keep(call: Call) -> bool:
            path_ok = path is None or (call.path.startswith(path[:-1]) if path.endswith("*") else call.path == path)
            return (method is None or call.method == method) and path_ok and (status is None or call.status == status)

        return Calls(call for call in self if keep(call))

    def assert_called(self, method: str, path: str, times: int | None = None) -> "Calls":
        """The matching calls; ``AssertionError`` when there are none (or not exactly ``times``)."""
        found = self.filter(method, path)
        if (times is None and not found) or (times is not None and len(found) != times):
            seen = ", ".join(f"{c.method} {c.path}" for c in self) or "nothing"
            raise AssertionError(f"expected {method} {path} {times if times is not None else 'at least 1'} time(s), "
                                 f"got {len(found)}; the platform saw: {seen}")
        return found

    def assert_not_called(self, method: str, path: str) -> None:
        self.assert_called(method, path, 0)


class PlatformHandle:
    """A running mock platform: where it is, the credentials it accepts, and its control API."""

    transport = "unknown"

    def __init__(self, base_url: str, access_key: str, secret: str):
        self.base_url = base_url.rstrip("/")
        self.access_key = access_key
        self.secret = secret
        self.control = ControlClient(self.base_url)

    def url(self, path: str) -> str:
        """An absolute URL for ``path`` (``"/api/v1/plans/batch"``)."""
        return self.base_url + "/" + path.lstrip("/")

    @property
    def auth(self) -> PlatformAuth:
        """Signing for ``requests`` with this platform's credentials."""
        return PlatformAuth(self.access_key, self.secret)

    def session(self) -> requests.Session:
        """A ``requests`` session that signs every request."""
        session = requests.Session()
        session.auth = self.auth
        return session

    @property
    def calls(self) -> Calls:
        """Every non-control request so far, with its answer (read afresh on each access)."""
        return Calls(Call.from_json(entry) for entry in self.control.requests())

    def expect(self, method: str, path: str, times: int | None = 1) -> None:
        """Expect ``times`` requests (``None``: at least one) of ``method`` on ``path`` (``*`` suffix: prefix)."""
        self.control.expect(method, path, times)

    def assert_all_requests_are_fired(self) -> None:
        """``AssertionError`` unless every expectation was met and nothing the mode forbids happened."""
        report = self.control.expectations()
        if report["satisfied"]:
            return
        problems = [f"expected {e['method']} {e['path']} {e['times'] or 'at least 1'} time(s), got {e['calls']}"
                    for e in report["unmet"]]
        problems += [f"{u['reason']} request #{u['seq']}: {u['method']} {u['path']}" for u in report["unexpected"]
                     if report["strict"] or u["reason"] == "out_of_order"]
        raise AssertionError("mock platform expectations not met:\n  " + "\n  ".join(problems))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.transport} {self.base_url}>"
