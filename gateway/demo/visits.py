"""The demo's repeat visit (issue 16 item 3): a department other than the lead registers a routine
patrol of a drawn target ten days after the task's window opens, so that the warning shows (the
console's 重复检查预警 page, the API's ``/visits/repeats``)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from gateway.core import Gateway
from gateway.demo.draw import demo_principal
from gateway.ledger.models import RegisteredInspection
from gateway.ledger.service import register
from gateway.ledger.warnings import repeat_visits
from gateway.tasks.models import Task

REFERENCE = "演示-日常巡查-001"


def ensure_demo_repeat_visit(gateway: Gateway, draw_id: int, today: date) -> dict[str, Any] | None:
    """Register the demo's patrol once (None when the draw made no task); return the target, the
    registering department and the warnings it gets."""
    with gateway.write() as session:
        row = session.scalar(select(RegisteredInspection).where(RegisteredInspection.reference == REFERENCE))
        if row is None:
            task = session.scalar(select(Task).where(Task.draw_id == draw_id).order_by(Task.id.desc()))
            if task is None:
                return None
            other = sorted(d for d in gateway.registry.departments if d != task.lead_department)[0]
            row, _ = register(session, demo_principal(), {
                "uscc": task.target.uscc, "department_code": other, "channel": "routine",
                "legal_reason_code": "routine_patrol", "legal_basis": "日常监督检查",
                "inspected_on": min(today, task.window_start + timedelta(days=10)), "reference": REFERENCE,
                # dropped unless the caps published for the year make it necessary
                "over_cap_reason": "与双随机抽查任务协调实施的日常巡查"}, source="page", today=today)
        warnings = repeat_visits(session, row.uscc, row.department_code, row.inspected_on,
                                 gateway.settings.repeat_visit_days, today=today)
        return {"uscc": row.uscc, "department": row.department_code, "on": row.inspected_on, "warnings": warnings}
