"""The annual release (issue 16 item 6; Kaifeng's practice under 国办发〔2024〕54号: the previous
year's inspection data public by 31 January).

For a year that has ended: every inspection in the ledger, by department and channel, with how
many count toward the caps, the caps in force, how many were joint visits and their share, and the
results of the drawn inspections by result code. The public page shows it from 1 January; the CSV
and XLSX files are built here once, and ``shuangsui results annual-release --year Y`` writes the
very same bytes (the XLSX is stamped with 1 January of the next year, never the time of writing).

Joint visit: a drawn task whose team spans several departments or that another department joined;
a registered inspection joined into a task. Higher-level inspections are counted, never as joint
(the gateway does not know their teams).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.directory.models import Department
from gateway.errors import Conflict, NotFound
from gateway.ledger.channels import CHANNELS, channel_label
from gateway.ledger.queries import current_caps, ledger_entries
from gateway.planning.models import Plan
from gateway.results.models import InspectionResult
from gateway.spreadsheets import to_csv, to_xlsx
from gateway.tasks.models import Task, TaskJoin, TaskMember
from schemas.result_codes import label as result_label

FIRST_YEAR = 2000  # as plans (schemas.planning); the XLSX stamp needs a year the ZIP format can date

HEADERS = ("年度", "部门代码", "部门", "检查渠道", "检查次数", "计入上限次数", "联合检查次数", "联合检查占比",
           "同一部门年度上限", "各部门合计年度上限", "检查结果（按结果代码，仅双随机抽查）")


@dataclass
class ReleaseRow:
    department_code: str
    department_name: str
    channel: str
    inspections: int = 0
    counted: int = 0
    joint: int = 0
    results: Counter = field(default_factory=Counter)

    @property
    def channel_label(self) -> str:
        return channel_label(self.channel)

    @property
    def joint_share(self) -> str:
        if not self.inspections:
            return "0.0%"
        share = (Decimal(self.joint * 100) / self.inspections).quantize(Decimal("0.1"), ROUND_HALF_UP)
        return f"{share}%"

    @property
    def results_text(self) -> str:
        return "；".join(f"{code} {result_label(code)} {n}" for code, n in sorted(self.results.items()))


@dataclass(frozen=True)
class AnnualRelease:
    year: int
    caps: dict | None
    rows: list[ReleaseRow]

    @property
    def totals(self) -> dict[str, int]:
        return {"inspections": sum(r.inspections for r in self.rows), "counted": sum(r.counted for r in self.rows),
                "joint": sum(r.joint for r in self.rows)}


def annual_release(session: Session, year: int, today: date) -> AnnualRelease:
    """The release of ``year``, which must have ended by ``today``."""
    if year < FIRST_YEAR:
        raise NotFound("annual_release_not_found", f"没有 {year} 年度的检查数据。")
    if year >= today.year:
        raise Conflict("annual_release_not_due", f"{year} 年度尚未结束，年度检查数据于次年 1 月公开。")
    entries = ledger_entries(session, year=year)
    joint_tasks = _joint_tasks(session, year)
    results = _results_by_department(session, year)
    names = dict(session.execute(select(Department.code, Department.name)).all())
    rows: dict[tuple[str, str], ReleaseRow] = {}
    for entry in entries:
        key = (entry.department_code, entry.channel)
        row = rows.get(key)
        if row is None:
            row = rows[key] = ReleaseRow(entry.department_code, names.get(entry.department_code, entry.department_code
                                                                            or "未注明部门"), entry.channel)
        row.inspections += 1
        row.counted += entry.counts
        row.joint += entry.task_id is not None and (entry.channel != "drawn" or entry.task_id in joint_tasks)
    for department, codes in results.items():
        rows.setdefault((department, "drawn"), ReleaseRow(department, names.get(department, department), "drawn"))
        rows[(department, "drawn")].results.update(codes)
    order = list(CHANNELS)
    ordered = sorted(rows.values(), key=lambda r: (r.department_code, order.index(r.channel)
                                                   if r.channel in order else len(order), r.channel))
    caps = current_caps(session, year)
    return AnnualRelease(year, None if caps is None else {
        "version": caps.version, "per_department": caps.per_department, "total": caps.total}, ordered)


def _joint_tasks(session: Session, year: int) -> set[int]:
    """The year's drawn tasks that were joint visits: a team of several departments, or joined."""
    of_year = select(Task.id).join(Plan, Plan.id == Task.plan_id).where(Plan.year == year)
    several = (select(TaskMember.task_id).where(TaskMember.active.is_(True), TaskMember.task_id.in_(of_year))
               .group_by(TaskMember.task_id).having(func.count(func.distinct(TaskMember.department_code)) > 1))
    joined = select(TaskJoin.task_id).where(TaskJoin.task_id.in_(of_year))
    return set(session.scalars(several)) | set(session.scalars(joined))


def _results_by_department(session: Session, year: int) -> dict[str, Counter]:
    """Lead department -> result code -> count, over each drawn task's latest published result."""
    latest = (select(func.max(InspectionResult.id)).join(Task, Task.id == InspectionResult.task_id)
              .join(Plan, Plan.id == Task.plan_id)
              .where(Plan.year == year, InspectionResult.status == "published").group_by(InspectionResult.task_id))
    out: dict[str, Counter] = defaultdict(Counter)
    for department, codes in session.execute(
            select(Task.lead_department, InspectionResult.result_codes)
            .join(Task, Task.id == InspectionResult.task_id).where(InspectionResult.id.in_(latest))):
        out[department].update(codes or [])
    return out


def release_dict(release: AnnualRelease) -> dict:
    """The release as the API answers it (``schemas.ledger.AnnualReleaseSchema``): the same rows and
    figures as the page and the files."""
    return {
        "year": release.year, "caps": release.caps, "totals": release.totals,
        "rows": [{"department_code": r.department_code, "department_name": r.department_name, "channel": r.channel,
                  "channel_label": r.channel_label, "inspections": r.inspections, "counted": r.counted,
                  "joint": r.joint, "joint_share": r.joint_share,
                  "results": [{"code": code, "label": result_label(code), "count": n}
                              for code, n in sorted(r.results.items())]}
                 for r in release.rows],
        "files": {fmt: f"/annual/{release.year}/{fmt}" for fmt in ("csv", "xlsx")},
    }


def _table(release: AnnualRelease) -> list[list]:
    caps = release.caps or {}
    return [[release.year, r.department_code, r.department_name, r.channel_label, r.inspections, r.counted, r.joint,
             r.joint_share, caps.get("per_department", "未公布"), caps.get("total", "未公布"), r.results_text]
            for r in release.rows]


def release_files(release: AnnualRelease) -> dict[str, bytes]:
    """File name -> bytes: the release as CSV and as XLSX (the same every time for the same data)."""
    title = f"{release.year} 年度涉企行政检查数据公开（按部门和检查渠道）"
    stamp = datetime(release.year + 1, 1, 1)
    rows = _table(release)
    return {f"annual-release-{release.year}.csv": to_csv(HEADERS, rows),
            f"annual-release-{release.year}.xlsx": to_xlsx(title, HEADERS, rows, sheet=f"{release.year}年度", stamp=stamp)}
