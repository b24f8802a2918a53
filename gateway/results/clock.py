"""The article 19 clock on stored results: deadlines, overdue and due-soon lists.

A result's deadline is computed once when it is recorded (``gateway.results.deadline``, with the
office's holiday file from ``settings.holidays_file``) and stored with its ``provisional`` flag.
A provisional deadline is recomputed whenever it is read, so it becomes exact as soon as the
office adds the year to the data file; an exact one never changes.

The clock runs for a task until its first publication: a task with a published version is done
(a later correction has no deadline of its own); a task with a recorded, returned or reviewed
version and no published one is "open", and its status is overdue, due soon or on track.

A task nobody has recorded is overdue too once its inspection window has ended (articles 19, 30):
it is on the overdue list with ``status`` ``not_recorded``, its window's end as the deadline, and
its team lead (组长, who records), so that the office sees who is behind.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.results.access import published_exists, visible_tasks
from gateway.results.deadline import (
    DEFAULT_SOON_DAYS,
    DUE_SOON,
    OVERDUE,
    STATUS_LABELS,
    Deadline,
    due_status,
    publication_deadline,
    working_days_between,
)
from gateway.results.models import RESULT_STATUS_LABELS, InspectionResult
from gateway.security.principal import Principal
from gateway.tasks.models import Task
from schemas.common import CHINA_TZ


def china_today() -> date:
    """Today in China Standard Time: the calendar the clock and the platform use."""
    return datetime.now(CHINA_TZ).date()


def compute_deadline(settings: Settings, completed: date) -> Deadline:
    return publication_deadline(completed, holidays_file=settings.holidays_file or None)


def effective_deadline(settings: Settings, row) -> Deadline:
    """The stored deadline of a result or disposition, recomputed while it is provisional."""
    if not row.deadline_provisional:
        return Deadline(row.deadline, False)
    start = getattr(row, "completed_on", None) or row.decided_on
    return compute_deadline(settings, start)


def clock_of(settings: Settings, row, today: date, soon_days: int = DEFAULT_SOON_DAYS) -> tuple[Deadline, str, int]:
    """(deadline, status, working days left — negative when overdue) of an open result."""
    deadline = effective_deadline(settings, row)
    holidays = settings.holidays_file or None
    status = due_status(deadline.due, today, soon_days, holidays_file=holidays)
    left = working_days_between(today, deadline.due, holidays_file=holidays)
    return deadline, status, left


def open_results(session: Session, principal: Principal, department: str | None = None) -> list[InspectionResult]:
    """The unpublished versions of tasks never published, visible to ``principal``."""
    stmt = (
        select(InspectionResult)
        .join(Task, Task.id == InspectionResult.task_id)
        .where(
            visible_tasks(principal, "results.read"),
            InspectionResult.status != "published",
            ~published_exists(InspectionResult.task_id),
        )
        .order_by(InspectionResult.deadline, InspectionResult.id)
    )
    if department:
        stmt = stmt.where(Task.lead_department == department)
    return list(session.scalars(stmt))


NOT_RECORDED = "not_recorded"
NOT_RECORDED_LABEL = "窗口期已结束，未录入检查结果"


def unrecorded_tasks(session: Session, principal: Principal, today: date, department: str | None = None) -> list[Task]:
    """Tasks visible to ``principal`` whose window ended before ``today`` without any recorded result."""
    stmt = (
        select(Task)
        .where(visible_tasks(principal, "results.read"), Task.window_end < today,
               ~exists().where(InspectionResult.task_id == Task.id))
        .order_by(Task.window_end, Task.id)
    )
    if department:
        stmt = stmt.where(Task.lead_department == department)
    return list(session.scalars(stmt))


def _team_lead(task: Task) -> dict[str, Any] | None:
    lead = next((m for m in task.members if m.active and m.role == "lead"), None)
    return None if lead is None else {"inspector_id": lead.inspector_id, "name": lead.inspector.name,
                                      "department": lead.department_code}


def _item(task: Task, department_name: str, status: str, status_label: str, deadline: date, clock_status: str,
          working_days_left: int, *, result: InspectionResult | None = None,
          provisional: bool = False) -> dict[str, Any]:
    """One row of the deadline lists: a result's, or (``result`` None) a task's never recorded."""
    return {
        "result_id": result.id if result else None, "task_id": task.id, "task_number": task.number,
        "target": {"uscc": task.target.uscc, "name": task.target.name},
        "lead_department": task.lead_department, "lead_department_name": department_name,
        "status": status, "status_label": status_label, "completed_on": result.completed_on if result else None,
        "deadline": deadline, "deadline_provisional": provisional,
        "clock_status": clock_status, "clock_status_label": STATUS_LABELS[clock_status],
        "working_days_left": working_days_left,
        "team_lead": _team_lead(task),
    }


def _unrecorded_item(settings: Settings, task: Task, today: date, department_name: str) -> dict[str, Any]:
    left = working_days_between(today, task.window_end, holidays_file=settings.holidays_file or None)
    return _item(task, department_name, NOT_RECORDED, NOT_RECORDED_LABEL, task.window_end, OVERDUE, left)


def deadline_lists(
    settings: Settings,
    registry,
    session: Session,
    principal: Principal,
    *,
    today: date,
    department: str | None = None,
    soon_days: int = DEFAULT_SOON_DAYS,
) -> dict[str, Any]:
    """Overdue and due-soon results, and the tasks never recorded after their window, with counts
    per lead department (``not_recorded`` counts the latter, which ``overdue`` includes)."""
    overdue: list[dict[str, Any]] = []
    due_soon: list[dict[str, Any]] = []
    per_department: dict[str, dict[str, Any]] = {}
    for result in open_results(session, principal, department):
        deadline, status, left = clock_of(settings, result, today, soon_days)
        if status not in (OVERDUE, DUE_SOON):
            continue
        task = result.task
        dept = registry.departments.get(task.lead_department)
        item = _item(task, dept.name if dept else task.lead_department, result.status,
                     RESULT_STATUS_LABELS[result.status], deadline.due, status, left,
                     result=result, provisional=deadline.provisional)
        (overdue if status == OVERDUE else due_soon).append(item)
        _count(per_department, item, status)
    for task in unrecorded_tasks(session, principal, today, department):
        dept = registry.departments.get(task.lead_department)
        item = _unrecorded_item(settings, task, today, dept.name if dept else task.lead_department)
        overdue.append(item)
        _count(per_department, item, OVERDUE, NOT_RECORDED)
    overdue.sort(key=lambda i: (i["deadline"], i["result_id"] or 0, i["task_id"]))
    due_soon.sort(key=lambda i: (i["deadline"], i["result_id"]))
    return {
        "as_of": today,
        "soon_days": soon_days,
        "departments": sorted(per_department.values(), key=lambda d: d["code"]),
        "overdue": overdue,
        "due_soon": due_soon,
    }


def _count(per_department: dict[str, dict[str, Any]], item: dict[str, Any], *keys: str) -> None:
    counts = per_department.setdefault(item["lead_department"], {
        "code": item["lead_department"], "name": item["lead_department_name"],
        "overdue": 0, "due_soon": 0, NOT_RECORDED: 0})
    for key in keys:
        counts[key] += 1
