"""An outside integrator's fixtures: their own signer, written from docs/platform-api.md alone.

This suite imports nothing from the project but the ``mock_platform`` package's public names; it
gets the ``mock_platform`` and ``mock_platform_server`` fixtures from the installed distribution's
pytest plugin.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Callable
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import pytest
import requests


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def string_to_sign(method: str, url: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The six lines of section 2 of the API guide."""
    parts = urlsplit(url)
    path = quote(unquote(parts.path or "/"), safe="/-_.~")
    pairs = sorted((_encode(k), _encode(v)) for k, v in parse_qsl(parts.query, keep_blank_values=True))
    query = "&".join(f"{k}={v}" for k, v in pairs)
    return "\n".join([method.upper(), path, query, timestamp, nonce, hashlib.sha256(body).hexdigest()])


def signature(secret: str, text: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


class Signer(requests.auth.AuthBase):
    """Signs every request anew (a fresh timestamp and nonce for each attempt)."""

    def __init__(self, access_key: str, secret: str, clock: Callable[[], float] = time.time):
        self.access_key, self.secret, self.clock = access_key, secret, clock

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        timestamp, nonce = str(int(self.clock() * 1000)), secrets.token_hex(16)
        text = string_to_sign(request.method or "GET", request.url or "", timestamp, nonce, body)
        request.headers.update({"X-Ca-Key": self.access_key, "X-Ca-Timestamp": timestamp, "X-Ca-Nonce": nonce,
                                "X-Ca-Signature": signature(self.secret, text)})
        return request


@pytest.fixture(params=["inprocess", "server"])
def platform(request: pytest.FixtureRequest):
    """The mock platform on either transport, from the plugin's fixtures."""
    return request.getfixturevalue("mock_platform" if request.param == "inprocess" else "mock_platform_server")


@pytest.fixture
def client(platform) -> requests.Session:
    session = requests.Session()
    session.auth = Signer(platform.access_key, platform.secret)
    return session


def result(n: int = 1, **changes: object) -> dict:
    return {
        "id": f"r-{n}", "plan_number": "WZ-2024-01", "plan_name": "武陟县2024年度跨部门联合抽查计划",
        "task_number": "WZ-2024-T1", "task_name": "联合检查", "inspection_type": "joint_random",
        "authority": "武陟县商务局", "authority_level": "county", "completed_on": "2024-05-20",
        "result_codes": ["1"], "uscc": "91410823000000003F", "target_name": "某公司", **changes,
    }


@pytest.fixture
def make_result() -> Callable[..., dict]:
    return result


@pytest.fixture
def make_signer() -> type[Signer]:
    return Signer


@pytest.fixture
def signing() -> tuple[Callable[..., str], Callable[[str, str], str]]:
    return string_to_sign, signature
