"""What a handler gets: the backend, the request, its sequence number and the caller's access key."""
from __future__ import annotations

from dataclasses import dataclass

from mock_platform.backend import Backend
from mock_platform.http import Request


@dataclass
class Context:
    backend: Backend
    request: Request
    request_seq: int
    access_key: str | None = None
