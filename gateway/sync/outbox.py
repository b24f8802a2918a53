"""Enqueue a published record for the platform, in the publishing transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.sync.models import RECORD_KINDS, OutboxRecord


def platform_record_id(area_code: str, kind: str, entity_id: int) -> str:
    return f"{area_code}-{kind}-{entity_id}"


def enqueue(
    session: Session,
    kind: str,
    entity_id: int,
    *,
    area_code: str,
    department_code: str = "",
    due_date: datetime | None = None,
) -> OutboxRecord:
    """Add the outbox row for a just-published entity (idempotent: publishing twice adds one row).

    The payload is built by the sync worker from the published, immutable entity.
    """
    if kind not in RECORD_KINDS:
        raise ValueError(f"unknown record kind {kind!r}")
    record_id = platform_record_id(area_code, kind, entity_id)
    existing = session.scalar(select(OutboxRecord).where(OutboxRecord.record_id == record_id))
    if existing is not None:
        return existing
    row = OutboxRecord(
        record_id=record_id, kind=kind, entity_id=entity_id, department_code=department_code, due_date=due_date
    )
    session.add(row)
    session.flush()
    return row
