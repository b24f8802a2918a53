"""Who may change a target's eligibility, and the append-only log of every change (article 15).

The eligibility fields (:data:`ELIGIBILITY_FIELDS`: registration status, active, credit-risk class,
list membership) decide whether, and in which stratum, a target is drawn. They are master data of
the registration authority (the one installed department whose plugin says
``registration_authority=True``; market supervision in a county) and of the county office. Any other
department *proposes* a change; the owner accepts (the change is applied) or rejects it. Every
change names a reason code from :data:`ELIGIBILITY_REASONS` and is kept as one
:class:`EligibilityChange` row per field, which the draw record quotes (``gateway.draw.moves``).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gateway.db import utcnow, where_equal
from gateway.directory.importing.columns import STATUS_LABELS
from gateway.directory.models import (
    ELIGIBILITY_FIELDS,
    ELIGIBILITY_REASONS,
    ELIGIBILITY_SOURCES,
    RISK_CLASSES,
    TARGET_STATUSES,
    Department,
    EligibilityChange,
    EligibilityProposal,
    Target,
)
from gateway.errors import Conflict, Forbidden, Invalid, NotFound
from gateway.security import audit
from gateway.security.policy import allows, authorize
from gateway.security.principal import Principal
from schemas.common import RowView

FIELD_LABELS = {
    "status": "登记状态",
    "active": "在册（参与抽取）",
    "risk_class": "信用风险分类",
    "abnormal_list": "经营异常名录",
    "serious_violation_list": "严重违法失信名单",
}
PROPOSAL_STATUS_LABELS = {"pending": "待决定", "accepted": "已采纳", "rejected": "未采纳"}
BOOLEAN_FIELDS = ("active", "abnormal_list", "serious_violation_list")


def registration_authority(session: Session) -> str | None:
    """The code of the installed department that is the registration authority, or None (then the
    county office alone decides eligibility, and no department can decide a listing)."""
    return session.scalar(select(Department.code).where(Department.registration_authority.is_(True),
                                                        Department.installed.is_(True)))


def owner_departments(session: Session) -> list[str]:
    """The departments whose head and operators own eligibility data (for ``authorize``)."""
    code = registration_authority(session)
    return [code] if code else []


def may_change(session: Session, principal: Principal) -> bool:
    """Whether ``principal`` may change eligibility fields directly (else it proposes)."""
    return allows(principal, "targets.eligibility", departments=owner_departments(session))


def _invalid(field: str, message: str) -> Invalid:
    return Invalid("validation_error", "提交的数据未通过校验。", {field: [message]})


def check_reason(code: str | None, field: str = "reason_code") -> str:
    """The reason code, or a clear error naming ``field`` when it is missing or not on the list."""
    code = (code or "").strip()
    if not code:
        raise _invalid(field, "变更检查对象的抽取资格（登记状态、在册、信用风险分类、名录）须填写原因代码："
                       + "、".join(ELIGIBILITY_REASONS) + "。")
    if code not in ELIGIBILITY_REASONS:
        raise _invalid(field, f"原因代码 {code} 不在清单中，可选：" + "、".join(ELIGIBILITY_REASONS) + "。")
    return code


def value_text(value: Any) -> str:
    """An eligibility value as the log stores it: booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_value(field: str, text: Any) -> Any:
    """A proposed value, checked against the field's kind; a clear error otherwise."""
    if field not in ELIGIBILITY_FIELDS:
        raise _invalid("field", f"{field} 不是抽取资格字段，可选：" + "、".join(ELIGIBILITY_FIELDS) + "。")
    if field in BOOLEAN_FIELDS:
        if isinstance(text, bool) or text in ("true", "false"):
            return text if isinstance(text, bool) else text == "true"
        raise _invalid("value", f"{FIELD_LABELS[field]} 的取值应为 true 或 false。")
    allowed = TARGET_STATUSES if field == "status" else RISK_CLASSES
    if text not in allowed:
        raise _invalid("value", f"{FIELD_LABELS[field]} 的取值应为 " + "、".join(allowed) + " 之一。")
    return text


def value_label(field: str, text: str) -> str:
    """A logged value in Chinese: 是/否, ``B 类``, or the status's first Chinese name."""
    if field in BOOLEAN_FIELDS:
        return {"true": "是", "false": "否"}.get(text, text)
    if field == "risk_class":
        return f"{text} 类"
    return next((label for label, code in STATUS_LABELS.items() if code == text and label != code), text)


def changed_fields(target: Target | None, data: Mapping[str, Any]) -> dict[str, Any]:
    """The eligibility fields ``data`` sets to a value other than the target's (all of those it
    sets, for a new target whose values differ from the defaults)."""
    return {name: data[name] for name in ELIGIBILITY_FIELDS
            if name in data and (target is None or getattr(target, name) != data[name])}


def record_changes(session: Session, principal: Principal, target: Target, changes: Mapping[str, Any],
                   reason: str, source: str, now: datetime | None = None) -> list[EligibilityChange]:
    """Apply ``changes`` to ``target`` and log each one; the caller has authorised the change."""
    if source not in ELIGIBILITY_SOURCES:
        raise ValueError(f"unknown eligibility change source {source!r}")
    check_reason(reason)
    rows = []
    at = now or utcnow()
    for name, value in changes.items():
        old = getattr(target, name)
        if old == value:
            continue
        rows.append(EligibilityChange(
            target_id=target.id, uscc=target.uscc, field=name, old_value=value_text(old),
            new_value=value_text(value), reason_code=reason, source=source, actor=principal.label,
            actor_role=principal.role, actor_department=principal.department_code or "", changed_at=at))
        setattr(target, name, value)
    session.add_all(rows)
    session.flush()
    return rows


def log_imported(session: Session, principal: Principal, changes: list[tuple]) -> None:
    """Log the changes an import wrote (``(uscc, field, old, new, reason)``; already applied)."""
    ids: dict[str, int] = {}
    usccs = sorted({c[0] for c in changes})
    for start in range(0, len(usccs), 500):
        ids.update(session.execute(select(Target.uscc, Target.id).where(Target.uscc.in_(usccs[start:start + 500]))).all())
    at = utcnow()
    session.add_all(EligibilityChange(
        target_id=ids[uscc], uscc=uscc, field=name, old_value=value_text(old), new_value=value_text(new),
        reason_code=reason, source="import", actor=principal.label, actor_role=principal.role,
        actor_department=principal.department_code or "", changed_at=at) for uscc, name, old, new, reason in changes)
    session.flush()


def change(session: Session, principal: Principal, target: Target, changes: Mapping[str, Any],
           reason: str | None, source: str) -> list[EligibilityChange]:
    """The owner (registration authority or county office) changes eligibility fields directly.

    Anyone else is refused with a pointer to proposals; a change without a valid reason code is
    refused before anything is written."""
    if not changes:
        return []
    reason = check_reason(reason)
    if not may_change(session, principal):
        raise_not_owner(session)
    return record_changes(session, principal, target, changes, reason, source)


def raise_not_owner(session: Session) -> None:
    owner = registration_authority(session)
    who = f"登记机关（{owner}）或县双随机办" if owner else "县双随机办"
    raise Forbidden("eligibility_owner_only",
                    f"检查对象的登记状态、在册、信用风险分类与名录属{who}的主数据；其他部门请提出变更提议。",
                    action="targets.eligibility")


def changes_query(uscc: str | None = None) -> Select:
    stmt = select(EligibilityChange).order_by(EligibilityChange.id.desc())
    if uscc:
        stmt = stmt.where(EligibilityChange.uscc == uscc.strip().upper())
    return stmt


# ------------------------------------------------------------------------------------- proposals

def propose(session: Session, principal: Principal, target: Target, data: Mapping[str, Any]) -> EligibilityProposal:
    """Another department proposes one eligibility change; it waits for the owner's decision."""
    authorize(principal, "targets.write")
    field = data.get("field") or ""
    value = parse_value(field, data.get("value"))
    reason = check_reason(data.get("reason_code"))
    if getattr(target, field) == value:
        raise _invalid("value", f"检查对象的{FIELD_LABELS[field]}已是 {value_text(value)}。")
    waiting = session.scalar(select(EligibilityProposal.id).where(
        EligibilityProposal.target_id == target.id, EligibilityProposal.field == field,
        EligibilityProposal.status == "pending"))
    if waiting is not None:
        raise Conflict("eligibility_proposal_pending",
                       f"该检查对象的{FIELD_LABELS[field]}已有待决定的变更提议（{waiting}）。", proposal_id=waiting)
    proposal = EligibilityProposal(
        target_id=target.id, field=field, new_value=value_text(value), reason_code=reason,
        note=(data.get("note") or "").strip(), proposed_by=principal.label,
        proposed_by_department=principal.department_code or "")
    session.add(proposal)
    session.flush()
    audit.record(session, principal, "eligibility.propose", "eligibility_proposal", proposal.id,
                 {"uscc": target.uscc, "field": field, "value": proposal.new_value, "reason": reason})
    return proposal


def decide(session: Session, principal: Principal, proposal_id: int, *, accept: bool, note: str) -> EligibilityProposal:
    """The owner accepts (the change is applied and logged, source ``proposal``) or rejects."""
    authorize(principal, "targets.eligibility", departments=owner_departments(session))
    proposal = settle(session, principal, EligibilityProposal, proposal_id, accept, note,
                      noun="提议", what="抽取资格变更提议", code="eligibility_proposal_decided",
                      labels=PROPOSAL_STATUS_LABELS)
    if accept:
        value = parse_value(proposal.field, proposal.new_value)
        record_changes(session, principal, proposal.target, {proposal.field: value}, proposal.reason_code, "proposal")
    session.flush()
    audit.record(session, principal, "eligibility.decide", "eligibility_proposal", proposal.id,
                 {"uscc": proposal.target.uscc, "field": proposal.field, "accepted": accept})
    return proposal


def settle(session: Session, principal: Principal, model: Any, proposal_id: int, accept: bool, note: str, *,
           noun: str, what: str, code: str, labels: Mapping[str, str]) -> Any:
    """Mark a waiting proposal (an eligibility proposal or a listing proposal: a row with ``status``,
    ``decided_by``, ``decided_at`` and ``decision_note``) accepted or rejected, locked against a
    concurrent decision; a decision needs a note, and a decided proposal is not decided again."""
    note = (note or "").strip()
    if not note:
        raise _invalid("note", "请填写决定理由。")
    proposal = session.scalar(select(model).where(model.id == proposal_id).with_for_update(of=model))
    if proposal is None:
        raise NotFound.of(what, proposal_id)
    if proposal.status != "pending":
        raise Conflict(code, f"该{noun}已决定（{labels[proposal.status]}），不能再次决定。")
    proposal.status = "accepted" if accept else "rejected"
    proposal.decided_by, proposal.decided_at, proposal.decision_note = principal.label, utcnow(), note
    return proposal


def proposals_query(args: Mapping[str, Any]) -> Select:
    return where_equal(select(EligibilityProposal).order_by(EligibilityProposal.id.desc()), args,
                       {"status": EligibilityProposal.status})


class ProposalView(RowView):
    """A proposal with its target named and its field, reason and status labelled."""

    def __init__(self, proposal: EligibilityProposal):
        self.row = proposal
        self.uscc, self.target_name = proposal.target.uscc, proposal.target.name
        self.field_label = FIELD_LABELS[proposal.field]
        self.reason_label = ELIGIBILITY_REASONS[proposal.reason_code]
        self.status_label = PROPOSAL_STATUS_LABELS[proposal.status]


class ChangeView(RowView):
    """A logged change with its field, reason and source labelled."""

    def __init__(self, change: EligibilityChange):
        self.row = change
        self.field_label = FIELD_LABELS[change.field]
        self.reason_label = ELIGIBILITY_REASONS[change.reason_code]
        self.source_label = ELIGIBILITY_SOURCES[change.source]
