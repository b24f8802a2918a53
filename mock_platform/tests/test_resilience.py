"""Must show: under 30% errors and 10% dropped connections a naive client loses records, and a
client that retries with the same ids and Idempotency-Key ends with every record stored exactly once.

The faults are a seeded schedule, so both transports see exactly the same failures.
"""
from __future__ import annotations

from typing import Any

import requests

from mock_platform.client import PlatformHandle
from mock_platform.tests.builders import TIMEOUT, inspection

KIND = "inspection-results"
RECORDS = [inspection(n) for n in range(1, 61)]
BATCHES = [RECORDS[i:i + 5] for i in range(0, len(RECORDS), 5)]
IDS = {record["id"] for record in RECORDS}
FAULTS = {
    "seed": 20240520,
    "errors": {"rates": {"500": 0.15, "503": 0.15}, "phase": "before"},
    "drops": {"rate": 0.10, "phase": "after"},
}
MAX_ATTEMPTS = 12
RETRYABLE = {429, 500, 502, 503, 504}


def naive_push(platform: PlatformHandle, batch: list[dict[str, Any]]) -> None:
    """One attempt; whatever happens, move on."""
    try:
        platform.session().post(platform.url(f"/api/v1/{KIND}/batch"), json={"records": batch}, timeout=TIMEOUT)
    except requests.ConnectionError:
        pass


def retrying_push(platform: PlatformHandle, batch: list[dict[str, Any]], key: str | None) -> dict[str, Any]:
    """Resend the same batch (same record ids, same key, a fresh signature each time) until answered."""
    session = platform.session()
    headers = {"Idempotency-Key": key} if key else {}
    for _ in range(MAX_ATTEMPTS):
        try:
            response = session.post(platform.url(f"/api/v1/{KIND}/batch"), json={"records": batch},
                                    headers=headers, timeout=TIMEOUT)
        except requests.ConnectionError:
            continue
        if response.status_code not in RETRYABLE:
            assert response.status_code == 200, response.text
            return response.json()
    raise AssertionError(f"batch still failing after {MAX_ATTEMPTS} attempts")


def stored_ids(platform: PlatformHandle) -> list[str]:
    """Every record the platform holds for this sender, read back page by page."""
    session, ids, after = platform.session(), [], 0
    for _ in range(len(RECORDS)):
        page = session.get(platform.url(f"/api/v1/{KIND}"), params={"after": after, "limit": 25}, timeout=TIMEOUT).json()
        ids += [item["id"] for item in page["items"]]
        if page["next_after"] is None:
            return ids
        after = page["next_after"]
    raise AssertionError("paging did not end")


def test_a_naive_client_loses_records(platform: PlatformHandle) -> None:
    platform.control.set_faults(FAULTS)
    for batch in BATCHES:
        naive_push(platform, batch)
    report = platform.control.received()
    platform.control.clear_faults()
    kept = set(stored_ids(platform))
    assert report["totals"]["faults"] > 0
    assert len(kept) < len(RECORDS)
    assert IDS - kept
    assert {row["id"] for row in report["records"] if row["stored"]} == kept


def test_retrying_with_the_same_ids_and_idempotency_keys_stores_every_record_exactly_once(platform: PlatformHandle) -> None:
    platform.control.set_faults(FAULTS)
    answers = [retrying_push(platform, batch, key=f"batch-{index}") for index, batch in enumerate(BATCHES)]
    report = platform.control.received()
    platform.control.clear_faults()

    assert all(result["outcome"] == "accepted" for answer in answers for result in answer["results"])
    rows = {row["id"]: row for row in report["records"]}
    assert set(rows) == IDS
    assert all(row["stored"] and row["accepted"] == 1 for row in rows.values())
    assert all(row["duplicate"] == row["conflict"] == row["rejected"] == 0 for row in rows.values())
    totals = report["totals"]
    assert totals["stored"] == len(RECORDS) and totals["accepted"] == len(RECORDS)
    assert totals["faults"] > 0 and totals["replayed"] > 0
    ids = stored_ids(platform)
    assert len(ids) == len(set(ids)) == len(RECORDS)


def test_without_keys_the_record_ids_still_keep_each_record_once(platform: PlatformHandle) -> None:
    platform.control.set_faults(FAULTS)
    for batch in BATCHES:
        retrying_push(platform, batch, key=None)
    report = platform.control.received()
    platform.control.clear_faults()

    rows = report["records"]
    assert {row["id"] for row in rows} == IDS
    assert all(row["stored"] and row["accepted"] == 1 for row in rows)
    assert sum(row["duplicate"] for row in rows) > 0
    assert report["totals"]["stored"] == len(RECORDS) and report["totals"]["replayed"] == 0
