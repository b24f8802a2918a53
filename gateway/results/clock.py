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

from dataclasses import dataclass, field
from datetime import date, datetime

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
from gateway.tasks.models import Task, TaskMember
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


@dataclass
class DeadlineItem:
    """One row of the deadline lists: a result's, or (``result`` None) a task's never recorded.
    :class:`schemas.results.DeadlineItemSchema` dumps it."""

    task: Task
    lead_department_name: str
    status: str
    status_label: str
    deadline: date
    clock_status: str
    working_days_left: int
    result: InspectionResult | None = None
    deadline_provisional: bool = False

    @property
    def result_id(self) -> int | None:
        return self.result.id if self.result else None

    @property
    def completed_on(self) -> date | None:
        return self.result.completed_on if self.result else None

    @property
    def clock_status_label(self) -> str:
        return STATUS_LABELS[self.clock_status]

    @property
    def team_lead(self) -> TaskMember | None:
        """The active team lead (组长, who records), if the team has one."""
        return next((m for m in self.task.members if m.active and m.role == "lead"), None)


@dataclass
class DeadlineCounts:
    """A lead department's row of counts (``not_recorded`` counts tasks also counted as overdue)."""

    code: str
    name: str
    overdue: int = 0
    due_soon: int = 0
    not_recorded: int = 0


@dataclass
class DeadlineLists:
    as_of: date
    soon_days: int
    departments: list[DeadlineCounts] = field(default_factory=list)
    overdue: list[DeadlineItem] = field(default_factory=list)
    due_soon: list[DeadlineItem] = field(default_factory=list)


def _unrecorded_item(settings: Settings, task: Task, today: date, department_name: str) -> DeadlineItem:
    left = working_days_between(today, task.window_end, holidays_file=settings.holidays_file or None)
    return DeadlineItem(task, department_name, NOT_RECORDED, NOT_RECORDED_LABEL, task.window_end, OVERDUE, left)


def deadline_lists(
    settings: Settings,
    registry,
    session: Session,
    principal: Principal,
    *,
    today: date,
    department: str | None = None,
    soon_days: int = DEFAULT_SOON_DAYS,
) -> DeadlineLists:
    """Overdue and due-soon results, and the tasks never recorded after their window, with counts
    per lead department (``not_recorded`` counts the latter, which ``overdue`` includes)."""
    lists = DeadlineLists(as_of=today, soon_days=soon_days)
    per_department: dict[str, DeadlineCounts] = {}

    def count(item: DeadlineItem, *keys: str) -> None:
        code = item.task.lead_department
        counts = per_department.setdefault(code, DeadlineCounts(code, item.lead_department_name))
        for key in keys:
            setattr(counts, key, getattr(counts, key) + 1)

    for result in open_results(session, principal, department):
        deadline, status, left = clock_of(settings, result, today, soon_days)
        if status not in (OVERDUE, DUE_SOON):
            continue
        item = DeadlineItem(result.task, _department_name(registry, result.task.lead_department), result.status,
                            RESULT_STATUS_LABELS[result.status], deadline.due, status, left,
                            result=result, deadline_provisional=deadline.provisional)
        (lists.overdue if status == OVERDUE else lists.due_soon).append(item)
        count(item, status)
    for task in unrecorded_tasks(session, principal, today, department):
        item = _unrecorded_item(settings, task, today, _department_name(registry, task.lead_department))
        lists.overdue.append(item)
        count(item, OVERDUE, NOT_RECORDED)
    lists.overdue.sort(key=lambda i: (i.deadline, i.result_id or 0, i.task.id))
    lists.due_soon.sort(key=lambda i: (i.deadline, i.result_id))
    lists.departments = sorted(per_department.values(), key=lambda d: d.code)
    return lists


def _department_name(registry, code: str) -> str:
    dept = registry.departments.get(code)
    return dept.name if dept else code
