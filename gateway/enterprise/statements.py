"""Statements (陈述申辩) on draft results, and how they hold back publication.

The window: the enterprise may file a statement on a task's draft result (recorded, returned or
reviewed, not yet published) until the ``settings.statement_working_days``-th working day (default
5) after the inspection's completion date (the working-day calendar of ``gateway.results.deadline``).

Publication (``gateway.results.service.publish_result``) is refused with ``Conflict``:
1. ``statement_unanswered``: while any statement on the task has no answer, whatever the date —
   the lead department answers in the record first;
2. ``statement_window_open``: while the window is open for an enterprise that was given the task's
   inspection notice (检查通知书, which tells it of its right to 陈述申辩) and has not yet both filed
   a statement and had every statement answered. An enterprise never given the notice was never
   told of the window, so it holds nothing back; an access code issued without a notice (a
   replacement code for the check-in, say) does not open it either.
A published result says whether a statement was filed (``statement_filed``).
"""
from __future__ import annotations

from datetime import date
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.db import utcnow
from gateway.enterprise.models import Notice, Statement
from gateway.errors import Conflict, NotFound
from gateway.results.deadline import add_working_days
from gateway.results.models import InspectionResult
from gateway.security import audit
from gateway.security.policy import authorize
from gateway.security.principal import Principal
from gateway.tasks.models import Task

DRAFT_STATUSES = ("recorded", "returned", "reviewed")


def statement_deadline(settings: Settings, completed_on: date) -> date:
    """The last day on which the enterprise may file a statement on a result completed on ``completed_on``."""
    return add_working_days(completed_on, settings.statement_working_days,
                            holidays_file=settings.holidays_file or None).due


def publication_block(settings: Settings, session: Session, result: InspectionResult, today: date) -> Conflict | None:
    """Why ``result`` may not be published today because of the enterprise's statements, or None."""
    statements = list(session.scalars(select(Statement).where(Statement.task_id == result.task_id)
                                      .order_by(Statement.id)))
    unanswered = [s.id for s in statements if s.answer is None]
    if unanswered:
        return Conflict("statement_unanswered",
                        f"检查对象已提交陈述申辩（编号 {'、'.join(map(str, unanswered))}），牵头部门须先在记录中答复，才能公示。",
                        statement_ids=unanswered)
    notified = session.scalar(select(func.count(Notice.id)).where(Notice.task_id == result.task_id))
    due = statement_deadline(settings, result.completed_on)
    if notified and today <= due and not statements:
        return Conflict("statement_window_open",
                        f"检查对象可在 {due.isoformat()} 前对检查结果提交陈述申辩，期限届满前不能公示"
                        "（检查对象已提交且均已答复的除外）。", statement_due=due.isoformat())
    return None


def statements_filed(session: Session, task_ids: Iterable[int]) -> set[int]:
    """The tasks (of ``task_ids``) on which the enterprise filed a statement, in one query."""
    ids = set(task_ids)
    if not ids:
        return set()
    return set(session.scalars(select(Statement.task_id).where(Statement.task_id.in_(ids)).distinct()))


def statements_of(session: Session, principal: Principal, task: Task) -> list[Statement]:
    authorize(principal, "statements.read", departments=[m.department_code for m in task.team] + [task.lead_department],
              team=[m.inspector_id for m in task.team])
    return list(session.scalars(select(Statement).where(Statement.task_id == task.id).order_by(Statement.id)))


def answer_statement(session: Session, principal: Principal, statement_id: int, answer: str) -> Statement:
    """The lead department answers a statement in the record (before publishing)."""
    statement = session.get(Statement, statement_id, with_for_update=True)
    if statement is None:
        raise NotFound.of("陈述申辩", statement_id)
    task = session.get(Task, statement.task_id)
    authorize(principal, "statements.answer", departments=[task.lead_department])
    if statement.answer is not None:
        raise Conflict("statement_answered", f"陈述申辩 {statement.id} 已于 {statement.answered_at:%Y-%m-%d} 答复。")
    statement.answer = answer
    statement.answered_by = principal.label
    statement.answered_at = utcnow()
    audit.record(session, principal, "statements.answer", "task", task.id, {"statement_id": statement.id})
    session.flush()
    return statement
