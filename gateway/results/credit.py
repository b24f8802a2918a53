"""A target's credit view (articles 23, 24, 28) for the departments and the office.

The target's directory record (risk class, list memberships, complaints), its inspection history
(the tasks the principal may see), every result version and disposition the principal may read,
and the risk events that published records caused, with the rule behind each.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.core import Gateway
from gateway.directory.service import get_target
from gateway.planning.models import Plan
from gateway.results import risk
from gateway.results.access import visible_tasks
from gateway.results.followups import disposition_dict
from gateway.results.models import Disposition, InspectionResult, RiskEvent
from gateway.results.service import result_views, team_department_names
from gateway.results.views import department_name, matter_refs
from gateway.security.policy import authorize, scope_of
from gateway.security.principal import Principal
from gateway.tasks.models import Task


def _rule_reason(rule: str) -> str:
    kind, _, key = rule.partition(":")
    table = risk.RULES.result_codes if kind == "result_code" else risk.RULES.dispositions
    effect = table.get(key)
    return effect.reason if effect else rule


def credit_view(gateway: Gateway, session: Session, principal: Principal, uscc: str, today: date) -> dict[str, Any]:
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
    return {
        "target": {
            "uscc": target.uscc, "name": target.name, "type": target.type, "township": target.township,
            "status": target.status, "risk_class": target.risk_class, "abnormal_list": target.abnormal_list,
            "serious_violation_list": target.serious_violation_list, "complaint_count": target.complaint_count,
        },
        "lists": risk.list_labels(target),
        "risk_class": target.risk_class,
        "inspections": [
            {
                "task_id": t.id, "task_number": t.number,
                "plan_number": plans[t.plan_id].number if t.plan_id in plans else "",
                "plan_title": plans[t.plan_id].title if t.plan_id in plans else "",
                "year": plans[t.plan_id].year if t.plan_id in plans else t.window_start.year,
                "matters": matter_refs(gateway, t.matter_codes),
                "lead_department_name": department_name(gateway, t.lead_department),
                "departments": team_department_names(gateway, t),
                "key_inspection": t.key_inspection, "window_start": t.window_start, "window_end": t.window_end,
                "status": t.status,
            }
            for t in tasks
        ],
        "results": [v.values() for v in result_views(gateway, session, results, today, full=lambda r: r.task_id in in_scope)],
        "dispositions": [disposition_dict(gateway, d) for d in dispositions],
        "risk_events": [
            {
                "id": e.id, "source_type": e.source_type, "source_id": e.source_id, "rules": list(e.rules),
                "reason": "；".join(_rule_reason(r) for r in e.rules),
                "risk_class_before": e.risk_class_before, "risk_class_after": e.risk_class_after,
                "lists_set": [risk.RULES.list_labels.get(code, code) for code in e.lists_set], "at": e.at,
            }
            for e in events
        ],
    }
