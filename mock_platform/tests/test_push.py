"""Batch push: per-record outcomes, batch-level errors, and reading back one's own records."""
from __future__ import annotations

from typing import Any

import pytest

from mock_platform.client import PlatformHandle
from mock_platform.tests.builders import (
    BUILDERS,
    TIMEOUT,
    body_of,
    draw_result,
    follow_up,
    future_day,
    inspection,
    make_uscc,
    post_raw,
    push,
)
from schemas.platform import RECORD_SCHEMAS, BatchResponseSchema, ErrorSchema, RecordPageSchema, StoredRecordSchema


def outcomes(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    payload = response.json()
    assert BatchResponseSchema().validate(payload) == {}
    return [result["outcome"] for result in payload["results"]]


def error_code(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert ErrorSchema().validate(response.json()) == {}
    return response.json()["code"]


@pytest.mark.parametrize("kind", RECORD_SCHEMAS)
def test_each_kind_is_accepted_with_a_receipt(platform: PlatformHandle, kind: str) -> None:
    response = push(platform, kind, [BUILDERS[kind](1), BUILDERS[kind](2)])
    assert outcomes(response) == ["accepted", "accepted"]
    payload = response.json()
    assert payload["kind"] == kind and payload["summary"] == {"accepted": 2, "duplicate": 0, "conflict": 0, "rejected": 0}
    assert [r["status"] for r in payload["results"]] == [201, 201]
    receipts = [r["receipt"] for r in payload["results"]]
    assert len(set(receipts)) == 2 and all(r.startswith("HA") for r in receipts)


def test_same_id_same_content_is_a_duplicate_with_the_first_receipt(platform: PlatformHandle) -> None:
    first = push(platform, "inspection-results", [inspection()]).json()["results"][0]
    again = push(platform, "inspection-results", [inspection()]).json()["results"][0]
    assert again["outcome"] == "duplicate" and again["status"] == 200
    assert again["receipt"] == first["receipt"]


def test_a_duplicate_inside_one_batch_is_caught_too(platform: PlatformHandle) -> None:
    assert outcomes(push(platform, "inspection-results", [inspection(), inspection()])) == ["accepted", "duplicate"]


def test_a_missing_optional_field_equals_an_explicit_null(platform: PlatformHandle) -> None:
    record = inspection()
    del record["remarks"]
    assert outcomes(push(platform, "inspection-results", [inspection(), record])) == ["accepted", "duplicate"]


def test_same_id_other_content_is_a_conflict(platform: PlatformHandle) -> None:
    push(platform, "inspection-results", [inspection()])
    result = push(platform, "inspection-results", [inspection(result_codes=["E"])]).json()["results"][0]
    assert (result["outcome"], result["status"], result["code"]) == ("conflict", 409, "record_conflict")
    stored = platform.session().get(platform.url("/api/v1/inspection-results/result-1"), timeout=TIMEOUT).json()
    assert stored["record"]["result_codes"] == ["1"]


@pytest.mark.parametrize("record, field, code", [
    (inspection(uscc="914108230000000010"), "uscc", "invalid_uscc"),
    (inspection(result_codes=["X"]), "result_codes[0]", "unknown_result_code"),
    (inspection(result_codes=["B"]), "result_codes", "result_code_parent_missing"),
    ({k: v for k, v in inspection().items() if k != "authority"}, "authority", "missing_field"),
    (inspection(completed_on=future_day()), "completed_on", "future_date"),
    (inspection(extra="x"), "extra", "unknown_field"),
    (draw_result(targets=[]), "targets", "too_short"),
    (follow_up(disposition="fine"), "disposition", "invalid_choice"),
])
def test_rejected_records_carry_field_errors(platform: PlatformHandle, record: dict, field: str, code: str) -> None:
    kind = "draw-results" if "targets" in record else "follow-ups" if "disposition" in record else "inspection-results"
    result = push(platform, kind, [record]).json()["results"][0]
    assert (result["outcome"], result["status"], result["code"]) == ("rejected", 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, code)]


def test_outcomes_are_per_record_in_a_mixed_batch(platform: PlatformHandle) -> None:
    push(platform, "inspection-results", [inspection(1), inspection(2)])
    batch = [inspection(1), inspection(2, remarks="改"), inspection(3, uscc="1"), inspection(4), "not a record"]
    response = push(platform, "inspection-results", batch)
    assert outcomes(response) == ["duplicate", "conflict", "rejected", "accepted", "rejected"]
    results = response.json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert results[4]["id"] is None and results[4]["errors"][0]["code"] == "not_an_object"
    assert response.json()["summary"] == {"accepted": 1, "duplicate": 1, "conflict": 1, "rejected": 2}


def test_a_rejected_record_can_be_resent_corrected(platform: PlatformHandle) -> None:
    assert outcomes(push(platform, "inspection-results", [inspection(uscc="1")])) == ["rejected"]
    assert outcomes(push(platform, "inspection-results", [inspection()])) == ["accepted"]


def test_ids_are_scoped_by_sender(platform: PlatformHandle) -> None:
    platform.control.add_credentials("county-b", "county-b-secret")
    push(platform, "inspection-results", [inspection()])
    from schemas.signing import PlatformAuth

    other = platform.session()
    other.auth = PlatformAuth("county-b", "county-b-secret")
    assert outcomes(push(platform, "inspection-results", [inspection(result_codes=["E"])], session=other)) == ["accepted"]


def test_unknown_entities_are_rejected_when_the_platform_requires_them(platform: PlatformHandle) -> None:
    platform.control.update_settings(require_known_entities=True)
    platform.control.seed_entities([{"uscc": make_uscc(1), "name": "武陟县第1加油站有限公司"}])
    response = push(platform, "draw-results", [draw_result(1), draw_result(2)])
    assert outcomes(response) == ["accepted", "rejected"]
    assert response.json()["results"][1]["errors"] == [
        {"field": "targets[0].uscc", "code": "unknown_entity", "message": "平台中没有该统一社会信用代码对应的市场主体"}
    ]
    assert outcomes(push(platform, "inspection-results", [inspection(2)])) == ["rejected"]


@pytest.mark.parametrize("body, code", [
    (b"{not json", "invalid_json"),
    (b"\xff\xfe", "invalid_json"),
    (b"[]", "invalid_batch"),
    (b'{"records": {}}', "invalid_batch"),
    (b'{"records": [], "extra": 1}', "invalid_batch"),
    (b'{"records": []}', "empty_batch"),
])
def test_malformed_batches_are_refused_whole(platform: PlatformHandle, body: bytes, code: str) -> None:
    assert error_code(post_raw(platform, "/api/v1/plans/batch", body), 400) == code


def test_batches_above_the_size_limit_are_refused(platform: PlatformHandle) -> None:
    platform.control.update_settings(max_batch_records=3)
    response = push(platform, "inspection-results", [inspection(n) for n in range(4)])
    assert error_code(response, 413) == "batch_too_large"
    assert response.json()["max_records"] == 3
    assert outcomes(push(platform, "inspection-results", [inspection(n) for n in range(3)])) == ["accepted"] * 3


def test_bodies_above_the_byte_limit_are_refused(platform: PlatformHandle) -> None:
    platform.control.update_settings(max_body_bytes=1024)
    response = push(platform, "inspection-results", [inspection(n) for n in range(5)])
    assert error_code(response, 413) == "payload_too_large"


def test_a_body_that_is_not_json_content_is_refused(platform: PlatformHandle) -> None:
    response = post_raw(platform, "/api/v1/plans/batch", body_of([]), content_type="text/plain")
    assert error_code(response, 415) == "unsupported_media_type"


def test_own_records_page_oldest_first(platform: PlatformHandle) -> None:
    push(platform, "inspection-results", [inspection(n) for n in range(1, 6)])
    session, seen, after = platform.session(), [], 0
    for _ in range(5):
        page = session.get(platform.url("/api/v1/inspection-results"), params={"limit": 2, "after": after}, timeout=TIMEOUT).json()
        assert RecordPageSchema().validate(page) == {}
        seen += [item["id"] for item in page["items"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert seen == [f"result-{n}" for n in range(1, 6)]


def test_own_record_read_back_and_not_found(platform: PlatformHandle) -> None:
    push(platform, "plans", [BUILDERS["plans"](1)])
    session = platform.session()
    stored = session.get(platform.url("/api/v1/plans/plan-1"), timeout=TIMEOUT).json()
    assert StoredRecordSchema().validate(stored) == {}
    assert stored["kind"] == "plans" and stored["record"]["plan_number"] == "WZ-2024-JOINT-01"
    missing = session.get(platform.url("/api/v1/plans/plan-9"), timeout=TIMEOUT)
    assert error_code(missing, 404) == "record_not_found"


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "x"}, {"after": "-1"}])
def test_bad_paging_parameters(platform: PlatformHandle, query: dict[str, str]) -> None:
    response = platform.session().get(platform.url("/api/v1/plans"), params=query, timeout=TIMEOUT)
    assert error_code(response, 400) == "invalid_query"
