"""Registering inspections outside the draw and publishing the yearly caps (issue 16).

A registration names the target, the department, the channel (:data:`REGISTERED_CHANNELS`), the
legal reason code and basis, the date and a reference. One that takes the target over a cap (per
department or in total, counted over every channel that is not exempt) needs ``over_cap_reason``,
the legal reason for going over; without it the registration is refused before anything is
written. Over-cap registrations are listed on the county office's dashboard.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.db import utcnow
from gateway.directory.models import Department, Target
from gateway.errors import Conflict, DomainError, Invalid, NotFound
from gateway.ledger.channels import CHANNELS, DEFAULT_EXEMPT, REGISTERED_CHANNELS, SOURCES
from gateway.ledger.models import InspectionCaps, RegisteredInspection
from gateway.ledger.queries import TargetCounts, counts_by_target, current_caps, exempt_channels
from gateway.security import audit
from gateway.security.policy import authorize
from gateway.security.principal import Principal

OVER_CAP_FIELD = "over_cap_reason"
REGISTRATION_FIELDS = ("uscc", "department_code", "channel", "legal_reason_code", "legal_basis", "inspected_on",
                       "reference", "over_cap_reason")


@dataclass(frozen=True)
class CapCheck:
    """Where a registration leaves its target against the year's caps (after counting it)."""

    counted: bool
    total: int
    department: int
    over: tuple[str, ...]
    """Which caps it goes over: ``per_department``, ``total`` (empty: within the caps)."""

    def message(self, caps: InspectionCaps) -> str:
        parts = []
        if "per_department" in self.over:
            parts.append(f"本部门本年度第 {self.department} 次（上限 {caps.per_department} 次）")
        if "total" in self.over:
            parts.append(f"各部门合计第 {self.total} 次（上限 {caps.total} 次）")
        return "本次检查超过年度检查次数上限：" + "，".join(parts) + "。超过上限须填写法定理由（over_cap_reason）。"


def cap_check(caps: InspectionCaps | None, counts: TargetCounts | None, department: str, channel: str) -> CapCheck:
    """Count one more inspection of ``channel`` by ``department`` on top of ``counts`` and compare."""
    counts = counts or TargetCounts()
    counted = channel not in exempt_channels(caps)
    total = counts.total + counted
    by_department = counts.by_department.get(department, 0) + counted
    over = []
    if caps is not None and counted:
        if by_department > caps.per_department:
            over.append("per_department")
        if total > caps.total:
            over.append("total")
    return CapCheck(counted, total, by_department, tuple(over))


def field_errors(values: Mapping[str, Any], *, today: date, departments: Iterable[str]) -> dict[str, str]:
    """The Chinese message of each field of a registration that breaks a rule of its own (empty: fine)."""
    errors = {}
    if values.get("channel") not in REGISTERED_CHANNELS:
        options = "、".join(f"{code}（{CHANNELS[code]}）" for code in REGISTERED_CHANNELS)
        errors["channel"] = f"检查渠道“{values.get('channel')}”无效，可选：{options}。"
    if not str(values.get("legal_reason_code") or "").strip():
        errors["legal_reason_code"] = "请填写法定事由代码。"
    if values.get("department_code") not in set(departments):
        errors["department_code"] = f"部门“{values.get('department_code')}”不存在或其插件未安装。"
    inspected_on = values.get("inspected_on")
    if not isinstance(inspected_on, date):
        errors["inspected_on"] = "请填写检查日期（YYYY-MM-DD）。"
    elif inspected_on > today:
        errors["inspected_on"] = "检查日期不能晚于今天：只登记已实施的检查。"
    return errors


def cleaned(values: Mapping[str, Any]) -> dict[str, Any]:
    data = {key: values.get(key) for key in REGISTRATION_FIELDS}
    for key in ("uscc", "department_code", "channel", "legal_reason_code", "legal_basis", "reference",
                "over_cap_reason"):
        data[key] = str(data[key] or "").strip()
    data["uscc"] = data["uscc"].upper()
    return data


class RegistrationChecks:
    """Checks registrations against the database as it stands, read once for a whole batch (one
    query per kind, never one per row), and counts each accepted registration so that a later one
    of the same batch sees it."""

    def __init__(self, session: Session, rows: list[dict[str, Any]], today: date):
        usccs = sorted({row["uscc"] for row in rows})
        self.today = today
        self.departments = set(session.scalars(select(Department.code)))
        self.targets: set[str] = set()
        for start in range(0, len(usccs), 500):
            self.targets.update(session.scalars(select(Target.uscc).where(Target.uscc.in_(usccs[start:start + 500]))))
        references = sorted({row["reference"] for row in rows if row["reference"]})
        self.references: set[tuple[str, str]] = set()
        for start in range(0, len(references), 500):
            self.references.update(tuple(row) for row in session.execute(select(
                RegisteredInspection.department_code, RegisteredInspection.reference,
            ).where(RegisteredInspection.reference.in_(references[start:start + 500]))).all())
        years = {row["inspected_on"].year for row in rows if isinstance(row.get("inspected_on"), date)}
        self.caps = {year: current_caps(session, year) for year in years}
        self.counts = {year: counts_by_target(session, year, usccs=usccs if len(usccs) <= 500 else None,
                                              caps=self.caps[year]) for year in years}

    def error(self, data: dict[str, Any]) -> tuple[CapCheck | None, DomainError | None]:
        """Where ``data`` leaves its target against the caps, or the error that refuses it."""
        errors = field_errors(data, today=self.today, departments=self.departments)
        if errors:
            return None, Invalid("validation_error", "提交的数据未通过校验。", errors)
        if data["uscc"] not in self.targets:
            return None, Invalid("unknown_target", "检查对象不存在。",
                                 {"uscc": f"统一社会信用代码 {data['uscc']} 不在检查对象名录中。"})
        if data["reference"] and (data["department_code"], data["reference"]) in self.references:
            return None, Conflict("duplicate_reference", f"本部门已登记编号为 {data['reference']} 的检查。",
                                  {"reference": "同一部门的检查编号不能重复。"})
        year = data["inspected_on"].year
        caps = self.caps[year]
        check = cap_check(caps, self.counts[year].get(data["uscc"]), data["department_code"], data["channel"])
        if check.over and not data["over_cap_reason"]:
            return check, Invalid("over_cap_reason_required", check.message(caps), {OVER_CAP_FIELD: check.message(caps)})
        return check, None

    def accept(self, data: dict[str, Any], check: CapCheck) -> None:
        """Count an accepted registration for the rows after it."""
        if data["reference"]:
            self.references.add((data["department_code"], data["reference"]))
        if check.counted:
            counts = self.counts[data["inspected_on"].year]
            known = counts.get(data["uscc"]) or TargetCounts()
            by_department = {**known.by_department,
                             data["department_code"]: known.by_department.get(data["department_code"], 0) + 1}
            counts[data["uscc"]] = TargetCounts(known.total + 1, by_department)


def register(session: Session, principal: Principal, values: Mapping[str, Any], *, source: str = "api",
             today: date | None = None) -> tuple[RegisteredInspection, CapCheck]:
    """Register one inspection outside the draw; refuses (nothing written) a bad field, an unknown
    target, a reference the department already used, or an over-cap inspection without a reason."""
    data = cleaned(values)
    authorize(principal, "ledger.register", departments=[data["department_code"]])
    check, error = RegistrationChecks(session, [data], today or date.today()).error(data)
    if error is not None:
        raise error
    return insert(session, principal, [(data, check)], source)[0], check


def insert(session: Session, principal: Principal, accepted: list[tuple[dict[str, Any], CapCheck]],
           source: str) -> list[RegisteredInspection]:
    """Write checked registrations, with one audit entry (an over-cap reason is kept only when the
    registration is over a cap)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    now = utcnow()
    rows = [RegisteredInspection(**{**data, "over_cap_reason": data["over_cap_reason"] if check.over else ""},
                                 year=data["inspected_on"].year, source=source, created_by=principal.label,
                                 created_at=now)
            for data, check in accepted]
    session.add_all(rows)
    session.flush()
    audit.record(session, principal, "ledger.register", "registered_inspection",
                 rows[0].id if len(rows) == 1 else f"{rows[0].id}-{rows[-1].id}", {
                     "count": len(rows), "source": source, "ids": [row.id for row in rows][:1000],
                     "over_cap": [row.id for row, (_, check) in zip(rows, accepted) if check.over],
                 })
    return rows


def publish_caps(session: Session, principal: Principal, *, year: int, per_department: int, total: int,
                 exempt_channels: Iterable[str] | None = None, key_targets_exempt: bool = True,
                 basis: str = "") -> InspectionCaps:
    """Publish a new version of ``year``'s caps (the current caps from now on)."""
    authorize(principal, "caps.publish")
    exempt = sorted(set(DEFAULT_EXEMPT if exempt_channels is None else exempt_channels))
    errors = {}
    unknown = [c for c in exempt if c not in CHANNELS]
    if unknown:
        errors["exempt_channels"] = f"未知的检查渠道：{'、'.join(unknown)}。"
    if per_department < 1:
        errors["per_department"] = "每部门上限至少为 1 次。"
    if total < per_department:
        errors["total"] = "合计上限不能小于每部门上限。"
    if errors:
        raise Invalid("validation_error", "提交的数据未通过校验。", errors)
    latest = session.scalar(select(InspectionCaps.version).where(InspectionCaps.year == year)
                            .order_by(InspectionCaps.version.desc()).limit(1))
    caps = InspectionCaps(year=year, version=(latest or 0) + 1, per_department=per_department, total=total,
                          exempt_channels=exempt, key_targets_exempt=key_targets_exempt, basis=basis.strip(),
                          published_at=utcnow(), published_by=principal.label)
    session.add(caps)
    session.flush()
    audit.record(session, principal, "caps.publish", "inspection_caps", caps.id, {
        "year": year, "version": caps.version, "per_department": per_department, "total": total,
        "exempt_channels": exempt, "key_targets_exempt": key_targets_exempt,
    })
    return caps


def caps_versions(session: Session, year: int | None = None) -> list[InspectionCaps]:
    """Every published version, newest year and version first."""
    stmt = select(InspectionCaps).where(InspectionCaps.published_at.is_not(None))
    if year is not None:
        stmt = stmt.where(InspectionCaps.year == year)
    return list(session.scalars(stmt.order_by(InspectionCaps.year.desc(), InspectionCaps.version.desc())))


def over_cap_registrations(session: Session, year: int, departments: list[str] | None = None
                           ) -> list[RegisteredInspection]:
    """The year's registrations that went over a cap with a stated reason (the dashboard's flags)."""
    stmt = select(RegisteredInspection).where(RegisteredInspection.year == year,
                                              RegisteredInspection.over_cap_reason != "")
    if departments is not None:
        stmt = stmt.where(RegisteredInspection.department_code.in_(departments))
    return list(session.scalars(stmt.order_by(RegisteredInspection.inspected_on.desc(), RegisteredInspection.id)))


def get_registration(session: Session, registration_id: int) -> RegisteredInspection:
    row = session.get(RegisteredInspection, registration_id)
    if row is None:
        raise NotFound.of("登记的检查", registration_id)
    return row

