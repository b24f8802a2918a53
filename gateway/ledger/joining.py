"""Joining a visit into another department's task (issue 16 item 3: 综合查一次, one visit with both
checklists).

Decision: the unit of a joint visit is the existing task (one target, one team, the matters it
covers). A department warned of another department's open drawn task for the same target joins it:
the task then also covers the joining department's matter (pinned to its current version, in
:class:`gateway.tasks.models.TaskJoin`), so the task sheet, the guide and the result's checklists
hold both departments' items, and the joining department's inspectors are added to the team
(``source = "join"``). The lead department's team still records the one result ("who leads,
records"). A registered inspection of the joining department, when named, points to the task
(``joint_task_id``): the visit stays in the ledger once per department, now as a joint visit.

Only a task still assigned (no result yet) whose window has not ended can be joined; the joining
department names its own inspectors (certified on the day, no declared conflict with the target).
"""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.directory.models import Conflict, Inspector, MatterVersion
from gateway.errors import Conflict as ConflictError  # the model Conflict (of interest) has the plain name here
from gateway.errors import Invalid, NotFound
from gateway.ledger.models import RegisteredInspection
from gateway.security import audit
from gateway.security.policy import authorize
from gateway.security.principal import Principal
from gateway.tasks.models import Task, TaskEvent, TaskJoin, TaskMember
from gateway.tasks.service import get_task


def join_task(session: Session, principal: Principal, task_id: int, data: Mapping[str, Any], today: date) -> Task:
    """Join the department's ``matter_code`` and its ``inspector_ids`` into task ``task_id``;
    ``registered_id`` names the department's registered inspection it replaces (optional)."""
    task = get_task(session, task_id)
    version = session.scalar(select(MatterVersion).where(MatterVersion.code == data["matter_code"],
                                                         MatterVersion.current.is_(True)))
    if version is None:
        raise NotFound.of("抽查事项", data["matter_code"])
    department = version.department_code
    authorize(principal, "visits.join", departments=[department])
    _refuse_closed(task, today, department, version.code)
    inspectors = _inspectors(session, task, department, data["inspector_ids"], today)
    registered = _registered(session, task, department, data.get("registered_id"))
    session.add(TaskJoin(task_id=task.id, department_code=department, matter_code=version.code,
                         matter_version_id=version.id, registered_inspection_id=registered.id if registered else None,
                         reason=data.get("reason", ""), joined_by=principal.label))
    task.matter_codes = [*task.matter_codes, version.code]
    for inspector in inspectors:
        task.members.append(TaskMember(inspector_id=inspector.id, department_code=department, role="member",
                                       source="join"))
    if registered is not None:
        registered.joint_task_id = task.id
    details = {"department": department, "matter": version.code, "inspectors": [i.id for i in inspectors],
               "registered_id": registered.id if registered else None}
    session.add(TaskEvent(task_id=task.id, actor=principal.label, action="joined", details=details))
    session.flush()
    audit.record(session, principal, "visits.join", "task", task.id, details)
    return task


def _refuse_closed(task: Task, today: date, department: str, matter_code: str) -> None:
    if task.status != "assigned" or task.window_end < today:
        raise ConflictError("task_not_joinable", f"检查任务 {task.number} 已录入结果或检查期间已结束，不能再加入。")
    if department == task.lead_department:
        raise ConflictError("task_own_department", f"检查任务 {task.number} 由本部门牵头，无需加入。")
    if matter_code in task.matter_codes:
        raise ConflictError("task_matter_present", f"检查任务 {task.number} 已包含事项 {matter_code}。")


def _inspectors(session: Session, task: Task, department: str, ids: list[int], today: date) -> list[Inspector]:
    """The joining department's inspectors: its own, certified today, not on the team, no conflict."""
    found = {i.id: i for i in session.scalars(select(Inspector).where(Inspector.id.in_(ids)))}
    conflicted = set(session.scalars(select(Conflict.inspector_id).where(
        Conflict.target_id == task.target_id, Conflict.inspector_id.in_(ids))))
    on_team = {m.inspector_id for m in task.members if m.active}
    errors: dict[str, list[str]] = {}
    for index, inspector_id in enumerate(ids):
        inspector = found.get(inspector_id)
        if inspector is None or inspector.department_code != department:
            problem = f"检查人员 {inspector_id} 不是部门 {department} 的执法人员。"
        elif not inspector.is_certified_on(today):
            problem = f"检查人员 {inspector_id} 未在岗或执法证已过期。"
        elif inspector_id in conflicted:
            problem = f"检查人员 {inspector_id} 已申报与该检查对象存在利害关系，应当回避。"
        elif inspector_id in on_team:
            problem = f"检查人员 {inspector_id} 已在检查组中。"
        else:
            continue
        errors[f"inspector_ids.{index}"] = [problem]
    if errors:
        raise Invalid("validation_error", "提交的数据未通过校验。", errors)
    return [found[i] for i in ids]


def _registered(session: Session, task: Task, department: str, registered_id: int | None) -> RegisteredInspection | None:
    if registered_id is None:
        return None
    row = session.get(RegisteredInspection, registered_id)
    if row is None or row.department_code != department or row.uscc != task.target.uscc:
        raise Invalid("validation_error", "提交的数据未通过校验。",
                      {"registered_id": ["所指登记检查不存在，或不是本部门对该检查对象的检查。"]})
    if row.joint_task_id is not None:
        raise ConflictError("registered_already_joined", f"登记检查 {row.id} 已并入检查任务 {row.joint_task_id}。")
    return row
