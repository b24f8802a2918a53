"""Pull: other authorities' inspections of the targets in a plan's scope, from the platform's public
read endpoint, into the higher-level inspections the draw excludes, and the county departments'
inspections done outside the gateway that the yearly cap counts (article 15).

For every target a plan could draw (its scope, and related to one of its matters: the same
candidates the freeze reads), ``GET /api/v1/public/entities/{uscc}/inspections?year=<plan year>``
lists every authority's inspection results. Those by an authority above the county
(``authority_level`` city, province or national) become rows of ``higher_level_inspections``
(``gateway.higher_level.models``), keyed like the draw's own import (``inspection_key``: the
authority and its record id), so pulling again updates rather than duplicates, and a record also
imported from a spreadsheet with the same reference is the same row.

County-level inspections are kept too, with their source (``source`` "platform", ``reference`` the
platform's record id), unless they are the gateway's own published results (record ids
``<area>-result-<id>``: their tasks already count). They exclude nothing, but each counts toward
the target's yearly cap (``gateway.draw.population.yearly_inspections``).

The county department "of the same line" is found by name: a provincial 河南省市场监督管理局 or
国家市场监督管理总局 belongs to the line of 武陟县市场监督管理局, 河南省商务厅 to 武陟县商务局. A record
whose authority matches no department keeps ``department_code`` empty, which the draw reads as
"covers every matter"; the report lists such authorities so the office can check them.
"""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Mapping

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.core import Gateway
from gateway.directory.importing.importer import inspection_key
from gateway.directory.models import Department, Target
from gateway.draw.population import matter_code_clause, plan_matters, scope_clause
from gateway.higher_level.models import HigherLevelInspection
from gateway.planning.models import Plan
from gateway.security import audit
from gateway.security.policy import authorize
from gateway.security.principal import SYSTEM, Principal
from gateway.sync.client import PlatformClient, PlatformReadError
from gateway.sync.outbox import platform_record_id

LEVEL_RANK = {"county": 0, "city": 1, "province": 2, "national": 3}
_SUFFIXES = ("总局", "委员会", "厅", "局", "委")
# Lines renamed over the years: a county bureau may keep the old name while the province uses the new.
_LINE_ALIASES = {"环境保护": ("生态环境",), "生态环境": ("环境保护",)}


def _line(name: str) -> str:
    """The line of an authority's name without its trailing 局/厅/总局…: 市场监督管理, 商务."""
    name = re.sub(r"\s+", "", name or "")
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def department_lines(departments: list[Department], county_name: str) -> dict[str, str]:
    """Department code -> its line (the name without the county and the trailing 局)."""
    lines = {}
    for department in departments:
        name = department.name
        if county_name and name.startswith(county_name):
            name = name[len(county_name):]
        line = _line(name)
        if line:
            lines[department.code] = line
    return lines


def match_department(authority: str, lines: dict[str, str]) -> str:
    """The county department whose line ends the authority's name ("" when none, or ambiguous)."""
    line = _line(authority)
    found = [code for code, own in lines.items()
             if any(line.endswith(name) for name in (own, *_LINE_ALIASES.get(own, ())))]
    if len(found) > 1:
        longest = max(len(lines[c]) for c in found)
        found = [c for c in found if len(lines[c]) == longest]
    return found[0] if len(found) == 1 else ""


@dataclass
class PullReport:
    plan_id: int
    year: int
    targets: int = 0
    inspections_seen: int = 0
    higher_level: int = 0
    county_level: int = 0
    created: int = 0
    updated: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    unmapped_authorities: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def format(self) -> str:
        lines = [
            f"计划 {self.plan_id}（{self.year} 年）：查询检查对象 {self.targets} 个，平台检查记录 {self.inspections_seen} 条，"
            f"其中上级部门检查 {self.higher_level} 条、本县部门在本系统外的检查 {self.county_level} 条"
            f"（新增 {self.created}，更新 {self.updated}）。"
        ]
        if self.unmapped_authorities:
            lines.append("以下检查机关未能对应到本县部门，按“覆盖全部事项”排除：" + "、".join(self.unmapped_authorities))
        if self.failed:
            lines.append(f"{len(self.failed)} 个检查对象查询失败（可稍后重新拉取）：")
            lines += [f"  {f['uscc']}：{f['error']}" for f in self.failed[:20]]
        return "\n".join(lines)


def plan_scope_usccs(session, plan) -> list[str]:
    """The USCCs of every target the plan's draw would consider (scope, related to a matter)."""

    matters = plan_matters(session, plan)
    if not matters:
        return []
    # The freeze's own test: a target meets a matter's criteria or is related to it (> 0).
    related = [matter_code_clause(m.criteria) > 0 for m in matters]
    stmt = select(Target.uscc).where(scope_clause(plan.scope), or_(*related)).order_by(Target.uscc)
    return list(session.scalars(stmt))


def pull_plan(gateway: Gateway, plan_id: int, *, client_factory: Callable[[], PlatformClient] | None = None,
              principal: Principal = SYSTEM, year: int | None = None, concurrency: int | None = None) -> PullReport:
    """Fetch and store the higher-level inspections of a plan's targets; the report says what came in."""

    authorize(principal, "inspections.import")
    settings = gateway.settings
    with gateway.read() as session:
        plan = session.get(Plan, plan_id)
        if plan is None:
            raise LookupError(f"抽查计划 {plan_id} 不存在。")
        year = year or plan.year
        usccs = plan_scope_usccs(session, plan)
        lines = department_lines(list(session.scalars(select(Department))), settings.county_name)
    report = PullReport(plan_id=plan_id, year=year, targets=len(usccs))
    fetch = _fetcher(client_factory or (lambda: PlatformClient.from_settings(settings)), year)
    found: dict[str, dict[str, Any]] = {}
    unmapped: set[str] = set()
    own_records = platform_record_id(settings.area_code, "result", 0)[:-1]
    workers = max(1, concurrency or settings.sync_pull_concurrency)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for uscc, inspections, error in pool.map(fetch, usccs):
            if inspections is None:
                report.failed.append({"uscc": uscc, "error": error})
                continue
            report.inspections_seen += len(inspections)
            for item in inspections:
                values = _inspection_values(item, uscc, year, lines, own_records)
                if values is None:
                    continue
                if not values["department_code"] and values["level"] != "county":
                    unmapped.add(values["authority"])
                found[values["record_key"]] = values
    report.county_level = sum(v["level"] == "county" for v in found.values())
    report.higher_level = len(found) - report.county_level
    report.unmapped_authorities = sorted(unmapped)
    with gateway.write() as session:
        _store(session, found, report)
        audit.record(session, principal, "inspections.pull", "plan", plan_id, {
            "year": year, "targets": report.targets, "higher_level": report.higher_level,
            "county_level": report.county_level,
            "created": report.created, "updated": report.updated, "failed": len(report.failed),
        })
    return report


def _fetcher(factory: Callable[[], PlatformClient], year: int):
    """uscc -> (uscc, its inspections or None, the read error), with one client per thread."""
    local = threading.local()

    def fetch(uscc: str) -> tuple[str, list[dict[str, Any]] | None, str]:
        if not hasattr(local, "client"):
            local.client = factory()
        try:
            answer = local.client.target_inspections(uscc, year)
        except PlatformReadError as error:
            return uscc, None, error.message
        return uscc, list(answer.get("inspections") or []), ""

    return fetch


def _inspection_values(item: Mapping[str, Any], uscc: str, year: int, lines: dict[str, str],
                       own_records: str) -> dict[str, Any] | None:
    """The row of one inspection the platform reports, or None unless a department at or above the
    county completed it in ``year`` (and, at the county, outside the gateway: its record id does not
    start with ``own_records``). An unknown authority gets an empty department code."""
    level = str(item.get("authority_level"))
    if level not in LEVEL_RANK or (level == "county" and str(item.get("id") or "").startswith(own_records)):
        return None
    try:
        inspected_on = date.fromisoformat(str(item.get("completed_on")))
    except ValueError:
        return None
    if inspected_on.year != year:
        return None
    authority = str(item.get("authority") or "")[:200]
    values = {
        "uscc": str(item.get("uscc") or uscc), "authority": authority,
        "level": level, "inspected_on": inspected_on,
        "department_code": match_department(authority, lines), "matter_code": "",
        "reference": str(item.get("id") or "")[:100], "year": inspected_on.year,
    }
    values["record_key"] = inspection_key(values)
    return values


def _store(session: Session, found: dict[str, dict[str, Any]], report: PullReport) -> None:
    """Insert the new inspections and update the changed ones, counting both in ``report``."""

    existing = {}
    keys = list(found)
    for start in range(0, len(keys), 500):
        for row in session.scalars(select(HigherLevelInspection).where(
                HigherLevelInspection.record_key.in_(keys[start:start + 500]))):
            existing[row.record_key] = row
    for key, values in found.items():
        row = existing.get(key)
        if row is None:
            session.add(HigherLevelInspection(source="platform", **values))
            report.created += 1
        else:
            changed = False
            for name, value in values.items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
                    changed = True
            report.updated += int(changed)
    session.flush()
