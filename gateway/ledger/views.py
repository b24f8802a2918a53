"""What the API, the pages and the exports show of the ledger: a registration with where it leaves
its target against the caps, and a target's ledger for a year."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.directory.models import Target
from gateway.errors import NotFound
from gateway.ledger.models import InspectionCaps, RegisteredInspection
from gateway.ledger.queries import LedgerEntry, counts_by_target, current_caps, ledger_entries
from gateway.ledger.service import CapCheck
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
