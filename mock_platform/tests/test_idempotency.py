"""Idempotency-Key: the first answer is replayed; a key reused for another body is refused."""
from __future__ import annotations

import json

from mock_platform.client import PlatformHandle
from mock_platform.tests.builders import inspection, push
from schemas.signing import PlatformAuth


def test_the_first_answer_is_replayed_byte_for_byte(platform: PlatformHandle) -> None:
    first = push(platform, "inspection-results", [inspection()], headers={"Idempotency-Key": "batch-1"})
    again = push(platform, "inspection-results", [inspection()], headers={"Idempotency-Key": "batch-1"})
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["Idempotency-Replayed"] == "true"
    assert "Idempotency-Replayed" not in first.headers
    received = platform.control.received()
    assert received["totals"]["received"] == 1 and received["totals"]["replayed"] == 1


def test_without_a_key_the_resend_is_a_duplicate(platform: PlatformHandle) -> None:
    push(platform, "inspection-results", [inspection()])
    assert push(platform, "inspection-results", [inspection()]).json()["results"][0]["outcome"] == "duplicate"


def test_a_batch_refused_as_a_whole_is_not_kept_so_the_key_stays_usable(platform: PlatformHandle) -> None:
    platform.control.update_settings(max_batch_records=1)
    records = [inspection(1), inspection(2)]
    first = push(platform, "inspection-results", records, headers={"Idempotency-Key": "too-big"})
    platform.control.update_settings(max_batch_records=10)
    again = push(platform, "inspection-results", records, headers={"Idempotency-Key": "too-big"})
    assert (first.status_code, again.status_code) == (413, 200)
    assert "Idempotency-Replayed" not in again.headers
    assert again.json()["summary"]["accepted"] == 2


def test_a_keyed_415_is_not_replayed_once_the_content_type_is_fixed(platform: PlatformHandle) -> None:
    body = json.dumps({"records": [inspection()]}).encode()
    session = platform.session()
    url = platform.url("/api/v1/inspection-results/batch")
    wrong = session.post(url, data=body, headers={"Idempotency-Key": "k415", "Content-Type": "text/plain"}, timeout=10)
    right = session.post(url, data=body, headers={"Idempotency-Key": "k415", "Content-Type": "application/json"}, timeout=10)
    assert (wrong.status_code, right.status_code) == (415, 200)
    replay = session.post(url, data=body, headers={"Idempotency-Key": "k415", "Content-Type": "application/json"}, timeout=10)
    assert replay.headers["Idempotency-Replayed"] == "true" and replay.content == right.content


def test_a_key_reused_for_another_body_is_refused(platform: PlatformHandle) -> None:
    push(platform, "inspection-results", [inspection(1)], headers={"Idempotency-Key": "k"})
    response = push(platform, "inspection-results", [inspection(2)], headers={"Idempotency-Key": "k"})
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"


def test_a_key_reused_on_another_endpoint_is_refused(platform: PlatformHandle) -> None:
    push(platform, "inspection-results", [inspection(1)], headers={"Idempotency-Key": "k"})
    response = push(platform, "follow-ups", [inspection(1)], headers={"Idempotency-Key": "k"})
    assert response.json()["code"] == "idempotency_key_reused"


def test_keys_belong_to_their_access_key(platform: PlatformHandle) -> None:
    platform.control.add_credentials("county-b", "county-b-secret")
    other = platform.session()
    other.auth = PlatformAuth("county-b", "county-b-secret")
    push(platform, "inspection-results", [inspection()], headers={"Idempotency-Key": "shared"})
    response = push(platform, "inspection-results", [inspection()], session=other, headers={"Idempotency-Key": "shared"})
    assert "Idempotency-Replayed" not in response.headers
    assert response.json()["results"][0]["outcome"] == "accepted"


def test_an_unprintable_or_overlong_key_is_refused(platform: PlatformHandle) -> None:
    for key in ("x" * 256, "tab\there"):
        response = push(platform, "inspection-results", [inspection()], headers={"Idempotency-Key": key})
        assert response.status_code == 400 and response.json()["code"] == "invalid_idempotency_key"
