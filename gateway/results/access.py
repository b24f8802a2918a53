"""Who may see which tasks, as SQL: the scopes of ``gateway.security.policy.PERMISSIONS``.

Single resources go through ``authorize`` with :func:`task_resource`; lists filter with
:func:`visible_tasks`, which applies the same scope the permission table gives the principal's role.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from gateway.results.models import InspectionResult
from gateway.security.policy import ANY, OWN_DEPARTMENT, PUBLISHED, TEAM, authorize, scope_of
from gateway.security.principal import Principal
from gateway.tasks.models import Task, TaskMember


def team_ids(task: Task) -> list[int]:
    return [m.inspector_id for m in task.team]


def task_departments(task: Task) -> list[str]:
    """The lead department, then the departments of the team's members."""
    out = [task.lead_department]
    for member in task.team:
        if member.department_code not in out:
            out.append(member.department_code)
    return out


def task_resource(task: Task, published: bool = False) -> dict[str, Any]:
    """The keyword arguments ``authorize`` needs for an action on ``task``."""
    return {"departments": task_departments(task), "team": team_ids(task), "published": published}


def published_exists(task_id_column=Task.id) -> ColumnElement[bool]:
    """Whether the task in ``task_id_column`` has a published result version (an alias of the
    results table, so that it also works inside a query on the results table itself)."""
    published = aliased(InspectionResult)
    return exists(
        select(published.id).where(published.task_id == task_id_column, published.status == "published")
    )


def visible_tasks(principal: Principal, action: str) -> ColumnElement[bool]:
    """A WHERE clause on ``Task`` selecting what ``principal`` may ``action``; refused if nothing."""
    scope = scope_of(principal, action)
    if scope is None:
        authorize(principal, action)  # raises Unauthenticated or Forbidden
    if scope == ANY:
        return true()
    if scope == OWN_DEPARTMENT:
        if not principal.department_code:
            return false()
        member_of = exists(
            select(TaskMember.id).where(
                TaskMember.task_id == Task.id,
                TaskMember.department_code == principal.department_code,
                TaskMember.active.is_(True),
            )
        )
        return or_(Task.lead_department == principal.department_code, member_of)
    if scope == TEAM:
        if principal.inspector_id is None:
            return false()
        return exists(
            select(TaskMember.id).where(
                and_(
                    TaskMember.task_id == Task.id,
                    TaskMember.inspector_id == principal.inspector_id,
                    TaskMember.active.is_(True),
                )
            )
        )
    if scope == PUBLISHED:
        return published_exists()
    return false()
