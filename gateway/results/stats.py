"""Supervision statistics (article 30): per lead department and per plan.

For each task drawn (counted for its lead department: "who leads, who records, who answers"):

- ``inspected``: a result has been recorded;
- ``published``: a version has been published; ``published_on_time`` when the first publication
  day was on or before the article 19 deadline, else ``published_late``;
- ``overdue`` / ``due_soon``: not yet published and past / close to the deadline on ``as_of``; a task
  never recorded is overdue once its inspection window has ended;
- ``problems_found``: the current version (latest published, else latest) found problems (the
  result-code kinds listed as problems in ``risk_rules.json``);
- ``follow_up_required``: its codes call for a follow-up (the result-code table's flag);
- ``followed_up``: of those, the tasks with at least one published disposition.

A principal whose ``stats.read`` scope is its own department sees the tasks its department leads.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, make_dataclass
from datetime import date
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core import Gateway
from gateway.results import exports
from gateway.results.clock import clock_of, effective_deadline
from gateway.results.deadline import DUE_SOON, OVERDUE
from gateway.results.models import Disposition, InspectionResult
from gateway.results.service import department_name
from gateway.security.policy import ANY, OWN_DEPARTMENT, authorize, scope_of
from gateway.security.principal import Principal
from gateway.tasks.models import Task
from schemas.results import STATS_COUNTERS

COUNTERS = STATS_COUNTERS
# Column headers of the exports, in order (Chinese, as the office reads them).
HEADERS = {
    "key": "编码",
    "name": "名称",
    "drawn": "抽取任务数",
    "inspected": "已检查数",
    "published": "已公示数",
    "published_on_time": "按时公示数",
    "published_late": "超期公示数",
    "overdue": "逾期未公示数",
    "due_soon": "即将到期数",
    "problems_found": "发现问题数",
    "follow_up_required": "需后续处置数",
    "followed_up": "已公示后续处置数",
}


def _add(row, flags: dict[str, bool]) -> None:
    for name in COUNTERS:
        if flags.get(name):
            setattr(row, name, getattr(row, name) + 1)


# One row of the statistics: its key and name, then a count per counter (from 0); ``add(flags)``
# counts a task.
Row = make_dataclass(
    "Row", [("key", str), ("name", str), *((name, int, field(default=0)) for name in COUNTERS)],
    namespace={"add": _add},
)


@dataclass
class SupervisionStats:
    as_of: date
    year: int | None
    departments: list[Row]
    plans: list[Row]
    totals: Row


def task_flags(gateway: Gateway, versions: list[InspectionResult], has_published_disposition: bool, as_of: date,
               window_end: date | None = None) -> dict[str, bool]:
    flags = {"drawn": True}
    if not versions:
        # never recorded: overdue once the inspection window has ended (articles 19, 30)
        flags["overdue"] = window_end is not None and window_end < as_of
        return flags
    flags["inspected"] = True
    published = [v for v in versions if v.is_published]
    if published:
        first = published[0]
        flags["published"] = True
        on_time = first.published_on <= effective_deadline(gateway.settings, first).due
        flags["published_on_time" if on_time else "published_late"] = True
        current = published[-1]
    else:
        current = versions[-1]
        _, status, _ = clock_of(gateway.settings, current, as_of)
        flags["overdue"] = status == OVERDUE
        flags["due_soon"] = status == DUE_SOON
    flags["problems_found"] = current.has_problems
    flags["follow_up_required"] = current.requires_follow_up
    flags["followed_up"] = current.requires_follow_up and has_published_disposition
    return flags


def supervision_stats(
    gateway: Gateway, session: Session, principal: Principal, *, as_of: date,
    year: int | None = None, plan_id: int | None = None, department: str | None = None,
) -> SupervisionStats:
    """The counts of the tasks ``principal`` may see (:class:`schemas.results.StatsSchema` dumps them)."""
    scope = scope_of(principal, "stats.read")
    if scope is None:
        authorize(principal, "stats.read")
    if department and scope != ANY:
        authorize(principal, "stats.read", departments=[department])
    stmt = exports.tasks_with_plans(plan_id, department, year).order_by(Task.id)
    if scope == OWN_DEPARTMENT:
        stmt = stmt.where(Task.lead_department == (principal.department_code or ""))
    rows = session.execute(stmt).all()
    task_ids = [t.id for t, _ in rows]

    versions: dict[int, list[InspectionResult]] = defaultdict(list)
    disposed: set[int] = set()
    for chunk in _chunks(task_ids, 500):
        for version in session.scalars(
            select(InspectionResult).where(InspectionResult.task_id.in_(chunk))
            .order_by(InspectionResult.task_id, InspectionResult.version)
        ):
            versions[version.task_id].append(version)
        disposed.update(session.scalars(
            select(Disposition.task_id).where(Disposition.task_id.in_(chunk), Disposition.status == "published")
        ))

    by_department: dict[str, Row] = {}
    if scope == ANY and not department and plan_id is None:  # a department with no task has its row of zeros
        by_department = {code: Row(key=code, name=department_name(gateway, code)) for code in gateway.registry.departments}
    by_plan: dict[int, Row] = {}
    totals = Row(key="total", name="合计")
    for task, plan in rows:
        flags = task_flags(gateway, versions.get(task.id, []), task.id in disposed, as_of, task.window_end)
        by_department.setdefault(
            task.lead_department, Row(key=task.lead_department, name=department_name(gateway, task.lead_department))
        ).add(flags)
        by_plan.setdefault(plan.id, Row(key=f"{plan.number}（第{plan.version}版）", name=plan.title)).add(flags)
        totals.add(flags)
    return SupervisionStats(as_of=as_of, year=year, departments=[r for _, r in sorted(by_department.items())],
                            plans=[r for _, r in sorted(by_plan.items())], totals=totals)


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def table(rows: list[Row], totals: Row | None = None) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows for CSV/Excel."""
    keys = list(HEADERS)
    out = [[getattr(row, k) for k in keys] for row in rows]
    if totals is not None:
        out.append([getattr(totals, k) for k in keys])
    return [HEADERS[k] for k in keys], out


# The workbook's rates: (header, part, whole).
RATES = (("检查完成率", "inspected", "drawn"), ("按时公示率", "published_on_time", "published"),
         ("问题发现率", "problems_found", "inspected"))


def stats_file(data: SupervisionStats, file_format: str) -> tuple[bytes, str, str]:
    """The statistics as a CSV or Excel file: its content, media type and download name (with the
    statistics year, when one was asked for)."""
    stamp = data.as_of.isoformat()
    name = f"监督统计-{data.year}年度-{stamp}" if data.year else f"监督统计-{stamp}"
    if file_format == "csv":
        headers, dept_rows = table(data.departments, data.totals)
        _, plan_rows = table(data.plans)
        content = exports.to_csv(headers, dept_rows + [[""] * len(headers)] + plan_rows)
        return content, exports.CSV_MIMETYPE, f"{name}.csv"
    return _workbook(data, stamp), exports.XLSX_MIMETYPE, f"{name}.xlsx"


def _workbook(data: SupervisionStats, stamp: str) -> bytes:
    """按部门 (by name: the codes are internal) and 按计划 (by document number), with rates."""
    year = f"{data.year}年度，" if data.year else ""
    counters = [HEADERS[k] for k in COUNTERS]
    rates = [header for header, _, _ in RATES]

    def row(r: Row, *first: Any) -> list[Any]:
        return [*first, *(getattr(r, k) for k in COUNTERS),
                *(_rate(getattr(r, part), getattr(r, whole)) for _, part, whole in RATES)]

    departments = [row(r, r.name) for r in data.departments] + [row(data.totals, "合计")]
    plans = [row(r, r.key, r.name) for r in data.plans]
    return exports.to_xlsx_sheets([
        ("按部门", f"双随机抽查监督统计（{year}按部门，截至{stamp}）", ["部门", *counters, *rates], departments),
        ("按计划", f"双随机抽查监督统计（{year}按计划，截至{stamp}）", ["计划文号", "计划名称", *counters, *rates], plans),
    ])


def _rate(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"
