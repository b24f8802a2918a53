"""The platform's record ledger: validate each pushed record, classify it and store it once.

A record's identity is (sender's access key, kind, id). Its content is compared through the
SHA-256 of its canonical JSON (the validated record, keys sorted), so a resend of the same
record is a ``duplicate`` and a different record under a used id is a ``conflict``.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable

from mock_platform.store import Store
from schemas.platform import OUTCOMES, field_error, record_schema, validate_record


@dataclass(frozen=True)
class Push:
    """Who pushes, when, and under which rules."""

    store: Store
    sender: str
    kind: str
    today: date
    at: str
    receipt_prefix: str
    request_seq: int
    batch_id: str
    require_known_entities: bool


def canonical_json(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def content_sha256(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest()


def normalise(kind: str, data: Any, today: date) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The validated record as plain JSON values, or the flat field errors."""
    loaded, errors = validate_record(kind, data, today)
    if loaded is None:
        return None, errors
    return record_schema(kind).dump(loaded), []


def record_usccs(record: dict[str, Any]) -> set[str]:
    """Every USCC a record names (the target's, or each drawn target's)."""
    found = {record["uscc"]} if record.get("uscc") else set()
    found.update(target["uscc"] for target in record.get("targets", []))
    return found


def unknown_entity_errors(store: Store, record: dict[str, Any]) -> list[dict[str, Any]]:
    """Field errors for USCCs the platform has no entity for."""
    unknown = record_usccs(record) - store.known_usccs(record_usccs(record))
    errors = []
    if record.get("uscc") in unknown:
        errors.append({"field": "uscc", **_unknown_entity()})
    for index, target in enumerate(record.get("targets", [])):
        if target["uscc"] in unknown:
            errors.append({"field": f"targets[{index}].uscc", **_unknown_entity()})
    return errors


def _unknown_entity() -> dict[str, str]:
    return field_error("unknown_entity", "平台中没有该统一社会信用代码对应的市场主体")


def _outcome(index: int, record_id: str | None, outcome: str, **extra: Any) -> dict[str, Any]:
    status, message = OUTCOMES[outcome]
    return {"index": index, "id": record_id, "outcome": outcome, "status": status, "message": message, **extra}


def push_one(push: Push, index: int, data: Any) -> dict[str, Any]:
    """Validate, classify and (if new) store one record; log the event; return its outcome."""
    record_id = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
    record, errors = normalise(push.kind, data, push.today)
    if record is not None and push.require_known_entities:
        errors = unknown_entity_errors(push.store, record)
    if errors:
        result = _outcome(index, record_id, "rejected", code="validation_failed", errors=errors)
    else:
        assert record is not None
        record_id = record["id"]
        text = canonical_json(record)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        existing = push.store.record_digest(push.sender, push.kind, record_id)
        if existing is None:
            stored = push.store.insert_record(
                sender=push.sender, kind=push.kind, record_id=record_id, content_sha256=digest, body=record,
                received_at=push.at, receipt_prefix=push.receipt_prefix, body_json=text,
            )
            result = _outcome(index, record_id, "accepted", receipt=stored.receipt)
        elif existing[0] == digest:
            result = _outcome(index, record_id, "duplicate", receipt=existing[1])
        else:
            result = _outcome(index, record_id, "conflict", code="record_conflict", receipt=existing[1])
    push.store.add_event(
        request_seq=push.request_seq, sender=push.sender, kind=push.kind, record_id=record_id,
        outcome=result["outcome"], batch_id=push.batch_id, at=push.at,
    )
    return result


def push_batch(push: Push, records: Iterable[Any]) -> dict[str, Any]:
    """Push every record of a batch in order, in one transaction of the store; the batch answer with
    per-record outcomes."""
    with push.store.transaction():
        results = [push_one(push, index, data) for index, data in enumerate(records)]
    summary = {outcome: 0 for outcome in OUTCOMES}
    for result in results:
        summary[result["outcome"]] += 1
    return {"batch_id": push.batch_id, "kind": push.kind, "received_at": push.at, "summary": summary, "results": results}


def received_report(store: Store, kind: str | None = None) -> dict[str, Any]:
    """What was received, in order, with per-record counts (duplicates included) and totals."""
    events = store.events(kind)
    per_record: dict[tuple[str, str, str], dict[str, Any]] = {}
    for event in events:
        if event["id"] is None:
            continue
        key = (event["sender"], event["kind"], event["id"])
        row = per_record.setdefault(key, {
            "sender": event["sender"], "kind": event["kind"], "id": event["id"], "received": 0,
            **{outcome: 0 for outcome in OUTCOMES},
        })
        row["received"] += 1
        row[event["outcome"]] += 1
    for (sender, record_kind, record_id), row in per_record.items():
        row["stored"] = store.find_record(sender, record_kind, record_id) is not None
    requests = store.requests()
    stored = store.count_records(kind)
    totals = {
        "requests": len(requests),
        "replayed": sum(1 for r in requests if r["replayed"]),
        "faults": sum(1 for r in requests if r["fault"] and not r["fault"].startswith("latency")),
        "received": len(events),
        **{outcome: sum(1 for e in events if e["outcome"] == outcome) for outcome in OUTCOMES},
        "stored": stored["pushed"],
        "seeded": stored["seeded"],
    }
    return {"events": events, "records": list(per_record.values()), "totals": totals}
