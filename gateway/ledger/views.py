"""What the API, the pages and the exports show of the ledger: a registration with where it leaves
its target against the caps, and a target's ledger for a year."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.directory.models import Target
from gateway.errors import NotFound
from gateway.ledger.channels import channel_label
from gateway.ledger.models import InspectionCaps, RegisteredInspection
from gateway.ledger.queries import LedgerEntry, counts_by_target, current_caps, ledger_entries
from gateway.ledger.service import CapCheck
from gateway.tasks.service import department_names
from schemas.common import RowView, python_values
from schemas.ledger import RegistrationResultSchema


class RegistrationView(RowView):
    """A registration just written, with its :class:`CapCheck`."""

    def __init__(self, row: RegisteredInspection, check: CapCheck):
        self.row = row
        self.counted = check.counted
        self.total_this_year = check.total
        self.department_this_year = check.department
        self.over_caps = list(check.over)


def registration_dict(row: RegisteredInspection, check: CapCheck) -> dict[str, Any]:
    return python_values(RegistrationResultSchema(), RegistrationView(row, check))


LEDGER_HEADERS = ("序号", "统一社会信用代码", "检查对象名称", "检查渠道", "检查部门", "检查日期", "编号", "法定事由代码",
                  "来源", "计入上限", "超过上限的法定理由")
SOURCE_LABELS = {"api": "接口登记", "page": "页面登记", "import": "文件导入", "draw": "双随机抽取", "pull": "平台拉取"}


def ledger_rows(session: Session, year: int, department: str | None = None) -> list[tuple]:
    """The year's ledger as export rows (Chinese headers :data:`LEDGER_HEADERS`); target names in
    one query per 500 targets."""
    entries = ledger_entries(session, year=year, department=department)
    usccs = sorted({e.uscc for e in entries})
    names: dict[str, str] = {}
    for start in range(0, len(usccs), 500):
        names.update(session.execute(select(Target.uscc, Target.name)
                                     .where(Target.uscc.in_(usccs[start:start + 500]))).all())
    departments = department_names(session)
    return [(n, e.uscc, names.get(e.uscc, ""), channel_label(e.channel),
             departments.get(e.department_code, e.department_code) or "—",
             e.on, e.reference, e.legal_reason_code, SOURCE_LABELS.get(e.source, e.source),
             "是" if e.counts else "否", e.over_cap_reason)
            for n, e in enumerate(entries, start=1)]


@dataclass(frozen=True)
class TargetLedger:
    """A target's ledger for a year and its counts against that year's current caps."""

    uscc: str
    year: int
    entries: list[LedgerEntry]
    total: int
    by_department: dict[str, int]
    caps: InspectionCaps | None

    @property
    def at_cap(self) -> bool:
        if self.caps is None:
            return False
        return self.total >= self.caps.total or any(n >= self.caps.per_department
                                                    for department, n in self.by_department.items() if department)


def target_ledger(session: Session, uscc: str, year: int) -> TargetLedger:
    """The ledger of the target ``uscc`` in ``year`` (refuses a target not in the directory)."""
    uscc = uscc.strip().upper()
    if session.scalar(select(Target.id).where(Target.uscc == uscc)) is None:
        raise NotFound.of("检查对象", uscc)
    caps = current_caps(session, year)
    counts = counts_by_target(session, year, usccs=[uscc], caps=caps).get(uscc)
    return TargetLedger(uscc, year, ledger_entries(session, uscc=uscc, year=year),
                        counts.total if counts else 0, dict(counts.by_department) if counts else {}, caps)
