"""What a handler gets: the backend, the request, its sequence number and the caller's access key."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mock_platform.http import Request

if TYPE_CHECKING:
    from mock_platform.backend import Backend


@dataclass
class Context:
    backend: "Backend"
    request: Request
    request_seq: int
    access_key: str | None = None
