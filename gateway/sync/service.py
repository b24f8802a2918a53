"""Operator actions on the outbox: look a record up, resend it (after correcting its entity, with a
rebuilt payload when asked). Every action is authorised and audited."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.db import utcnow
from gateway.errors import Conflict, Invalid, NotFound
from gateway.security import audit
from gateway.security.policy import authorize
from gateway.security.principal import Principal
from gateway.sync.models import STATE_LABELS, OutboxRecord
from gateway.sync.records import BuildError, build_record
from gateway.sync.status import record_dict


def get_row(session: Session, record_id: str) -> OutboxRecord:
    row = session.scalar(select(OutboxRecord).where(OutboxRecord.record_id == record_id))
    if row is None:
        raise NotFound.of("推送记录", record_id)
    return row


def read_record(session: Session, principal: Principal, record_id: str) -> dict[str, Any]:
    row = get_row(session, record_id)
    authorize(principal, "sync.read", departments=[row.department_code])
    return record_dict(row)


def resend(session: Session, principal: Principal, record_id: str, settings: Settings, *,
           rebuild: bool = False) -> dict[str, Any]:
    """Put a dead (or waiting) record back in the queue, due now, under a new generation so the
    platform processes it afresh. ``rebuild`` rebuilds a dead record's payload from its entity as
    it is now (after the operator corrected it); a record the platform may hold is never rebuilt,
    since different content under a stored id would be a conflict."""
    row = get_row(session, record_id)
    authorize(principal, "sync.operate", departments=[row.department_code])
    now = utcnow()
    if row.state == "delivered":
        raise Conflict("already_delivered", f"记录 {record_id} 已送达省级平台（回执 "
                       f"{(row.receipt or {}).get('receipt', '无')}），无需重发。")
    if row.state == "in_flight" and row.lease_expires_at is not None and row.lease_expires_at > now:
        raise Conflict("in_flight", f"记录 {record_id} 正在由同步进程 {row.lease_owner} 推送，请稍后再试。")
    if rebuild and row.state != "dead":
        raise Conflict("rebuild_not_allowed",
                       f"只有死信记录可以按更正后的数据重新生成（该记录当前状态：{STATE_LABELS.get(row.state, row.state)}）；"
                       "平台可能已收到的记录不能改变内容。")
    previous = {"state": row.state, "outcome": row.last_outcome,
                "codes": sorted({str(e.get("code")) for e in ((row.field_errors or {}).get("errors") or [])})}
    changed = False
    if rebuild:
        try:
            payload = build_record(session, row.kind, row.entity_id, row.record_id, settings)
        except BuildError as error:
            raise Invalid("rebuild_failed", f"无法重新生成记录 {record_id}：{error.message}") from None
        changed = payload != row.payload
        row.payload = payload
    row.requeue(now, "resend_requested")
    session.flush()
    audit.record(session, principal, "sync.resend", "outbox", record_id,
                 {"kind": row.kind, "rebuild": rebuild, "payload_changed": changed, "previous": previous,
                  "generation": row.generation})
    data = record_dict(row)
    data["payload_changed"] = changed
    return data
