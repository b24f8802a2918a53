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

from sqlalchemy import JSON, DateTime, Integer, String, func, select, text
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


@dataclass(frozen=True)
class ChainHead:
    """The last entry: keep ``str(head)`` somewhere else (a report, a printout) to detect later
    that entries were cut off the end, which the chain alone cannot show."""

    entry_id: int
    hash: str

    def __str__(self) -> str:
        return f"{self.entry_id}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> "ChainHead":
        entry_id, _, digest = (text or "").strip().partition(":")
        if not entry_id.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("审计链检查点格式应为 <编号>:<64 位十六进制哈希>。")
        return cls(int(entry_id), digest)


def chain_head(session: Session) -> ChainHead | None:
    last = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    return ChainHead(last.id, last.hash) if last else None


def verify_chain(session: Session, batch: int = 5000, checkpoint: ChainHead | None = None) -> ChainBreak | None:
    """Walk the log in order; return the first entry that was edited, or follows a deleted one."""
    breaks = find_breaks(session, batch=batch, limit=1, checkpoint=checkpoint)
    return breaks[0] if breaks else None


def find_breaks(
    session: Session, batch: int = 5000, limit: int = 100, checkpoint: ChainHead | None = None
) -> list[ChainBreak]:
    """Every entry (up to ``limit``) that was edited, or where entries were deleted.

    An edited entry whose stored hash was recomputed to match still breaks the link to the next
    entry: when the next entry is itself intact, the edited one is named, not its successor.
    ``checkpoint`` (an earlier ``chain_head``) must still be in the log with the same hash, which
    catches entries deleted from the end.
    """
    breaks: list[ChainBreak] = []
    expected_prev = GENESIS
    expected_id = 1
    previous: AuditEntry | None = None
    seen_checkpoint = checkpoint is None
    count = 0
    for entry in _iter_entries(session, batch):
        count += 1
        own_ok = entry_hash(entry) == entry.hash
        if entry.id != expected_id:
            first, last = expected_id, entry.id - 1
            span = f"第 {first} 条" if first == last else f"第 {first} 至 {last} 条"
            breaks.append(ChainBreak(first, f"{span}审计记录已被删除（第 {entry.id} 条之前缺失）。"))
        elif entry.prev_hash != expected_prev:
            if own_ok and previous is not None:
                breaks.append(ChainBreak(previous.id, f"第 {previous.id} 条审计记录已被修改"
                                                      f"（其哈希被重新计算，与第 {entry.id} 条记录的前序哈希不符）。"))
            else:
                breaks.append(ChainBreak(entry.id, f"第 {entry.id} 条审计记录的前序哈希已被修改。"))
        if not own_ok:
            breaks.append(ChainBreak(entry.id, f"第 {entry.id} 条审计记录的内容已被修改。"))
        if checkpoint is not None and entry.id == checkpoint.entry_id:
            seen_checkpoint = True
            if entry.hash != checkpoint.hash:
                breaks.append(ChainBreak(entry.id, f"第 {entry.id} 条审计记录与检查点记录的哈希不符。"))
        if len(breaks) >= limit:
            return breaks[:limit]
        expected_prev = entry.hash
        expected_id = entry.id + 1
        previous = entry
    if not seen_checkpoint:
        breaks.append(ChainBreak(checkpoint.entry_id, f"检查点之后的审计记录已被删除：第 {expected_id} 至 "
                                                      f"{checkpoint.entry_id} 条不存在。"))
    return breaks[:limit]


def count_entries(session: Session) -> int:

    return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _iter_entries(session: Session, batch: int) -> Iterator[AuditEntry]:
    last_id = 0
    while True:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)))
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()
