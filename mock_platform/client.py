"""What a test holds: a handle on a running mock platform and a client for its control API.

The same :class:`PlatformHandle` interface fronts both transports, so a test written against
one runs against the other.
"""
from __future__ import annotations

from typing import Any

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

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.transport} {self.base_url}>"
