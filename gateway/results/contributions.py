"""Who records a result (article 5): the lead department's inspectors.

A cooperating department's member on the team fills in only its own department's check items
(``save_contribution``: a partial draft, one per department and task, replaced by each save). The
lead department's member submits the whole result; the saved items fill the ones the submission
leaves out, and a submission may not give another value for an item a cooperating department
filled (``merge_into``). Once the first version is reviewed the drafts are closed: a correction
is the lead's to write in full.
"""
from __future__ import annotations

from typing import Any, Mapping

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core import Gateway
from gateway.errors import Conflict, Forbidden, Invalid, NotFound
from gateway.results.access import task_resource
from gateway.results.checklist import task_checklists
from gateway.results.models import InspectionResult, ResultContribution
from gateway.security import audit
from gateway.security.policy import authorize
from gateway.security.principal import Principal
from gateway.tasks.models import Task

INVALID = "提交的数据未通过校验。"


def team_department(principal: Principal, task: Task) -> str | None:
    """The department in which the principal is on the task's (active) team, if it is."""
    return next((m.department_code for m in task.team if m.inspector_id == principal.inspector_id), None)


def require_lead_member(principal: Principal, task: Task) -> None:
    """Only the lead department's member submits the whole result."""
    department = team_department(principal, task)
    if department is not None and department != task.lead_department:
        raise Forbidden("lead_records_result",
                        "检查结果由牵头部门的检查人员提交；配合部门的检查人员请填写本部门的检查项（保存为部分结果）。")


def _open_for_drafts(session: Session, task: Task) -> None:
    latest = session.scalar(select(InspectionResult).where(InspectionResult.task_id == task.id)
                            .order_by(InspectionResult.version.desc()).limit(1))
    if latest is not None and (latest.status in ("reviewed", "published") or latest.version > 1):
        raise Conflict("result_closed", "该任务的检查结果已审核或公示，不能再填写部分结果。", result_id=latest.id)


def _own_values(gateway: Gateway, session: Session, task: Task, department: str, given: Any) -> dict[str, dict[str, Any]]:
    """The department's own items of ``given`` ({matter: {item: value}}), each checked by its field."""
    if not isinstance(given, Mapping) or not given:
        raise Invalid("validation_error", INVALID, {"checklists": ["请填写本部门的检查项（抽查事项: {检查项: 结果}）。"]})
    pinned = task_checklists(gateway, session, task)
    errors: dict[str, list[str]] = {}
    clean: dict[str, dict[str, Any]] = {}
    for matter, values in given.items():
        checklist = pinned.get(matter)
        if checklist is None:
            errors[f"checklists.{matter}"] = ["本任务不包含该抽查事项。"]
            continue
        if not isinstance(values, Mapping):
            errors[f"checklists.{matter}"] = ["检查表应为对象（检查项编码: 检查结果）。"]
            continue
        own = {item.code for item in checklist.items if item.department_code == department}
        fields = checklist.schema_class().fields
        for code, value in values.items():
            path = f"checklists.{matter}.{code}"
            if code not in own or code not in fields:
                errors[path] = ["该检查项不由本部门填写。"]
                continue
            try:
                fields[code].deserialize(value)
            except ValidationError as exc:
                errors[path] = list(exc.messages) if isinstance(exc.messages, list) else [str(exc.messages)]
                continue
            clean.setdefault(matter, {})[code] = value
    if errors:
        raise Invalid("validation_error", INVALID, errors)
    return clean


def save_contribution(gateway: Gateway, session: Session, principal: Principal, task_id: int,
                      checklists: Any) -> ResultContribution:
    """A cooperating member saves its department's items of the task (replacing its earlier save)."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound.of("检查任务", task_id)
    authorize(principal, "results.record", **task_resource(task))
    department = team_department(principal, task) or ""
    if department == task.lead_department:
        raise Conflict("lead_records_result", "牵头部门的检查人员直接录入并提交完整的检查结果。")
    _open_for_drafts(session, task)
    clean = _own_values(gateway, session, task, department, checklists)
    row = session.scalar(select(ResultContribution).where(
        ResultContribution.task_id == task.id, ResultContribution.department_code == department))
    if row is None:
        row = ResultContribution(task_id=task.id, department_code=department)
        session.add(row)
    row.checklists = clean
    row.recorded_by = principal.label
    row.recorded_by_inspector_id = principal.inspector_id
    session.flush()
    audit.record(session, principal, "results.contribute", "task", task.id,
                 {"department": department, "items": sorted(f"{m}.{c}" for m, v in clean.items() for c in v)})
    return row


def contributions_of(session: Session, task: Task) -> list[ResultContribution]:
    return list(session.scalars(select(ResultContribution).where(ResultContribution.task_id == task.id)
                                .order_by(ResultContribution.department_code)))


def merge_into(session: Session, task: Task, raw: Any) -> Any:
    """``raw`` (a submission by the lead's member) with the cooperating departments' saved items."""
    saved = contributions_of(session, task)
    if not saved or not isinstance(raw, Mapping) or not isinstance(raw.get("checklists", {}), Mapping):
        return raw
    checklists = {m: dict(v) if isinstance(v, Mapping) else v for m, v in (raw.get("checklists") or {}).items()}
    errors: dict[str, list[str]] = {}
    for row in saved:
        for matter, values in row.checklists.items():
            given = checklists.setdefault(matter, {})
            if not isinstance(given, dict):
                continue
            for code, value in values.items():
                if code in given and given[code] != value:
                    errors[f"checklists.{matter}.{code}"] = [
                        f"该检查项已由配合部门（{row.recorded_by}）填写，牵头部门不能另填。"]
                given.setdefault(code, value)
    if errors:
        raise Invalid("result_invalid", f"检查结果未通过校验（{len(errors)} 个字段有问题），未保存任何内容。", errors)
    return {**raw, "checklists": checklists}
