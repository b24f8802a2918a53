"""Authentication: every way to fail has its own 401 reason; the documented helper is accepted."""
from __future__ import annotations

import re
import time
from typing import Any

import pytest
import requests

from mock_platform.client import PlatformHandle
from mock_platform.tests.builders import TIMEOUT, body_of, inspection, push
from schemas import signing
from schemas.platform import ErrorSchema

PUSH = "/api/v1/inspection-results/batch"
CJK = re.compile(r"[\u4e00-\u9fff]")


def send(platform: PlatformHandle, *, path: str = PUSH, body: bytes | None = None, secret: str | None = None,
         key: str | None = None, timestamp: str | None = None, nonce: str | None = None,
         drop: tuple[str, ...] = (), extra: dict[str, str] | None = None, tamper_body: bytes | None = None) -> requests.Response:
    """One POST signed by hand, with whatever is wrong with it."""
    body = body_of([inspection()]) if body is None else body
    headers = signing.sign("POST", platform.url(path), body, key or platform.access_key, secret or platform.secret,
                           timestamp=timestamp, nonce=nonce)
    headers = {k: v for k, v in headers.items() if k not in drop}
    headers.update(extra or {})
    headers["Content-Type"] = "application/json"
    return requests.post(platform.url(path), data=tamper_body or body, headers=headers, timeout=TIMEOUT)


def refused(response: requests.Response, code: str) -> dict[str, Any]:
    assert response.status_code == 401, response.text
    payload = response.json()
    assert ErrorSchema().validate(payload) == {}
    assert payload["code"] == code
    assert CJK.search(payload["message"])
    return payload


def test_a_request_signed_by_the_documented_helper_is_accepted(platform: PlatformHandle) -> None:
    response = push(platform, "inspection-results", [inspection()])
    assert response.status_code == 200
    assert response.json()["summary"]["accepted"] == 1


def test_signed_get_with_query_and_an_encoded_path_is_accepted(platform: PlatformHandle) -> None:
    push(platform, "inspection-results", [inspection(id="result:1.a")])
    session = platform.session()
    found = session.get(platform.url("/api/v1/inspection-results/result%3A1.a"), timeout=TIMEOUT)
    assert found.status_code == 200 and found.json()["id"] == "result:1.a"
    listed = session.get(platform.url("/api/v1/inspection-results"), params={"limit": "5", "after": "0"}, timeout=TIMEOUT)
    assert listed.status_code == 200 and len(listed.json()["items"]) == 1


def test_all_headers_missing(platform: PlatformHandle) -> None:
    response = requests.post(platform.url(PUSH), json={"records": []}, timeout=TIMEOUT)
    assert refused(response, "auth_headers_missing")["missing"] == list(signing.REQUIRED_HEADERS)


def test_one_header_missing_is_named(platform: PlatformHandle) -> None:
    assert refused(send(platform, drop=("X-Ca-Signature",)), "auth_headers_missing")["missing"] == ["X-Ca-Signature"]


@pytest.mark.parametrize("header, value", [("X-Ca-Timestamp", "yesterday"), ("X-Ca-Nonce", "short")])
def test_malformed_headers(platform: PlatformHandle, header: str, value: str) -> None:
    payload = refused(send(platform, extra={header: value}), "auth_header_invalid")
    assert payload["header"] == header


def test_unsupported_signature_method(platform: PlatformHandle) -> None:
    refused(send(platform, extra={"X-Ca-Signature-Method": "HmacSHA1"}), "unsupported_signature_method")


def test_unknown_access_key(platform: PlatformHandle) -> None:
    refused(send(platform, key="nobody"), "access_key_unknown")


@pytest.mark.parametrize("offset_seconds", [-600, 600])
def test_clock_skew_beyond_the_window(platform: PlatformHandle, offset_seconds: int) -> None:
    stamp = str(int((time.time() + offset_seconds) * 1000))
    payload = refused(send(platform, timestamp=stamp), "timestamp_skew")
    assert payload["max_skew_seconds"] == 300


def test_the_skew_window_is_configurable(platform: PlatformHandle) -> None:
    platform.control.update_settings(max_clock_skew_seconds=3600)
    stamp = str(int((time.time() - 600) * 1000))
    assert send(platform, timestamp=stamp).status_code == 200


def test_wrong_secret(platform: PlatformHandle) -> None:
    payload = refused(send(platform, secret="not-the-secret"), "signature_mismatch")
    assert payload["string_to_sign"].startswith("POST\n/api/v1/inspection-results/batch\n")


def test_body_changed_after_signing(platform: PlatformHandle) -> None:
    refused(send(platform, tamper_body=body_of([inspection(remarks="改过")])), "signature_mismatch")


def test_query_changed_after_signing(platform: PlatformHandle) -> None:
    headers = signing.sign("GET", platform.url("/api/v1/plans?limit=5"), None, platform.access_key, platform.secret)
    response = requests.get(platform.url("/api/v1/plans?limit=6"), headers=headers, timeout=TIMEOUT)
    refused(response, "signature_mismatch")


def test_reused_nonce(platform: PlatformHandle) -> None:
    nonce = signing.new_nonce()
    stamp = signing.timestamp_ms()
    assert send(platform, nonce=nonce, timestamp=stamp).status_code == 200
    refused(send(platform, nonce=nonce, timestamp=stamp), "nonce_reused")


def test_a_badly_signed_request_does_not_spend_its_nonce(platform: PlatformHandle) -> None:
    nonce = signing.new_nonce()
    refused(send(platform, nonce=nonce, secret="wrong-secret"), "signature_mismatch")
    assert send(platform, nonce=nonce).status_code == 200


def test_credentials_added_through_control_are_accepted(platform: PlatformHandle) -> None:
    refused(send(platform, key="county-b", secret="county-b-secret"), "access_key_unknown")
    platform.control.add_credentials("county-b", "county-b-secret")
    assert send(platform, key="county-b", secret="county-b-secret").status_code == 200


def test_public_reads_need_no_signature(platform: PlatformHandle) -> None:
    response = requests.get(platform.url("/api/v1/public/plans/none"), timeout=TIMEOUT)
    assert response.json()["code"] == "plan_not_found"
