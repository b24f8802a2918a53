"""The demo's ledger (issue 16): the year's published caps, inspections registered outside the draw
in every channel, and one enterprise inspected over its cap with the legal reason stated.

Idempotent: a second run finds the demo's registrations (their references start with
:data:`REFERENCE_PREFIX`) and adds nothing.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from gateway.core import Gateway
from gateway.demo.draw import demo_principal
from gateway.directory.models import Target
from gateway.ledger import service as ledger
from gateway.ledger.channels import REGISTERED_CHANNELS
from gateway.ledger.models import RegisteredInspection
from gateway.ledger.queries import current_caps
from gateway.security.principal import Principal

REFERENCE_PREFIX = "演示登记"
DEMO_CAPS = {"per_department": 2, "total": 4, "basis": "武陟县涉企行政检查年度频次上限（演示）"}
LEGAL_REASONS = {"special": ("special_campaign", "县安委会安全生产专项整治部署"),
                 "complaint": ("complaint", "群众投诉举报（12345 热线转来）"),
                 "referral": ("referral", "焦作市局交办函"),
                 "routine": ("routine", "日常监管"),
                 "case": ("case", "立案调查")}
OVER_CAP_REASON = "前两次检查发现重大事故隐患，依据《中华人民共和国安全生产法》第六十五条复查整改情况"


def _day(today: date, days_ago: int) -> date:
    return max(date(today.year, 1, 1), today - timedelta(days=days_ago))


def load_demo_ledger(gateway: Gateway, today: date | None = None) -> dict[str, Any]:
    """Publish the year's caps if none are, and register the demo's inspections once."""
    today = today or date.today()
    office = demo_principal()
    with gateway.write() as session:
        if current_caps(session, today.year) is None:
            ledger.publish_caps(session, office, year=today.year, **DEMO_CAPS)
        done = session.scalar(select(func.count()).select_from(RegisteredInspection)
                              .where(RegisteredInspection.reference.startswith(REFERENCE_PREFIX)))
        usccs = list(session.scalars(select(Target.uscc).where(Target.status == "operating", Target.active.is_(True))
                                     .order_by(Target.uscc).limit(len(REGISTERED_CHANNELS) + 1)))
    if done or len(usccs) <= len(REGISTERED_CHANNELS):
        return {"registered": 0, "over_cap": None}
    departments = sorted(gateway.registry.departments)
    rows = [(usccs[n], departments[n % len(departments)], channel, 60 - n)
            for n, channel in enumerate(REGISTERED_CHANNELS)]
    # One enterprise visited three times by the same department: the last one over its cap.
    busy, department = usccs[-1], departments[0]
    rows += [(busy, department, "special", 50), (busy, department, "routine", 30), (busy, department, "routine", 10)]
    for n, (uscc, dept, channel, days_ago) in enumerate(rows, start=1):
        code, basis = LEGAL_REASONS[channel]
        with gateway.write() as session:
            ledger.register(session, Principal(role="department_operator", name="演示登记员", department_code=dept), {
                "uscc": uscc, "department_code": dept, "channel": channel, "legal_reason_code": code,
                "legal_basis": basis, "inspected_on": _day(today, days_ago), "reference": f"{REFERENCE_PREFIX}-{n:03d}",
                # Kept only when the registration does go over a cap.
                "over_cap_reason": OVER_CAP_REASON if uscc == busy else "",
            }, source="page", today=today)
    return {"registered": len(rows), "over_cap": busy}
