"""Follow-up dispositions (后续处置, article 22) on results that found problems.

A department taking part in the task (the lead or a cooperating department, ``followups.write``)
records what it decided on the task's latest published result: an administrative penalty (with
the decision's number), no penalty, a transfer to another authority or to the judiciary (with the
receiving authority), or a verified rectification. Its head publishes it (``followups.publish``):
the outbox gets a ``disposition`` row, due 20 working days after the decision (the same clock as
results), and the risk rules apply. A published disposition never changes; a correction is a new
disposition naming the one it corrects and why.
"""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Mapping

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core import Gateway
from gateway.db import utcnow
from gateway.errors import Conflict, Forbidden, Invalid, NotFound
from gateway.results import risk
from gateway.results.access import task_departments, task_resource
from gateway.results.clock import compute_deadline, effective_deadline
from gateway.results.models import DISPOSITION_KINDS, Disposition
from gateway.results.service import get_result, latest_published
from gateway.results.validation import flatten
from gateway.results.views import DispositionView
from gateway.security import audit
from gateway.security.disclosure import check_public_text, personal_data_problems
from gateway.security.policy import authorize
from gateway.security.principal import Principal
from gateway.sync.outbox import enqueue
from schemas.platform import DISPOSITIONS
from schemas.results import DispositionInputSchema

# What each kind needs besides the date and the description.
KIND_NEEDS: dict[str, tuple[str, ...]] = {
    "administrative_penalty": ("decision_number",),
    "no_penalty": (),
    "transfer_to_authority": ("receiving_authority",),
    "transfer_to_judiciary": ("receiving_authority",),
    "rectified": (),
}
NEED_MESSAGES = {
    "decision_number": "行政处罚必须填写行政处罚决定书文号。",
    "receiving_authority": "移送案件必须填写接收机关。",
}


# What the public query shows of a disposition as typed (gateway.security.disclosure checks it).
PUBLIC_TEXT_FIELDS = ("description", "decision_number", "receiving_authority", "correction_reason")


def disposition_kinds() -> list[dict[str, Any]]:
    return [{"code": k, "label": DISPOSITIONS[k], "needs": list(KIND_NEEDS[k])} for k in DISPOSITION_KINDS]


def get_disposition(session: Session, disposition_id: int, *, for_update: bool = False) -> Disposition:
    disposition = session.get(Disposition, disposition_id, with_for_update={"of": Disposition} if for_update else None)
    if disposition is None:
        raise NotFound.of("后续处置", disposition_id)
    return disposition


def chain_root(session: Session, disposition: Disposition) -> int:
    current = disposition
    while current.supersedes_id is not None:
        current = session.get(Disposition, current.supersedes_id)
    return current.id


def disposition_dict(gateway: Gateway, disposition: Disposition) -> dict[str, Any]:
    """A disposition as the API shows it, with Python values (for the pages)."""
    return DispositionView(gateway, disposition).values()


def dispositions_of_task(session: Session, task_id: int, published_only: bool = False) -> list[Disposition]:
    stmt = select(Disposition).where(Disposition.task_id == task_id).order_by(Disposition.id)
    if published_only:
        stmt = stmt.where(Disposition.status == "published")
    return list(session.scalars(stmt))


def record_disposition(
    gateway: Gateway, session: Session, principal: Principal, result_id: int, raw: Any, *, today: date
) -> Disposition:
    result = get_result(session, result_id)
    task = result.task
    authorize(principal, "followups.write", **task_resource(task))
    department = principal.department_code
    if department not in task_departments(task):
        raise Forbidden("forbidden", "只有参与该任务的部门才能录入后续处置。")
    if not result.is_published:
        raise Conflict("result_not_published", "检查结果公示后才能录入后续处置。")
    current = latest_published(session, task.id)
    if current.id != result.id:
        raise Conflict("result_superseded",
                       f"该检查结果已被第 {current.version} 版更正，请在最新版本上录入后续处置。", result_id=current.id)
    if not result.has_problems:
        raise Conflict("result_without_problems", "该检查结果未发现问题，无需后续处置。")

    errors: dict[str, list[str]] = {}
    if not isinstance(raw, Mapping):
        raise Invalid("validation_error", "请求体应为 JSON 对象。", {"_schema": ["请求体应为 JSON 对象。"]})
    try:
        data = DispositionInputSchema().load(raw)
    except ValidationError as exc:
        errors.update(flatten(exc.messages))
        data = exc.valid_data if isinstance(exc.valid_data, dict) else {}
    kind = data.get("kind")
    if kind is not None and kind not in KIND_NEEDS:
        errors.setdefault("kind", []).append("处置方式应为：" + "、".join(f"{k}（{DISPOSITIONS[k]}）" for k in DISPOSITION_KINDS))
    for need in KIND_NEEDS.get(kind, ()):
        if not (data.get(need) or "").strip():
            errors.setdefault(need, []).append(NEED_MESSAGES[need])
    decided_on = data.get("decided_on")
    if isinstance(decided_on, date):
        if decided_on > today:
            errors.setdefault("decided_on", []).append(f"处置日期不能晚于今天（{today.isoformat()}）。")
        if decided_on < result.completed_on:
            errors.setdefault("decided_on", []).append(f"处置日期不能早于检查完成日期（{result.completed_on.isoformat()}）。")
    supersedes = None
    if data.get("supersedes_id") is not None:
        supersedes = session.get(Disposition, data["supersedes_id"])
        if supersedes is None or supersedes.task_id != task.id:
            errors.setdefault("supersedes_id", []).append("要更正的后续处置不存在或不属于本任务。")
        elif not supersedes.is_published:
            errors.setdefault("supersedes_id", []).append("只能更正已公示的后续处置；未公示的请直接删除重录。")
        elif supersedes.department_code != department:
            errors.setdefault("supersedes_id", []).append("只能更正本部门的后续处置。")
        elif session.scalar(select(Disposition.id).where(Disposition.supersedes_id == supersedes.id)) is not None:
            errors.setdefault("supersedes_id", []).append("该后续处置已有更正记录。")
        if not (data.get("correction_reason") or "").strip():
            errors.setdefault("correction_reason", []).append("更正后续处置必须填写更正原因。")
    public = {f: data.get(f) for f in PUBLIC_TEXT_FIELDS}
    for field, messages in personal_data_problems(session, public).items():
        errors.setdefault(field, []).extend(messages)
    if errors:
        raise Invalid("disposition_invalid", f"后续处置未通过校验（{len(errors)} 个字段有问题），未保存任何内容。", errors)

    deadline = compute_deadline(gateway.settings, data["decided_on"])
    disposition = Disposition(
        result_id=result.id, task_id=task.id, target_id=task.target_id, department_code=department,
        kind=kind, decision_number=data.get("decision_number", "").strip(),
        receiving_authority=data.get("receiving_authority", "").strip(), decided_on=data["decided_on"],
        description=data["description"].strip(), status="recorded",
        supersedes_id=supersedes.id if supersedes else None,
        correction_reason=(data.get("correction_reason") or "").strip() if supersedes else "",
        deadline=deadline.due, deadline_provisional=deadline.provisional, recorded_by=principal.label,
    )
    session.add(disposition)
    session.flush()
    audit.record(session, principal, "followups.record", "disposition", disposition.id,
                 {"result_id": result.id, "task_id": task.id, "kind": kind, "supersedes_id": disposition.supersedes_id})
    return disposition


def delete_disposition(session: Session, principal: Principal, disposition_id: int) -> None:
    """Withdraw a disposition that is not published yet (its department only)."""
    disposition = get_disposition(session, disposition_id)
    authorize(principal, "followups.write", departments=[disposition.department_code])
    if disposition.is_published:
        raise Conflict("disposition_published", "已公示的后续处置不能删除，如需更正请提交更正记录。")
    audit.record(session, principal, "followups.delete", "disposition", disposition.id,
                 {"result_id": disposition.result_id, "kind": disposition.kind})
    session.delete(disposition)
    session.flush()


def publish_disposition(
    gateway: Gateway, session: Session, principal: Principal, disposition_id: int, *, today: date
) -> Disposition:
    disposition = get_disposition(session, disposition_id, for_update=True)
    authorize(principal, "followups.publish", departments=[disposition.department_code])
    if disposition.is_published:
        raise Conflict("disposition_published", "该后续处置已公示。")
    check_public_text(session, {f: getattr(disposition, f) for f in PUBLIC_TEXT_FIELDS})
    deadline = effective_deadline(gateway.settings, disposition)
    disposition.deadline = deadline.due
    disposition.deadline_provisional = deadline.provisional
    disposition.status = "published"
    disposition.published_by = principal.label
    disposition.published_at = utcnow()
    disposition.published_on = today
    session.flush()
    enqueue(
        session, "disposition", disposition.id, area_code=gateway.settings.area_code,
        department_code=disposition.department_code, due_date=datetime.combine(deadline.due, time()),
    )
    event = risk.apply_disposition(session, disposition, chain_root(session, disposition), principal=principal)
    audit.record(session, principal, "followups.publish", "disposition", disposition.id,
                 {"result_id": disposition.result_id, "kind": disposition.kind})
    if event is not None:
        audit.record(session, principal, "targets.risk_raised", "target", disposition.result.task.target.uscc,
                     {"risk_event_id": event.id, "from": event.risk_class_before, "to": event.risk_class_after,
                      "lists": event.lists_set, "rules": event.rules})
    return disposition
