"""A target's credit view (articles 23, 24, 28) for the departments and the office.

The target's directory record (risk class, list memberships, complaints), its inspection history
(the tasks the principal may see), every result version and disposition the principal may read,
and the risk events that published records caused, with the rule behind each.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.core import Gateway
from gateway.directory.models import Target
from gateway.directory.service import get_target
from gateway.planning.models import Plan
from gateway.results import risk
from gateway.results.access import visible_tasks
from gateway.results.models import Disposition, InspectionResult, RiskEvent
from gateway.results.service import result_views, team_department_names
from gateway.results.views import DispositionView, ResultView, department_name, matter_refs
from gateway.security.policy import authorize, scope_of
from gateway.security.principal import Principal
from gateway.tasks.models import Task
from schemas.common import RowView


def _rule_reason(rule: str) -> str:
    kind, _, key = rule.partition(":")
    table = risk.RULES.result_codes if kind == "result_code" else risk.RULES.dispositions
    effect = table.get(key)
    return effect.reason if effect else rule


class InspectionHistoryView(RowView):
    """A task in the target's inspection history, as ``InspectionHistorySchema`` dumps it."""

    def __init__(self, gateway: Gateway, task: Task, plan: Plan | None):
        self.row = task
        self.task_id, self.task_number = task.id, task.number
        self.plan_number = plan.number if plan else ""
        self.plan_title = plan.title if plan else ""
        self.year = plan.year if plan else task.window_start.year
        self.matters = matter_refs(gateway, task.matter_codes)
        self.lead_department_name = department_name(gateway, task.lead_department)
        self.departments = team_department_names(gateway, task)


class RiskEventView(RowView):
    """A risk event with the reasons of its rules and the labels of the lists it set."""

    def __init__(self, event: RiskEvent):
        self.row = event
        self.rules = list(event.rules)
        self.reason = "；".join(_rule_reason(r) for r in event.rules)
        self.lists_set = [risk.RULES.list_labels.get(code, code) for code in event.lists_set]


@dataclass(frozen=True)
class CreditView:
    """A target's credit view as ``CreditViewSchema`` dumps it."""

    target: Target
    lists: list[str]
    risk_class: str
    inspections: list[InspectionHistoryView]
    results: list[ResultView]
    dispositions: list[DispositionView]
    risk_events: list[RiskEventView]


def credit_view(gateway: Gateway, session: Session, principal: Principal, uscc: str, today: date) -> CreditView:
    authorize(principal, "targets.read")
    target = get_target(session, uscc)

    tasks: list[Task] = []
    if scope_of(principal, "tasks.read") is not None:
        tasks = list(session.scalars(
            select(Task).where(Task.target_id == target.id, visible_tasks(principal, "tasks.read")).order_by(Task.id)
        ))
    plans = {p.id: p for p in session.scalars(select(Plan).where(Plan.id.in_({t.plan_id for t in tasks})))} if tasks else {}

    results: list[InspectionResult] = []
    dispositions: list[Disposition] = []
    in_scope: set[int] = set()
    if scope_of(principal, "results.read") is not None:
        # the tasks the principal may read in full, plus whatever is published (public anyway)
        of_target = select(Task.id).where(Task.target_id == target.id)
        readable = of_target.where(visible_tasks(principal, "results.read"))
        in_scope = set(session.scalars(readable))
        results = list(session.scalars(
            select(InspectionResult).where(
                InspectionResult.task_id.in_(of_target),
                or_(InspectionResult.task_id.in_(readable), InspectionResult.status == "published"),
            ).order_by(InspectionResult.task_id, InspectionResult.version)
        ))
        dispositions = list(session.scalars(
            select(Disposition).where(
                Disposition.target_id == target.id,
                or_(Disposition.task_id.in_(readable), Disposition.status == "published"),
            ).order_by(Disposition.id)
        ))
    events = session.scalars(select(RiskEvent).where(RiskEvent.target_id == target.id).order_by(RiskEvent.id))
    return CreditView(
        target=target, lists=risk.list_labels(target), risk_class=target.risk_class,
        inspections=[InspectionHistoryView(gateway, t, plans.get(t.plan_id)) for t in tasks],
        results=result_views(gateway, session, results, today, full=lambda r: r.task_id in in_scope),
        dispositions=[DispositionView(gateway, d) for d in dispositions],
        risk_events=[RiskEventView(e) for e in events],
    )
