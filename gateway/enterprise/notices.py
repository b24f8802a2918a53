"""The inspection notice (检查通知书, 司法部 2025 templates) of a task, and its delivery.

The office or the lead department generates it before the visit: legal basis, matters and check
items, window and methods, the team with names and certificate numbers (the enterprise's right to
see credentials), the enterprise's rights (陈述、申辩、申请回避), a contact and a new access code.
Generating again re-issues the code (the earlier one stops working). Only the generation shows the
code: the notice read later says it was issued. The notice is never public: staff who may see
the task, and the enterprise signed in to its portal, read it; each read is audited (personal data).
"""
from __future__ import annotations

from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core import Gateway
from gateway.db import utcnow
from gateway.enterprise import access_codes
from gateway.enterprise.models import DELIVERY_METHOD_LABELS, Notice
from gateway.errors import Conflict, Invalid, NotFound
from gateway.security import audit
from gateway.security.policy import authorize
from gateway.security.principal import Principal
from gateway.tasks.models import Task
from gateway.tasks.service import get_task
from gateway.tasks.sheets import cn_date, sheet_context
from schemas.enterprise import DELIVERY_METHODS

_env = Environment(loader=ChoiceLoader([PackageLoader("gateway.enterprise", "templates"),
                                        PackageLoader("gateway.tasks", "templates")]),
                   autoescape=select_autoescape(["html"]))
_env.filters["cn_date"] = cn_date


def notice_of(session: Session, task_id: int) -> Notice | None:
    return session.scalar(select(Notice).where(Notice.task_id == task_id))


def generate_notice(gateway: Gateway, session: Session, principal: Principal, task_id: int,
                    contact: str) -> tuple[Notice, str]:
    """Generate (or generate again) the task's notice with a new access code; returns the notice
    and the clear code, which exists only now."""
    task = get_task(session, task_id)
    authorize(principal, "notices.send", departments=[task.lead_department])
    contact = (contact or "").strip()
    if not contact:
        raise Invalid("validation_error", "提交的数据未通过校验。", {"contact": ["请填写联系人及联系电话。"]})
    if task.status == "published":
        raise Conflict("task_finished", f"任务 {task.number} 的检查结果已公示，不再发送检查通知书。")
    code = access_codes.issue_access_code(session, task, actor=principal, valid_days=gateway.settings.access_code_days)
    code_id = session.scalar(select(access_codes.AccessCode.id).where(access_codes.AccessCode.task_id == task.id)
                             .order_by(access_codes.AccessCode.id.desc()).limit(1))
    notice = notice_of(session, task.id)
    if notice is None:
        notice = Notice(task_id=task.id, generated_by=principal.label, contact=contact, delivery_note="")
        session.add(notice)
    else:  # generated again: the new code, and the delivery still to record
        notice.generated_at, notice.generated_by, notice.contact = utcnow(), principal.label, contact
        notice.delivery_method = notice.delivered_at = notice.delivered_by = None
        notice.delivery_note = ""
    notice.access_code_id = code_id
    session.flush()
    audit.record(session, principal, "notices.generate", "task", task.id,
                 {"notice_id": notice.id, "access_code_id": code_id})
    return notice, code


def record_delivery(session: Session, principal: Principal, task_id: int, method: str, note: str = "") -> Notice:
    """Record how and when the notice reached the enterprise, and by whom."""
    task = get_task(session, task_id)
    authorize(principal, "notices.send", departments=[task.lead_department])
    notice = notice_of(session, task.id)
    if notice is None:
        raise NotFound("not_found", f"任务 {task.number} 尚未生成检查通知书。")
    if method not in DELIVERY_METHODS:
        raise Invalid("validation_error", "提交的数据未通过校验。", {"method": ["送达方式无效。"]})
    notice.delivery_method = method
    notice.delivered_at = utcnow()
    notice.delivered_by = principal.label
    notice.delivery_note = (note or "").strip()
    audit.record(session, principal, "notices.deliver", "task", task.id, {"notice_id": notice.id, "method": method})
    session.flush()
    return notice


def render_notice(gateway: Gateway, session: Session, task: Task, notice: Notice, access_code: str | None = None,
                  portal_url: str = "/portal") -> str:
    """The printable notice; ``access_code`` only right after generation."""
    context: dict[str, Any] = sheet_context(session, task, gateway.hook)
    names = context["departments"]
    context["team"] = [{"name": m.inspector.name, "department": names.get(m.department_code, m.department_code),
                        "certificate_no": m.inspector.certificate_no,
                        "valid_until": m.inspector.certificate_valid_until} for m in task.team]
    context["cooperating"] = sorted({names.get(m.department_code, m.department_code) for m in task.team
                                     if m.department_code != task.lead_department})
    context.update(notice=notice, access_code=access_code, portal_url=portal_url,
                   statement_days=gateway.settings.statement_working_days, max_failures=access_codes.MAX_FAILURES,
                   delivery_label=DELIVERY_METHOD_LABELS.get(notice.delivery_method or "", ""))
    return _env.get_template("notice.html").render(**context)


def read_notice(gateway: Gateway, session: Session, principal: Principal, task: Task) -> str:
    """The notice as staff or the enterprise read it later (without the code); the read is audited."""
    notice = notice_of(session, task.id)
    if notice is None:
        raise NotFound("not_found", f"任务 {task.number} 尚未生成检查通知书。")
    audit.record(session, principal, "notices.read", "task", task.id,
                 {"fields": ["inspector names", "certificate numbers"]})
    return render_notice(gateway, session, task, notice)
