"""Transport-neutral requests, responses and errors.

Both transports (the Flask server and the in-process ``responses`` callbacks) turn what they
receive into a :class:`Request`, hand it to the backend, and turn the :class:`Response` or
transport fault they get back into what their client sees.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"
MAX_IDEMPOTENCY_KEY = 255


@dataclass(frozen=True)
class Request:
    """One HTTP request as the backend sees it; ``path`` is percent-decoded, headers lower-cased."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    client_timeout: float | None = None

    @classmethod
    def build(
        cls,
        method: str,
        path: str,
        query: Iterable[tuple[str, str]] = (),
        headers: Iterable[tuple[str, str]] | Mapping[str, str] = (),
        body: bytes = b"",
        client_timeout: float | None = None,
    ) -> "Request":
        items = headers.items() if isinstance(headers, Mapping) else headers
        return cls(
            method=method.upper(),
            path=path or "/",
            query=tuple((str(k), str(v)) for k, v in query),
            headers={str(k).lower(): str(v) for k, v in items},
            body=body,
            client_timeout=client_timeout,
        )

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def arg(self, name: str) -> str | None:
        """The first value of query parameter ``name``."""
        return next((value for key, value in self.query if key == name), None)


@dataclass(frozen=True)
class Response:
    """What the backend answers: status, headers (including Content-Type) and body bytes."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def with_headers(self, **extra: str) -> "Response":
        return Response(self.status, self.body, {**self.headers, **extra})


@dataclass(frozen=True)
class DropConnection:
    """Close the connection without sending any response."""


@dataclass(frozen=True)
class HoldConnection:
    """Hold the request for ``seconds`` (past the client's timeout), then close without a response."""

    seconds: float


@dataclass(frozen=True)
class BrokenBody:
    """Send ``answer``'s status and headers (its full ``Content-Length``) and its first ``keep`` bytes;
    then, with ``pause``, the rest after ``pause`` seconds (a slow body), else nothing (a truncated body)."""

    answer: Response
    keep: int
    pause: float | None = None


TransportFault = DropConnection | HoldConnection | BrokenBody
Outcome = Response | TransportFault


def dump_json(payload: Any) -> bytes:
    """Compact UTF-8 JSON with Chinese characters as they are."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(status, dump_json(payload), {"Content-Type": JSON_TYPE, **(headers or {})})


def html_response(status: int, html: str) -> Response:
    return Response(status, html.encode("utf-8"), {"Content-Type": HTML_TYPE})


class ApiError(Exception):
    """An error answer: ``{"code": <stable machine code>, "message": <简体中文>, ...details}``."""

    def __init__(self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None, **details: Any):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.details = details

    def response(self) -> Response:
        return json_response(self.status, {"code": self.code, "message": self.message, **self.details}, self.headers)
