"""What operators see: counts by state, the oldest waiting record, dead letters with the platform's
reasons, live workers, and the article 19 deadline alert."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.db import utcnow
from gateway.results.deadline import DUE_SOON, ON_TRACK, OVERDUE, STATUS_LABELS, due_status, working_days_between
from gateway.sync.models import KIND_LABELS, OUTBOX_STATES, RECORD_KINDS, STATE_LABELS, UNDELIVERED, OutboxRecord, SyncWorker
from schemas.common import RowView, python_values
from schemas.platform import today_in_china
from schemas.sync import DeadLetterSchema, OutboxRecordSchema


def _scoped(stmt, departments: Iterable[str] | None):
    if departments is None:
        return stmt
    return stmt.where(OutboxRecord.department_code.in_(list(departments)))


def _iso(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def deadline_alert(session: Session, settings: Settings, *, today: date | None = None,
                   departments: Iterable[str] | None = None) -> dict[str, Any] | None:
    """The alert for the undelivered record with the earliest publication deadline, when that
    deadline is at most ``settings.sync_alert_working_days`` working days away or past; else None."""
    row = session.execute(_scoped(
        select(OutboxRecord.record_id, OutboxRecord.kind, OutboxRecord.state, OutboxRecord.due_date)
        .where(UNDELIVERED, OutboxRecord.due_date.is_not(None))
        .order_by(OutboxRecord.due_date, OutboxRecord.id).limit(1), departments)).first()
    if row is None:
        return None
    today = today or today_in_china()
    due = row.due_date.date()
    holidays = settings.holidays_file or None
    status = due_status(due, today, settings.sync_alert_working_days, holidays_file=holidays)
    if status == ON_TRACK:
        return None
    left = working_days_between(today, due, holidays_file=holidays)
    what = f"{KIND_LABELS.get(row.kind, row.kind)}记录 {row.record_id}（{STATE_LABELS.get(row.state, row.state)}）"
    if status == OVERDUE:
        message = (f"告警：{what}的公示期限 {due.isoformat()} 已过 {-left} 个工作日，仍未送达省级平台"
                   "（第十九条：检查完成后 20 个工作日内公示）。")
    else:
        message = (f"告警：{what}须于 {due.isoformat()} 前在省级平台公示，仅剩 {left} 个工作日，仍未送达"
                   "（第十九条：检查完成后 20 个工作日内公示）。")
    return {"record_id": row.record_id, "kind": row.kind, "state": row.state, "due_date": due.isoformat(),
            "working_days_left": left, "status": status, "status_label": STATUS_LABELS[status], "message": message}


class DeadLetterView(RowView):
    """An outbox row as ``DeadLetterSchema`` dumps it: label, the platform's field errors, times as text."""

    def __init__(self, row: OutboxRecord):
        self.row = row
        self.kind_label = KIND_LABELS.get(row.kind, row.kind)
        self.errors = (row.field_errors or {}).get("errors", []) if isinstance(row.field_errors, dict) else []
        self.created_at = _iso(row.created_at)
        self.last_attempt_at = _iso(row.last_attempt_at)
        self.due_date = _iso(row.due_date.date()) if row.due_date else None


class OutboxRecordView(DeadLetterView):
    """One outbox row in full, as ``OutboxRecordSchema`` dumps it (its payload is public
    information: what the platform shows)."""

    def __init__(self, row: OutboxRecord):
        super().__init__(row)
        self.next_attempt_at = _iso(row.next_attempt_at)
        self.lease_expires_at = _iso(row.lease_expires_at)
        self.delivered_at = _iso(row.delivered_at)


def dead_letter_dict(row: OutboxRecord) -> dict[str, Any]:
    return python_values(DeadLetterSchema(), DeadLetterView(row))


def record_dict(row: OutboxRecord) -> dict[str, Any]:
    return python_values(OutboxRecordSchema(), OutboxRecordView(row))


def dead_letters(session: Session, *, departments: Iterable[str] | None = None, kind: str | None = None,
                 offset: int = 0, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
    stmt = _scoped(select(OutboxRecord).where(OutboxRecord.state == "dead"), departments)
    if kind:
        stmt = stmt.where(OutboxRecord.kind == kind)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(OutboxRecord.id).offset(offset).limit(limit))
    return [dead_letter_dict(r) for r in rows], int(total or 0)


def sync_status(session: Session, settings: Settings, *, departments: Iterable[str] | None = None,
                now: datetime | None = None, today: date | None = None, dead_limit: int = 20) -> dict[str, Any]:
    """Everything ``shuangsui sync status`` and ``GET /api/v1/sync/status`` show."""
    now = now or utcnow()
    departments = list(departments) if departments is not None else None
    by_kind = {kind: {state: 0 for state in OUTBOX_STATES} for kind in RECORD_KINDS}
    for kind, state, count in session.execute(_scoped(
            select(OutboxRecord.kind, OutboxRecord.state, func.count()).group_by(OutboxRecord.kind, OutboxRecord.state),
            departments)):
        by_kind.setdefault(kind, {s: 0 for s in OUTBOX_STATES})[state] = count
    counts = {state: sum(k[state] for k in by_kind.values()) for state in OUTBOX_STATES}
    retrying = session.scalar(_scoped(select(func.count()).select_from(OutboxRecord).where(
        OutboxRecord.state == "pending", OutboxRecord.attempts > 0), departments)) or 0
    oldest = session.scalars(_scoped(select(OutboxRecord).where(OutboxRecord.state.in_(("pending", "in_flight")))
                                     .order_by(OutboxRecord.created_at, OutboxRecord.id).limit(1), departments)).first()
    oldest_pending = None
    if oldest is not None:
        oldest_pending = {
            "record_id": oldest.record_id, "kind": oldest.kind, "state": oldest.state,
            "created_at": _iso(oldest.created_at),
            "age_seconds": max(0, int((now - oldest.created_at).total_seconds())),
            "attempts": oldest.attempts, "next_attempt_at": _iso(oldest.next_attempt_at),
            "last_error": oldest.last_error,
        }
    last_delivered = session.scalar(_scoped(select(func.max(OutboxRecord.delivered_at)), departments))
    letters, dead_total = dead_letters(session, departments=departments, limit=dead_limit)
    alert = deadline_alert(session, settings, today=today, departments=departments)
    workers = [
        {"name": w.name, "host": w.host, "pid": w.pid, "started_at": _iso(w.started_at),
         "heartbeat_at": _iso(w.heartbeat_at), "batches": w.batches, "delivered": w.delivered,
         "dead": w.dead, "retries": w.retries}
        for w in session.scalars(select(SyncWorker).where(SyncWorker.expires_at > now).order_by(SyncWorker.id))
    ]
    return {
        "generated_at": _iso(now),
        "platform_url": settings.platform_url,
        "counts": counts,
        "by_kind": by_kind,
        "retrying": int(retrying),
        "oldest_pending": oldest_pending,
        "last_delivered_at": _iso(last_delivered),
        "deadline": alert,
        "alert": alert["message"] if alert else None,
        "dead_letter_total": dead_total,
        "dead_letters": letters,
        "workers": workers,
    }


def format_age(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时"
    if hours:
        return f"{hours} 小时 {minutes} 分"
    if minutes:
        return f"{minutes} 分 {secs} 秒"
    return f"{secs} 秒"


def format_status(report: dict[str, Any]) -> str:
    """The status report as Chinese text for the terminal."""
    counts = report["counts"]
    lines = [
        f"省级平台：{report['platform_url'] or '（未配置）'}",
        "记录状态：" + "，".join(f"{STATE_LABELS[s]} {counts[s]}" for s in OUTBOX_STATES)
        + f"（其中重试中 {report['retrying']}）",
    ]
    for kind, states in report["by_kind"].items():
        if any(states.values()):
            lines.append(f"  {KIND_LABELS.get(kind, kind)}：" + "，".join(
                f"{STATE_LABELS[s]} {states[s]}" for s in OUTBOX_STATES if states.get(s)))
    oldest = report["oldest_pending"]
    if oldest:
        line = (f"最早待推送：{oldest['record_id']}，已等待 {format_age(oldest['age_seconds'])}，"
                f"已尝试 {oldest['attempts']} 次")
        if oldest["last_error"]:
            line += f"，最近错误：{oldest['last_error']}"
        lines.append(line)
    else:
        lines.append("最早待推送：无")
    lines.append(f"最近送达：{report['last_delivered_at'] or '无'}")
    if report["alert"]:
        lines.append(report["alert"])
    workers = report["workers"]
    lines.append(f"运行中的同步进程：{len(workers)}" + "".join(
        f"\n  {w['name']}（心跳 {w['heartbeat_at']}，{w['batches']} 批，送达 {w['delivered']}）" for w in workers))
    lines.append(f"死信：{report['dead_letter_total']} 条")
    for letter in report["dead_letters"]:
        lines.append(f"  {letter['record_id']}（{letter['kind_label']}）：{letter['last_error']}")
        for error in letter["errors"]:
            lines.append(f"    - {error.get('field') or '记录'} [{error.get('code')}] {error.get('message')}")
    if report["dead_letter_total"] > len(report["dead_letters"]):
        lines.append(f"  ……另有 {report['dead_letter_total'] - len(report['dead_letters'])} 条，"
                     "见 shuangsui sync dead-letters")
    return "\n".join(lines)


__all__ = ["deadline_alert", "dead_letters", "dead_letter_dict", "record_dict", "sync_status", "format_status",
           "DUE_SOON", "OVERDUE"]
