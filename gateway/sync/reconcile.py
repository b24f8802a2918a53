"""Reconciliation: what the platform holds (its signed list endpoints) against what was published.

For each kind:

* every published entity must have an outbox row (``not_enqueued``: enqueued now);
* a row marked delivered must be on the platform (``missing_on_platform``: re-queued under a new
  generation, so the resend is processed afresh rather than answered from an old Idempotency-Key);
* a record on the platform must have the content we sent (``content_differs``: reported);
* a row still waiting whose record the platform already holds with the same content was delivered
  but its answer never arrived (``delivered_unrecorded``: marked delivered with the platform's
  receipt); with different content it is reported (``content_differs``);
* a record on the platform that no row explains is reported (``unknown_on_platform``).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core import Gateway
from gateway.db import utcnow
from gateway.security import audit
from gateway.security.principal import SYSTEM, Principal
from gateway.sync.client import PlatformClient
from gateway.sync.models import KIND_LABELS, RECORD_KINDS, OutboxRecord
from gateway.sync.outbox import enqueue, platform_record_id
from gateway.sync.records import PLATFORM_KINDS, published_entities
from schemas.platform import record_schema, validate_record

PROBLEM_LABELS = {
    "not_enqueued": "已发布但未进入推送队列",
    "missing_on_platform": "标记为已送达，但平台上没有该记录",
    "content_differs": "平台上的记录内容与本地发布的不同",
    "delivered_unrecorded": "平台已收到，但本地未记录送达",
    "unknown_on_platform": "平台上有本地没有的记录",
}
ACTION_LABELS = {"enqueued": "已加入推送队列", "requeued": "已重新排队推送", "marked_delivered": "已标记为送达",
                 "reported": "仅报告"}


@dataclass
class Difference:
    kind: str
    record_id: str
    problem: str
    action: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "record_id": self.record_id, "problem": self.problem,
                "problem_label": PROBLEM_LABELS[self.problem], "action": self.action,
                "action_label": ACTION_LABELS[self.action], "detail": self.detail}


@dataclass
class ReconcileReport:
    dry_run: bool
    checked: dict[str, dict[str, int]] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for d in self.differences:
            counts[d.problem] = counts.get(d.problem, 0) + 1
        return {"dry_run": self.dry_run, "checked": self.checked, "problems": counts,
                "differences": [d.as_dict() for d in self.differences]}

    def format(self) -> str:
        lines = []
        for kind, numbers in self.checked.items():
            lines.append(f"{KIND_LABELS.get(kind, kind)}：本地已发布 {numbers['published']}，推送队列 {numbers['outbox']}"
                         f"（已送达 {numbers['delivered']}），平台持有 {numbers['platform']}")
        if not self.differences:
            lines.append("对账一致：平台持有的记录与本地发布的记录相符。")
        for d in self.differences:
            lines.append(f"  [{PROBLEM_LABELS[d.problem]}] {d.record_id}：{ACTION_LABELS[d.action]}"
                         + (f"（{d.detail}）" if d.detail else ""))
        if self.dry_run and self.differences:
            lines.append("（试运行：未做任何修改）")
        return "\n".join(lines)


def content_sha256(kind: str, payload: dict[str, Any]) -> str | None:
    """The platform's content digest of ``payload`` (the validated record, canonical JSON), or None
    when the payload would not validate."""
    segment = PLATFORM_KINDS[kind]
    loaded, errors = validate_record(segment, payload, today=date.max - timedelta(days=1))
    if loaded is None:
        return None
    record = record_schema(segment).dump(loaded)
    text = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def reconcile(gateway: Gateway, client: PlatformClient, *, kinds: Iterable[str] = RECORD_KINDS,
              dry_run: bool = False, principal: Principal = SYSTEM) -> ReconcileReport:
    report = ReconcileReport(dry_run=dry_run)
    for kind in kinds:
        held = {item["id"]: item for item in client.list_records(PLATFORM_KINDS[kind])}
        with gateway.write() as session:
            _reconcile_kind(session, gateway, kind, held, report, dry_run)
            if not dry_run and any(d.action != "reported" for d in report.differences if d.kind == kind):
                audit.record(session, principal, "sync.reconcile", "outbox", kind, {
                    "problems": [d.problem for d in report.differences if d.kind == kind][:200],
                    "records": [d.record_id for d in report.differences if d.kind == kind][:200],
                })
    return report


def _reconcile_kind(session: Session, gateway: Gateway, kind: str, held: dict[str, dict[str, Any]],
                    report: ReconcileReport, dry_run: bool) -> None:
    settings = gateway.settings
    now = utcnow()
    rows = {r.record_id: r for r in session.scalars(select(OutboxRecord).where(OutboxRecord.kind == kind))}
    published = published_entities(session, kind)
    report.checked[kind] = {"published": len(published), "outbox": len(rows),
                            "delivered": sum(1 for r in rows.values() if r.state == "delivered"),
                            "platform": len(held)}
    for entity in published:
        record_id = platform_record_id(settings.area_code, kind, entity.entity_id)
        if record_id in rows:
            continue
        if not dry_run:
            rows[record_id] = enqueue(session, kind, entity.entity_id, area_code=settings.area_code,
                                      department_code=entity.department_code, due_date=entity.due_date)
        report.differences.append(Difference(kind, record_id, "not_enqueued", "reported" if dry_run else "enqueued"))
    for record_id, row in sorted(rows.items(), key=lambda item: item[1].id or 0):
        stored = held.get(record_id)
        ours = content_sha256(kind, row.payload) if row.payload else None
        if row.state == "delivered":
            if stored is None:
                if not dry_run:
                    row.requeue(now, "requeued_by_reconcile", "对账发现平台上没有该记录，已重新排队推送")
                report.differences.append(Difference(kind, record_id, "missing_on_platform",
                                                     "reported" if dry_run else "requeued"))
            elif ours is not None and stored.get("content_sha256") != ours:
                report.differences.append(Difference(kind, record_id, "content_differs", "reported",
                                                     f"平台回执 {stored.get('receipt')}"))
        elif stored is not None:
            live_lease = row.state == "in_flight" and row.lease_expires_at is not None and row.lease_expires_at > now
            if ours is not None and stored.get("content_sha256") == ours and not live_lease:
                if not dry_run:
                    row.state = "delivered"
                    row.delivered_at = now
                    row.receipt = {"receipt": stored.get("receipt"), "outcome": "reconciled",
                                   "received_at": stored.get("received_at")}
                    row.batch_key = None
                    row.lease_owner = None
                    row.lease_expires_at = None
                    row.field_errors = None
                    row.last_error = ""
                    row.last_outcome = "reconciled"
                report.differences.append(Difference(kind, record_id, "delivered_unrecorded",
                                                     "reported" if dry_run else "marked_delivered",
                                                     f"平台回执 {stored.get('receipt')}"))
            elif ours is not None and stored.get("content_sha256") != ours:
                report.differences.append(Difference(kind, record_id, "content_differs", "reported",
                                                     f"平台回执 {stored.get('receipt')}，本地状态 {row.state}"))
    for record_id, stored in held.items():
        if record_id not in rows:
            report.differences.append(Difference(kind, record_id, "unknown_on_platform", "reported",
                                                 f"平台回执 {stored.get('receipt')}"))
    session.flush()
