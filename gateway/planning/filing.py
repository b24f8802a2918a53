"""Plan filing (备案, issue 16 item 5): the county office records that a plan was filed with the county
justice bureau (the bureau's filing number and date). The 2025 rules want every inspection approved
and known in advance (凡检查必审批); a draw therefore needs the filing first, unless the setting
``draw_requires_filing`` is off. The filing is public with the plan.

A filing belongs to one version of a plan: an amendment is a new plan and is filed again.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from sqlalchemy.orm import Session

from gateway.db import utcnow
from gateway.errors import Conflict, Invalid
from gateway.planning.models import Plan
from gateway.planning.service import get_plan, local_date
from gateway.security import audit
from gateway.security.disclosure import check_public_text
from gateway.security.policy import authorize
from gateway.security.principal import Principal


class PlanNotFiled(Conflict):
    """A draw of a plan that is not filed, while the setting requires the filing."""


def file_plan(session: Session, principal: Principal, plan_id: int, data: Mapping[str, Any],
              now: datetime | None = None) -> Plan:
    """Record the plan's filing: ``filing_number`` and ``filed_on`` (not in the future). A plan is
    filed once; a superseded version is not filed any more."""
    authorize(principal, "plans.file")
    plan = get_plan(session, plan_id)
    if plan.status == "superseded":
        raise Conflict("plan_superseded", f"计划 {plan.number} 第 {plan.version} 版已被新版本取代，请为现行版本备案。")
    if plan.filed_on is not None:
        raise Conflict("plan_already_filed",
                       f"计划 {plan.number} 第 {plan.version} 版已于 {plan.filed_on.isoformat()} 备案"
                       f"（备案号 {plan.filing_number}），不能重复备案。")
    now = now or utcnow()
    if data["filed_on"] > local_date(now):
        raise Invalid("validation_error", "提交的数据未通过校验。", {"filed_on": ["备案日期不能晚于今天。"]})
    check_public_text(session, {"filing_number": data["filing_number"]})
    plan.filing_number = data["filing_number"].strip()
    plan.filed_on = data["filed_on"]
    plan.filed_by = principal.label
    plan.filed_at = now
    session.flush()
    audit.record(session, principal, "plans.file", "plan", plan.id,
                 {"number": plan.number, "version": plan.version, "filing_number": plan.filing_number,
                  "filed_on": plan.filed_on.isoformat()})
    return plan


def require_filing(plan: Plan, required: bool) -> None:
    """Refuse a draw of an unfiled plan when the filing is ``required`` (the setting)."""
    if required and plan.filed_on is None:
        message = (f"计划 {plan.number} 第 {plan.version} 版尚未在县司法局备案，不能抽取。"
                   "请县双随机办先录入备案编号和备案日期（或由管理员关闭配置项 draw_requires_filing）。")
        raise PlanNotFiled("plan_not_filed", message, {"plan_id": [message]}, plan_id=plan.id)

