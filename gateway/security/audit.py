"""The append-only, hash-chained audit log (articles 5, 25).

Each entry carries the hash of the previous one, so editing or deleting any entry breaks the
chain from that point on; ``verify_chain`` finds the first entry that does not fit.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from sqlalchemy import JSON, DateTime, Integer, String, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from gateway.db import Base, utcnow
from gateway.security.principal import Principal

GENESIS = "0" * 64
# Any constant works; it only has to be the same in every process that appends.
_PG_AUDIT_LOCK = 7_410_823


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(32))
    actor_department: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(100), index=True)
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


def entry_hash(entry: AuditEntry) -> str:
    body = {
        "id": entry.id,
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "actor_role": entry.actor_role,
        "actor_department": entry.actor_department,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    session: Session,
    actor: Principal,
    action: str,
    entity_type: str,
    entity_id: object,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction. ``details`` must not hold personal data."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders so two transactions never chain onto the same predecessor.
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    last = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    entry = AuditEntry(
        id=(last.id + 1) if last else 1,
        at=utcnow(),
        actor=actor.label,
        actor_role=actor.role,
        actor_department=actor.department_code or "",
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        details=json.loads(json.dumps(details or {}, ensure_ascii=False, default=str)),
        prev_hash=last.hash if last else GENESIS,
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int
    reason: str


def verify_chain(session: Session, batch: int = 5000) -> ChainBreak | None:
    """Walk the log in order; return the first entry that was edited, or follows a deleted one."""
    expected_prev = GENESIS
    expected_id = 1
    for entry in _iter_entries(session, batch):
        if entry.id != expected_id:
            return ChainBreak(entry.id, f"第 {expected_id} 至 {entry.id - 1} 条审计记录已被删除。")
        if entry.prev_hash != expected_prev:
            return ChainBreak(entry.id, f"第 {entry.id} 条审计记录的前序哈希与上一条不符（上一条被修改或删除）。")
        if entry_hash(entry) != entry.hash:
            return ChainBreak(entry.id, f"第 {entry.id} 条审计记录的内容已被修改。")
        expected_prev = entry.hash
        expected_id += 1
    return None


def _iter_entries(session: Session, batch: int) -> Iterator[AuditEntry]:
    last_id = 0
    while True:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)))
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()
