"""CSV and Excel exports: task lists, results and supervision statistics, with Chinese headers.

The column layouts follow the registers county offices keep (抽查任务清单, 抽查检查结果登记表): a
序号 column first, then plan and task numbers, the target, the matters, the departments, dates
and states, written by ``gateway.spreadsheets``.
Internal exports name the team's inspectors (name and department only, never phone or
certificate numbers); the public query never does.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core import Gateway
from gateway.planning.models import Plan
from gateway.results.access import visible_tasks
from gateway.results.clock import effective_deadline
from gateway.results.models import RESULT_STATUS_LABELS, SIGNATURE_LABELS, Disposition, InspectionResult
from gateway.results.service import department_name
from gateway.security.principal import Principal

# The files themselves are written by the one export writer (formula injection neutralised there).
from gateway.spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE, to_csv, to_xlsx, to_xlsx_sheets  # noqa: E402,F401
from gateway.tasks.models import Task
from schemas.platform import DISPOSITIONS
from schemas.result_codes import describe

TASK_STATUS_LABELS = {"assigned": "待检查", "recorded": "已录入结果", "reviewed": "结果已审核", "published": "结果已公示"}

TASK_HEADERS = (
    "序号", "计划编号", "计划名称", "任务编号", "检查对象名称", "统一社会信用代码", "所属乡镇（街道）",
    "检查事项", "牵头部门", "配合部门", "检查人员", "重点检查", "检查开始日期", "检查截止日期", "任务状态",
)
RESULT_HEADERS = (
    "序号", "计划编号", "任务编号", "检查对象名称", "统一社会信用代码", "检查事项", "检查实施机关", "配合部门",
    "检查方式", "检查完成日期", "检查结果代码", "检查结果", "签字情况", "结果版本", "更正原因", "结果状态",
    "公示截止日期", "截止日期说明", "公示日期", "是否按时公示", "后续处置", "录入人",
)


def tasks_with_plans(plan_id=None, department=None, year=None):
    """``(Task, Plan)`` rows, narrowed to one plan, lead department and year where given."""
    stmt = select(Task, Plan).join(Plan, Plan.id == Task.plan_id)
    if plan_id:
        stmt = stmt.where(Task.plan_id == plan_id)
    if department:
        stmt = stmt.where(Task.lead_department == department)
    if year:
        stmt = stmt.where(Plan.year == year)
    return stmt


def _filtered_tasks(session: Session, principal: Principal, action: str, plan_id, department, year):
    stmt = tasks_with_plans(plan_id, department, year).where(visible_tasks(principal, action))
    return session.execute(stmt.order_by(Plan.id, Task.number)).all()


def _matters(gateway: Gateway, codes: list[str]) -> str:
    return "、".join(gateway.registry.matters[c].name if c in gateway.registry.matters else c for c in codes)


def _cooperating(gateway: Gateway, task: Task) -> str:
    codes = []
    for member in task.team:
        if member.department_code != task.lead_department and member.department_code not in codes:
            codes.append(member.department_code)
    return "、".join(department_name(gateway, c) for c in codes)


def task_rows(gateway: Gateway, session: Session, principal: Principal, *, plan_id=None, department=None, year=None):
    rows = []
    for index, (task, plan) in enumerate(_filtered_tasks(session, principal, "tasks.read", plan_id, department, year), start=1):
        team = "、".join(
            f"{m.inspector.name}（{department_name(gateway, m.department_code)}）" for m in task.team
        )
        rows.append([
            index, plan.number, plan.title, task.number, task.target.name, task.target.uscc, task.target.township,
            _matters(gateway, task.matter_codes), department_name(gateway, task.lead_department),
            _cooperating(gateway, task), team, task.key_inspection, task.window_start, task.window_end,
            TASK_STATUS_LABELS.get(task.status, task.status),
        ])
    return list(TASK_HEADERS), rows


def result_rows(gateway: Gateway, session: Session, principal: Principal, *, plan_id=None, department=None, year=None):
    rows = []
    index = 0
    for task, plan in _filtered_tasks(session, principal, "results.read", plan_id, department, year):
        versions = list(session.scalars(
            select(InspectionResult).where(InspectionResult.task_id == task.id).order_by(InspectionResult.version)
        ))
        dispositions = list(session.scalars(
            select(Disposition).where(Disposition.task_id == task.id).order_by(Disposition.id)
        ))
        for version in versions:
            index += 1
            deadline = effective_deadline(gateway.settings, version)
            follow = "；".join(
                f"{DISPOSITIONS[d.kind]}{('（' + d.decision_number + '）') if d.decision_number else ''}"
                f"{'' if d.is_published else '（未公示）'}"
                for d in dispositions if d.result_id == version.id
            )
            signature = SIGNATURE_LABELS[version.signature_status]
            if version.signature_status == "signed" and version.signer_name:
                signature += f"：{version.signer_name}"
            rows.append([
                index, plan.number, task.number, task.target.name, task.target.uscc, _matters(gateway, task.matter_codes),
                department_name(gateway, task.lead_department), _cooperating(gateway, task), "、".join(version.methods),
                version.completed_on, "、".join(version.result_codes), describe(version.result_codes), signature,
                version.version, version.correction_reason, RESULT_STATUS_LABELS[version.status], deadline.due,
                "暂定（该年度节假日安排尚未公布）" if deadline.provisional else "", version.published_on,
                version.published_on_time if version.published_on else None, follow, version.recorded_by,
            ])
    return list(RESULT_HEADERS), rows
