"""Repeat-visit warnings (issue 16 item 3; 国办发〔2024〕54号: warnings from data about repeated
inspections, joint visits wherever possible).

A department that registers or plans a visit to a target on a day is warned of every inspection of
the same target by *another* department within ``repeat_visit_days`` (a setting, default 30) before
or after that day, whatever its channel. A warning whose visit is a drawn task not yet recorded and
still open is *joinable*: the department may join it (:mod:`gateway.ledger.joining`) instead of
visiting again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.ledger.channels import channel_label
from gateway.ledger.queries import ledger_entries
from gateway.tasks.models import Task


@dataclass(frozen=True)
class RepeatVisit:
    """Another department's inspection of the target close to the planned day."""

    channel: str
    channel_label: str
    department_code: str
    on: date
    days_apart: int
    reference: str
    task_id: int | None
    joinable: bool
    message: str


def repeat_visits(session: Session, uscc: str, department: str, on: date, days: int,
                  today: date | None = None) -> list[RepeatVisit]:
    """Other departments' inspections of ``uscc`` within ``days`` of ``on`` (one ledger query, one
    for the tasks among them), nearest first."""
    entries = ledger_entries(session, uscc=uscc)
    # A joint visit the department takes part in is its own visit, not another's (综合查一次).
    own_tasks = {e.task_id for e in entries if e.department_code == department and e.task_id is not None}
    near = [e for e in entries if e.department_code != department and abs((e.on - on).days) <= days
            and (e.task_id is None or e.task_id not in own_tasks)]
    task_ids = {e.task_id for e in near if e.task_id is not None and e.channel == "drawn"}
    open_tasks = set(session.scalars(select(Task.id).where(
        Task.id.in_(task_ids), Task.status == "assigned", Task.window_end >= (today or on)))) if task_ids else set()
    out = []
    for entry in sorted(near, key=lambda e: (abs((e.on - on).days), e.on)):
        apart = abs((entry.on - on).days)
        # the task's own row is the one to join (a joining department's part of it is not offered again)
        joinable = entry.task_id in open_tasks and entry.channel == "drawn" and entry.in_total
        when = "之前" if entry.on <= on else "之后"
        message = (f"部门 {entry.department_code} 已于 {entry.on.isoformat()}（{channel_label(entry.channel)}，"
                   f"{entry.reference or '无编号'}）检查或安排检查该对象，与本次相隔 {apart} 天（{when}）。"
                   + ("可申请加入该检查任务，合并为一次联合检查（综合查一次）。" if joinable else
                      "请考虑与该部门协调，避免重复检查。"))
        out.append(RepeatVisit(entry.channel, channel_label(entry.channel), entry.department_code, entry.on,
                               apart, entry.reference, entry.task_id if entry.channel == "drawn" else None,
                               joinable, message))
    return out


def registration_warnings(session: Session, row, days: int, today: date) -> list[RepeatVisit]:
    """The warnings of a registered inspection (``RegisteredInspection`` ``row``): the API answers
    them as ``repeat_visits``, the registration page flashes them."""
    return repeat_visits(session, row.uscc, row.department_code, row.inspected_on, days, today=today)
