"""Changing the directories: inspectors, targets and declared conflicts."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.directory import eligibility
from gateway.directory.models import (
    ELIGIBILITY_FIELDS,
    Conflict,
    Department,
    Inspector,
    Target,
    join_licences,
    split_licences,
)
from gateway.directory.privacy import mask_certificate, mask_phone
from gateway.errors import Conflict as ConflictError  # the model Conflict (of interest) has the plain name here
from gateway.errors import Invalid, NotFound
from gateway.security.models import Account, ApiToken
from gateway.security.principal import SYSTEM, Principal
from schemas.common import RowView, python_values
from schemas.directory import InspectorSchema, TargetSchema

INSPECTOR_FIELDS = (
    "department_code", "name", "gender", "unit", "position", "expertise",
    "certificate_no", "certificate_valid_until", "phone", "active",
)
TARGET_FIELDS = (
    "uscc", "name", "type", "township", "level", "address", "legal_representative",
    "business_scope", "status", "risk_class", "abnormal_list", "serious_violation_list",
    "complaint_count", "active",
)


class InspectorView(RowView):
    """An inspector as ``InspectorSchema`` dumps it; ``masked`` (listings) hides most of the
    phone and certificate numbers."""

    def __init__(self, inspector: Inspector, masked: bool = False):
        self.row = inspector
        if masked:
            self.phone = mask_phone(inspector.phone)
            self.certificate_no = mask_certificate(inspector.certificate_no)


class TargetView(RowView):
    """A target as ``TargetSchema`` dumps it: its licences as a list."""

    def __init__(self, target: Target):
        self.row = target
        self.licences = split_licences(target.licences)


class ConflictView(RowView):
    """A declared conflict as ``ConflictSchema`` dumps it: the target by its USCC."""

    def __init__(self, conflict: Conflict):
        self.row = conflict
        self.uscc = conflict.target.uscc


def inspector_dict(inspector: Inspector, masked: bool = False) -> dict[str, Any]:
    """An inspector as the API shows it, with Python values (for the pages and the CSV export)."""
    return python_values(InspectorSchema(), InspectorView(inspector, masked))


def target_dict(target: Target) -> dict[str, Any]:
    """A target as the API shows it, with Python values (for the pages)."""
    return python_values(TargetSchema(), TargetView(target))


def _check_department(session: Session, code: str) -> None:
    dept = session.get(Department, code)
    if dept is None or not dept.installed:
        raise Invalid("validation_error", "提交的数据未通过校验。",
                      {"department_code": [f"部门 {code} 不存在或其插件未安装。"]})


def _check_certificate_unique(session: Session, number: str, own_id: int | None = None) -> None:
    other = session.scalar(select(Inspector).where(Inspector.certificate_no == number))
    if other is not None and other.id != own_id:
        raise ConflictError("duplicate_certificate_no", "执法证号已存在。",
                            {"certificate_no": [f"执法证号 {number} 已登记在另一名执法检查人员名下。"]})


def get_inspector(session: Session, inspector_id: int) -> Inspector:
    inspector = session.get(Inspector, inspector_id)
    if inspector is None:
        raise NotFound.of("执法检查人员", inspector_id)
    return inspector


def create_inspector(session: Session, data: Mapping[str, Any]) -> Inspector:
    _check_department(session, data["department_code"])
    _check_certificate_unique(session, data["certificate_no"])
    inspector = Inspector(**{f: data[f] for f in INSPECTOR_FIELDS if f in data})
    session.add(inspector)
    session.flush()
    return inspector


def update_inspector(session: Session, inspector_id: int, data: Mapping[str, Any]) -> Inspector:
    inspector = get_inspector(session, inspector_id)
    if "department_code" in data:
        _check_department(session, data["department_code"])
    if "certificate_no" in data:
        _check_certificate_unique(session, data["certificate_no"], inspector.id)
    moved = "department_code" in data and data["department_code"] != inspector.department_code
    for f in INSPECTOR_FIELDS:
        if f in data:
            setattr(inspector, f, data[f])
    session.flush()
    if moved:
        align_accounts(session, [inspector.id])
    return inspector


def align_accounts(session: Session, inspector_ids: Iterable[int]) -> None:
    """An inspector's accounts and tokens follow the directory record to its department: the
    account's department and the directory's never disagree (every move of an inspector calls this)."""

    ids = sorted(set(inspector_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for model in (Account, ApiToken):
            department = (
                select(Inspector.department_code).where(Inspector.id == model.inspector_id).scalar_subquery()
            )
            session.execute(
                update(model).where(model.inspector_id.in_(chunk)).values(department_code=department)
                .execution_options(synchronize_session=False)
            )


def get_target(session: Session, uscc: str) -> Target:
    target = session.scalar(select(Target).where(Target.uscc == uscc.strip().upper()))
    if target is None:
        raise NotFound.of("检查对象", uscc)
    return target


def create_target(session: Session, data: Mapping[str, Any], principal: Principal = SYSTEM,
                  source: str = "api") -> Target:
    """A new target. It starts with the default eligibility (operating, active, class B, on no
    list); other eligibility values are changes of the owner's, with a reason, logged as such."""
    if session.scalar(select(Target.id).where(Target.uscc == data["uscc"])) is not None:
        raise ConflictError("duplicate_uscc", "检查对象已存在。",
                            {"uscc": [f"统一社会信用代码 {data['uscc']} 已在检查对象名录中。"]})
    target = Target(**{f: data[f] for f in TARGET_FIELDS if f in data and f not in ELIGIBILITY_FIELDS})
    target.licences = join_licences(data.get("licences", []))
    defaults = {f: Target.__table__.c[f].default.arg for f in ELIGIBILITY_FIELDS}
    moved = {f: v for f, v in eligibility.changed_fields(None, data).items() if v != defaults[f]}
    if moved:
        # Checked before anything is written: a refused target is not added at all.
        eligibility.check_reason(data.get("reason_code"))
        if not eligibility.may_change(session, principal):
            eligibility.raise_not_owner(session)
    for f, value in defaults.items():
        setattr(target, f, value)
    session.add(target)
    session.flush()
    eligibility.change(session, principal, target, moved, data.get("reason_code"), source)
    return target


def update_target(session: Session, uscc: str, data: Mapping[str, Any], principal: Principal = SYSTEM,
                  source: str = "api") -> Target:
    """Change a target; its eligibility fields only by their owner, with a reason code (else
    nothing is written)."""
    target = get_target(session, uscc)
    eligibility.change(session, principal, target, eligibility.changed_fields(target, data),
                       data.get("reason_code"), source)
    for f in TARGET_FIELDS:
        if f in data and f != "uscc" and f not in ELIGIBILITY_FIELDS:
            setattr(target, f, data[f])
    if "licences" in data:
        target.licences = join_licences(data["licences"])
    session.flush()
    return target


def declare_conflict(session: Session, data: Mapping[str, Any]) -> Conflict:
    inspector = get_inspector(session, data["inspector_id"])
    target = get_target(session, data["uscc"])
    existing = session.scalar(
        select(Conflict).where(Conflict.inspector_id == inspector.id, Conflict.target_id == target.id)
    )
    if existing is not None:
        raise ConflictError("duplicate_conflict", "该回避关系已登记。")
    conflict = Conflict(inspector_id=inspector.id, target_id=target.id, reason=data["reason"])
    session.add(conflict)
    session.flush()
    return conflict
