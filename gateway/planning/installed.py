"""A plan may go on only while every department it involves has its plugin installed and enabled."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.directory.models import Department
from gateway.errors import Conflict
from gateway.planning.models import Plan


def plan_departments(plan: Plan) -> list[str]:
    """The lead, the cooperating departments and every matter's lead department, each once."""
    codes = [plan.lead_department, *plan.cooperating_departments, *(m.department_code for m in plan.matters)]
    return list(dict.fromkeys(codes))


def refuse_if_plugin_missing(session: Session, plan: Plan, doing: str) -> None:
    """Raise Conflict naming every department of ``plan`` whose plugin is not installed or not
    enabled (``SHUANGSUI_PLUGINS``): its tasks could never be recorded."""
    codes = plan_departments(plan)
    installed = set(session.scalars(
        select(Department.code).where(Department.code.in_(codes), Department.installed.is_(True))
    ))
    missing = [code for code in codes if code not in installed]
    if missing:
        names = "、".join(missing)
        message = (f"计划 {plan.number}（第 {plan.version} 版）涉及的部门 {names} 的插件未安装或未启用，"
                   f"不能{doing}：其检查任务将无法录入结果。请安装并启用该插件后再试。")
        raise Conflict("department_plugin_missing", message, {"departments": [message]}, departments=missing)
