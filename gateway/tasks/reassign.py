"""Article 14: drawn inspectors are not swapped, except through this workflow.

1. *Request*: a team member's department (or the inspector concerned) asks, with a reason code
   (conflict of interest or other) and an explanation.
2. *Decision* by the head of that department — never by whoever asked: rejected, or approved. On
   approval the replacement is computed by the draw's own rule (:func:`gateway.draw.teams.replacement`:
   the eligible inspector of the same department with the lowest (current load, ticket), not on the
   team before and without a declared conflict), with tickets under a seed that neither party knew
   before the approval (:mod:`gateway.draw.reassignment`: the draw's seed, the request and a nonce
   the gateway committed to at the request and reveals at the approval). The public record of the
   replacement lets anyone re-run it.
3. *Filing*: the approved change is filed with the county office (备案), which gives it a number.

Every step is in the task's history and in the audit log. Nothing else changes a team.
"""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.db import utcnow
from gateway.directory.models import Conflict, Target
from gateway.draw import reassignment as record_mod
from gateway.draw.models import Draw
from gateway.draw.record import opaque_inspector_id
from gateway.draw.service import _year_loads, pool_inspectors, record_id
from gateway.draw.teams import Inspector as PoolInspector
from gateway.draw.teams import NoFeasibleTeam, Team, replacement
from gateway.errors import Conflict as ConflictError  # the model Conflict (of interest) has the plain name here
from gateway.errors import Forbidden, Invalid, NotFound
from gateway.planning.numbering import county_short_name
from gateway.planning.service import local_date
from gateway.security import audit
from gateway.security.policy import TEAM, authorize, scope_of, visible_departments
from gateway.security.principal import Principal
from gateway.tasks.models import REASSIGNMENT_REASONS, Reassignment, Task, TaskEvent, TaskMember
from gateway.tasks.service import get_task, read_task, task_departments, task_team_ids
from schemas.common import RowView, python_values
from schemas.tasks import ReassignmentSchema

REASON_LABELS = {"conflict_of_interest": "与检查对象有利害关系，依法回避", "other": "其他特殊原因"}
STATUS_LABELS = {"requested": "待审批", "approved": "已批准", "rejected": "未批准"}


def get_reassignment(session: Session, reassignment_id: int) -> Reassignment:
    item = session.get(Reassignment, reassignment_id)
    if item is None:
        raise NotFound.of("人员调整申请", reassignment_id)
    return item


def _event(session: Session, task: Task, principal: Principal, action: str, details: dict[str, Any]) -> None:
    session.add(TaskEvent(task_id=task.id, actor=principal.label, action=action, details=details))


def person_key(principal: Principal) -> str:
    """Who a principal is, for "the requester never decides": the account, else the inspector, else
    the name given (commands run on the server name their operator)."""
    if principal.user_id is not None:
        return f"user:{principal.user_id}"
    if principal.inspector_id is not None:
        return f"inspector:{principal.inspector_id}"
    return f"name:{principal.name}"


def _refuse_own_request(principal: Principal, item: Reassignment) -> None:
    if item.requested_by_key and person_key(principal) == item.requested_by_key:
        raise Forbidden("requester_cannot_decide", "提出人员调整申请的人不能审批自己的申请，请由本部门其他负责人审批。")


def request(session: Session, principal: Principal, task_id: int, data: Mapping[str, Any]) -> Reassignment:
    task = get_task(session, task_id)
    inspector_id = data["inspector_id"]
    authorize(principal, "reassignments.request", departments=task_departments(task), team=task_team_ids(task))
    member = next((m for m in task.members if m.active and m.inspector_id == inspector_id), None)
    if member is None:
        raise Invalid("validation_error", "提交的数据未通过校验。",
                      {"inspector_id": [f"执法检查人员 {inspector_id} 不在任务 {task.number} 的检查组中。"]})
    # The member's department, or the inspector concerned, may ask.
    authorize(principal, "reassignments.request", departments=[member.department_code], team=[inspector_id])
    return open_request(session, principal, task, member, data["reason_code"], data["reason"])


def open_request(session: Session, principal: Principal, task: Task, member: TaskMember, reason_code: str,
                 reason: str) -> Reassignment:
    """Record the request to replace ``member``; the caller has decided that ``principal`` may ask
    (``request`` for staff; the enterprise's recusal request, gateway.enterprise.portal)."""
    if reason_code not in REASSIGNMENT_REASONS:
        raise Invalid("validation_error", "提交的数据未通过校验。", {"reason_code": ["调整原因无效。"]})
    inspector_id = member.inspector_id
    if task.status != "assigned":
        raise ConflictError("task_started", f"任务 {task.number} 已录入检查结果，检查组不能再调整。")
    pending = session.scalar(select(Reassignment.id).where(
        Reassignment.member_id == member.id, Reassignment.status == "requested"))
    if pending is not None:
        raise ConflictError("reassignment_pending", f"该人员已有待审批的调整申请（{pending}）。")
    nonce = secrets.token_hex(32)  # revealed only by the approval: nobody can foresee the replacement
    item = Reassignment(
        task_id=task.id, member_id=member.id, inspector_id=inspector_id, department_code=member.department_code,
        reason_code=reason_code, reason=reason, status="requested", requested_by=principal.label,
        requested_by_key=person_key(principal), nonce=nonce,
        nonce_commitment=record_mod.nonce_commitment(nonce),
    )
    session.add(item)
    session.flush()
    details = {"reassignment": item.id, "inspector_id": inspector_id, "reason_code": item.reason_code,
               "reason": item.reason}
    _event(session, task, principal, "reassignment_requested", details)
    audit.record(session, principal, "reassignments.request", "task", task.id, details)
    return item


def _still_requested(item: Reassignment) -> None:
    if item.status != "requested":
        # the labels say it themselves: 该申请已批准 / 该申请未批准
        raise ConflictError("reassignment_decided", f"该申请{STATUS_LABELS[item.status]}，不能再次审批。")


def approve(session: Session, principal: Principal, reassignment_id: int, note: str = "",
            now: datetime | None = None, *, settings: Settings) -> Reassignment:
    """The unit head approves: the replacement is drawn by the draw's rule and joins the team
    (``settings`` give the draw record's id and the key of its opaque inspector ids)."""
    item = get_reassignment(session, reassignment_id)
    authorize(principal, "reassignments.approve", departments=[item.department_code])
    _refuse_own_request(principal, item)
    _still_requested(item)
    now = now or utcnow()
    task = get_task(session, item.task_id)
    if task.status != "assigned":
        raise ConflictError("task_started", f"任务 {task.number} 已录入检查结果，检查组不能再调整。")
    draw = session.get(Draw, task.draw_id) if task.draw_id is not None else None
    if draw is None or not draw.seed:
        raise ConflictError("no_draw", f"任务 {task.number} 不是由抽取生成的，无法按抽取规则替换。")
    target = session.get(Target, task.target_id)
    today = local_date(now)
    inspectors = pool_inspectors(session, [item.department_code], today)
    everyone = [str(m.inspector_id) for m in task.members]  # nobody who was ever on this team returns
    conflicts = [(str(i), target.uscc) for i in session.scalars(
        select(Conflict.inspector_id).where(Conflict.target_id == target.id))]
    loads = _year_loads(session, draw.year)
    team = Team(target.uscc, tuple(everyone))
    public_id = record_id(settings, draw)
    opaque = {p.id: opaque_inspector_id(public_id, p.id, settings.secret_key.encode("utf-8")) for p in inspectors}
    nonce = item.nonce or secrets.token_hex(32)
    seed = record_mod.reassignment_seed(draw.seed, f"{public_id}-reassignment-{item.id}", nonce)
    # Tickets of the opaque ids the draw record shows, so that anyone can re-run the choice.
    by_opaque = [PoolInspector(p.id, opaque[p.id], p.department, p.certified, p.active) for p in inspectors]
    try:
        chosen = replacement(team, str(item.inspector_id), by_opaque, seed, conflicts, loads)
    except NoFeasibleTeam as exc:
        raise ConflictError(
            "no_replacement",
            f"部门 {exc.department} 没有可替换的执法检查人员（需持证、在岗、未曾在本组且与 {target.name}（{target.uscc}）"
            "无利益冲突），未作调整。",
            {"department": [exc.department]},
        ) from None
    leaving = session.get(TaskMember, item.member_id)
    leaving.active = False
    leaving.removed_at = now
    joining = TaskMember(task_id=task.id, inspector_id=int(chosen), department_code=item.department_code,
                         role=leaving.role, active=True, added_at=now, source="reassignment")
    session.add(joining)
    if item.reason_code == "conflict_of_interest":
        known = session.scalar(select(Conflict.id).where(
            Conflict.inspector_id == item.inspector_id, Conflict.target_id == target.id))
        if known is None:
            session.add(Conflict(inspector_id=item.inspector_id, target_id=target.id, reason=item.reason[:300]))
    session.flush()
    candidates = [p for p in inspectors if p.eligible and p.id not in everyone]
    item.status = "approved"
    item.decided_by = principal.label
    item.decided_at = now
    item.decision_note = note
    item.replacement_inspector_id = int(chosen)
    item.replacement_member_id = joining.id
    barred = sorted(set(everyone) | {i for i, _ in conflicts}, key=int)
    item.replacement_inputs = {
        "draw_id": draw.id, "certified_on": today.isoformat(), "department": item.department_code,
        "barred": barred, "loads": {p.id: loads.get(p.id, 0) for p in candidates},
        "record": {
            "format": record_mod.FORMAT, "id": f"{public_id}-reassignment-{item.id}", "draw_id": public_id,
            "task_number": task.number, "uscc": target.uscc, "department": item.department_code,
            "reason_code": item.reason_code, "nonce_commitment": record_mod.nonce_commitment(nonce), "nonce": nonce,
            "draw_seed": draw.seed, "seed": seed, "leaving": opaque[str(item.inspector_id)],
            "barred": sorted(opaque[i] for i in barred if i in opaque),
            "candidates": [{"id": opaque[p.id], "load": loads.get(p.id, 0)} for p in inspectors if p.eligible],
            "replacement": opaque[chosen],
        },
    }
    item.filing_status = "pending"
    session.flush()
    details = {"reassignment": item.id, "leaving": item.inspector_id, "replacement": int(chosen), "note": note}
    _event(session, task, principal, "reassignment_approved", {"reassignment": item.id, "note": note})
    _event(session, task, principal, "member_replaced", details)
    audit.record(session, principal, "reassignments.approve", "task", task.id, details)
    return item


def reject(session: Session, principal: Principal, reassignment_id: int, note: str,
           now: datetime | None = None) -> Reassignment:
    item = get_reassignment(session, reassignment_id)
    authorize(principal, "reassignments.approve", departments=[item.department_code])
    _refuse_own_request(principal, item)
    _still_requested(item)
    item.status = "rejected"
    item.decided_by = principal.label
    item.decided_at = now or utcnow()
    item.decision_note = note
    task = get_task(session, item.task_id)
    details = {"reassignment": item.id, "note": note}
    _event(session, task, principal, "reassignment_rejected", details)
    session.flush()
    audit.record(session, principal, "reassignments.reject", "task", task.id, details)
    return item


def file(session: Session, principal: Principal, reassignment_id: int, settings: Settings, note: str = "",
         now: datetime | None = None) -> Reassignment:
    """The county office files an approved change (备案) and gives it a number."""
    item = get_reassignment(session, reassignment_id)
    authorize(principal, "reassignments.file")
    if item.status != "approved" or item.filing_status != "pending":
        raise ConflictError("not_fileable", "只有已批准且尚未备案的人员调整才能备案。")
    now = now or utcnow()
    year = local_date(now).year
    prefix = f"{county_short_name(settings.county_name)}调备〔{year}〕"
    count = session.scalar(select(func.count()).select_from(Reassignment).where(
        Reassignment.filing_number.like(prefix + "%")))
    item.filing_status = "filed"
    item.filing_number = f"{prefix}{count + 1}号"
    item.filed_by = principal.label
    item.filed_at = now
    item.filing_note = note
    task = get_task(session, item.task_id)
    details = {"reassignment": item.id, "filing_number": item.filing_number, "note": note}
    _event(session, task, principal, "reassignment_filed", details)
    session.flush()
    audit.record(session, principal, "reassignments.file", "task", task.id, details)
    return item


def reassignments_query(principal: Principal, args: Mapping[str, Any]) -> Select:
    """Reassignments ``principal`` may see (an inspector: its own; department roles: their
    departments'), by status, filing status or task, oldest first."""
    stmt = select(Reassignment)
    if scope_of(principal, "tasks.read") == TEAM:
        stmt = stmt.where(Reassignment.inspector_id == (principal.inspector_id or -1))
    else:
        departments = visible_departments(principal, "tasks.read")
        if departments is not None:
            stmt = stmt.where(Reassignment.department_code.in_(departments))
    for name in ("status", "filing_status", "task_id"):
        if args.get(name):
            stmt = stmt.where(getattr(Reassignment, name) == args[name])
    return stmt.order_by(Reassignment.id)


def reassignments_of(session: Session, principal: Principal, task_id: int) -> list[Reassignment]:
    """A task's reassignment requests, oldest first."""
    task = read_task(session, principal, task_id)
    return list(session.scalars(select(Reassignment).where(Reassignment.task_id == task.id).order_by(Reassignment.id)))


class ReassignmentView(RowView):
    """A reassignment as ``ReassignmentSchema`` dumps it, with its task's number and the names of
    the inspector replaced and of the replacement."""

    def __init__(self, item: Reassignment):
        self.row = item
        task = item.task
        names = {m.inspector_id: m.inspector.name for m in task.members}
        self.task_number = task.number
        self.inspector_name = names.get(item.inspector_id, "")
        self.department = item.department_code
        self.reason_label = REASON_LABELS[item.reason_code]
        self.replacement_name = names.get(item.replacement_inspector_id, "") if item.replacement_inspector_id else ""
        self.record_url = f"/api/v1/reassignments/{item.id}/record" if public_record(item) else None


def reassignment_dict(item: Reassignment) -> dict[str, Any]:
    """A reassignment as the API shows it, with Python values (for the pages and the command line)."""
    return python_values(ReassignmentSchema(), ReassignmentView(item))


def public_record(item: Reassignment) -> dict[str, Any] | None:
    """The replacement's public record (format ``shuangsui.reassignment/1``) once approved."""
    return (item.replacement_inputs or {}).get("record") if item.status == "approved" else None
