"""The printable task sheet (检查任务书) and inspection guide (检查指引书) of a task (article 17).

Both are rendered from the matter versions the plan pinned — check items of every department the
checklist requires, legal basis, methods and the guide text — never from the plugins as installed
now. Only a version stored before guide texts were pinned asks the lead plugin's
``gateway_guide_text`` hook, with that version. Inspectors appear by name and department only —
never their phone or certificate numbers.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.orm import Session

from gateway.db import utcnow
from gateway.draw.service import iso
from gateway.planning.models import Plan
from gateway.plugins.contributions import COUNTY_DEFAULTABLE
from gateway.tasks.models import Task
from gateway.tasks.service import department_names, task_matters


def _cn_date(value: date) -> str:
    return f"{value.year} 年 {value.month} 月 {value.day} 日"


# The notice (gateway.enterprise.notices) prints its dates the same way.
cn_date = _cn_date


_env = Environment(loader=PackageLoader("gateway.tasks", "templates"), autoescape=select_autoescape(["html"]))
_env.filters["cn_date"] = _cn_date


def sheet_context(session: Session, task: Task, hook=None, code: dict[str, str] | None = None) -> dict[str, Any]:
    """What the sheet and the guide show; ``code`` is the task's inspection code block
    (:func:`gateway.codes.service.code_block`), printed on the sheet as a QR."""
    plan = session.get(Plan, task.plan_id)
    matters = []
    for matter in task_matters(session, task):
        content = matter.version.content
        guide = _guide_text(matter, hook)
        # Only what is checked (an outcome) is a check item; the form's other fields (问题描述,
        # 经营类别, 抽查报告份数 ...) are filled in when the result is recorded.
        items = sorted(
            (i for i in content.get("check_items", []) if i.get("kind", "outcome") == "outcome"),
            key=lambda i: (i.get("department_code") != matter.department, i.get("order", 0)),
        )
        matters.append({
            "code": matter.code,
            "name": matter.version.name,
            "field": content.get("field", ""),
            "version": matter.version.version,
            "department": matter.department,
            "cooperating": content.get("cooperating_departments", []),
            "appendix_text": content.get("appendix_text", ""),
            "county_defaults": [COUNTY_DEFAULTABLE.get(n, n) for n in content.get("county_defaults", [])],
            "target_description": content.get("target_description", ""),
            "legal_basis": content.get("legal_basis", []),
            "methods": content.get("methods", []),
            "frequency": content.get("frequency", ""),
            "items": items,
            "guide_text": guide,
            "guide_steps": guide_steps(guide),
        })
    team = [{"name": m.inspector.name, "department": m.department_code, "role": m.role}
            for m in task.members if m.active]
    return {
        "task": task,
        "plan": plan,
        "target": task.target,
        "matters": matters,
        "team": team,
        "departments": department_names(session),
        "generated_at": iso(utcnow()),
        "code": code,
    }


def guide_steps(text: str) -> list[str]:
    """The 工作指引 as numbered steps: one per line, or else one per sentence (。；), any leading
    numbering ("1." "（一）" "一、") dropped because the list numbers them."""
    parts = [p for p in re.split(r"\n+", text) if p.strip()]
    if len(parts) <= 1:
        parts = [p for p in re.split(r"(?<=[。；;])", text) if p.strip()]
    return [re.sub(r"^\s*(?:\d+[.、．)]|（[一二三四五六七八九十\d]+）|[一二三四五六七八九十]+、)\s*", "", p).strip() for p in parts]


def _guide_text(matter, hook) -> str:
    content = matter.version.content
    if "guide_text" in content or hook is None:
        return content.get("guide_text", "")
    return hook.gateway_guide_text(matter_code=matter.code, version=matter.version.version) or ""


def render_task_sheet(session: Session, task: Task, hook=None, code: dict[str, str] | None = None) -> str:
    return _env.get_template("task_sheet.html").render(**sheet_context(session, task, hook, code))


def render_guide(session: Session, task: Task, hook) -> str:
    return _env.get_template("guide.html").render(**sheet_context(session, task, hook))
