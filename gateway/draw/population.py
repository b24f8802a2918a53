"""The freeze's database side: gather every candidate target of a plan and apply the article 15
rules (:mod:`gateway.draw.eligibility`) to build the strata and the exclusions.

One query reads the targets in the plan's scope that meet, or only look related to, one of the
plan's matters; per-matter flags are computed in SQL from each pinned matter version's criteria.
Two small queries read this year's non-key task counts and higher-level inspections.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import Session

from gateway.directory.models import RISK_CLASSES, Department, MatterVersion, Target
from gateway.directory.queries import contains, criteria_clause, has_licence
from gateway.draw.eligibility import Candidate, HigherLevelRecord, KeyRule, decide, higher_level_matters
from gateway.draw.record import Exclusion, ratio_text
from gateway.draw.strata import Stratum
from gateway.higher_level.models import HigherLevelInspection
from gateway.planning.models import Plan
from gateway.plugins.contributions import TargetCriteria
from gateway.tasks.models import Task

FETCH_ROWS = 20_000


@dataclass(frozen=True)
class PlanMatterInfo:
    """A plan's matter as the draw uses it (from the pinned matter version)."""

    code: str
    department: str
    cooperating: tuple[str, ...]
    min_ratio: Decimal
    criteria: TargetCriteria
    name: str = ""
    version: str = ""


@dataclass
class Population:
    strata: list[Stratum]
    key_targets: dict[str, list[str]]
    exclusions: list[Exclusion]
    stats: dict[str, Any] = field(default_factory=dict)


def plan_matters(session: Session, plan: Plan) -> list[PlanMatterInfo]:
    versions = {v.id: v for v in session.scalars(
        select(MatterVersion).where(MatterVersion.id.in_([m.matter_version_id for m in plan.matters]))
    )}
    out = []
    for pm in plan.matters:
        content = versions[pm.matter_version_id].content
        criteria = content.get("criteria") or {}
        out.append(PlanMatterInfo(
            code=pm.matter_code,
            department=pm.department_code,
            cooperating=tuple(content.get("cooperating_departments", [])),
            min_ratio=Decimal(str(content.get("min_ratio", "0"))),
            criteria=TargetCriteria(
                target_types=tuple(criteria.get("target_types", ())),
                required_licences=tuple(criteria.get("required_licences", ())),
                scope_keywords=tuple(criteria.get("scope_keywords", ())),
            ),
            name=versions[pm.matter_version_id].name,
            version=versions[pm.matter_version_id].version,
        ))
    return out


def marker_clause(criteria: TargetCriteria):
    """Targets that look related to a matter: one of its licences or one of its scope keywords."""
    parts = [has_licence(l) for l in criteria.required_licences]
    parts += [contains(Target.business_scope, k) for k in criteria.scope_keywords]
    return or_(*parts) if parts else false()


def scope_clause(scope: dict[str, Any] | None):
    scope = scope or {}
    parts = []
    if scope.get("townships"):
        parts.append(Target.township.in_(scope["townships"]))
    if scope.get("target_types"):
        parts.append(Target.type.in_(scope["target_types"]))
    if scope.get("levels"):
        parts.append(Target.level.in_(scope["levels"]))
    return and_(*parts) if parts else and_(True)


def stratum_ratio(plan: Plan, matter: PlanMatterInfo, risk_class: str) -> Decimal:
    return max(Decimal(plan.ratios[risk_class]), matter.min_ratio)


def yearly_inspections(session: Session, year: int) -> dict[int, int]:
    """Target id -> number of its non-key tasks in plans of ``year`` (only targets that have some)."""
    stmt = (
        select(Task.target_id, func.count())
        .join(Plan, Plan.id == Task.plan_id)
        .where(Plan.year == year, Task.key_inspection.is_(False))
        .group_by(Task.target_id)
    )
    return dict(session.execute(stmt).all())


def higher_level_records(session: Session, year: int) -> dict[str, list[HigherLevelRecord]]:
    out: dict[str, list[HigherLevelRecord]] = {}
    stmt = select(HigherLevelInspection.uscc, HigherLevelInspection.level, HigherLevelInspection.department_code,
                  HigherLevelInspection.matter_code).where(HigherLevelInspection.year == year)
    for uscc, level, department, matter in session.execute(stmt):
        out.setdefault(uscc, []).append(HigherLevelRecord(level, department or "", matter or ""))
    return out


def compute_population(session: Session, plan: Plan, matters: list[PlanMatterInfo]) -> Population:
    """Every stratum's eligible population and every exclusion, for ``plan`` as of now."""
    key_rule = KeyRule.from_dict(plan.key_rule)
    counts = yearly_inspections(session, plan.year)
    higher = higher_level_records(session, plan.year)
    matter_departments = {m.code: m.department for m in matters}
    levels = dict(session.execute(select(Department.code, Department.level)).all())

    columns = [Target.id, Target.uscc, Target.risk_class, Target.status, Target.active, Target.abnormal_list,
               Target.serious_violation_list, Target.complaint_count]
    related = []
    for index, matter in enumerate(matters):
        meets = criteria_clause(matter.criteria)
        marked = marker_clause(matter.criteria)
        columns.append(case((meets, 1), else_=0).label(f"m{index}"))
        columns.append(case((marked, 1), else_=0).label(f"k{index}"))
        related.append(or_(meets, marked))
    stmt = select(*columns).where(scope_clause(plan.scope), or_(*related))

    members: dict[tuple[str, str], list[str]] = {(m.code, rc): [] for m in matters for rc in RISK_CLASSES}
    keys: dict[tuple[str, str], list[str]] = {k: [] for k in members}
    exclusions: list[Exclusion] = []
    candidates = 0
    codes = [m.code for m in matters]
    result = session.execute(stmt.execution_options(yield_per=FETCH_ROWS))
    for row in result:
        candidates += 1
        flags = row[8:]
        matched = tuple(code for i, code in enumerate(codes) if flags[2 * i])
        marked = tuple(code for i, code in enumerate(codes) if flags[2 * i + 1] and not flags[2 * i])
        uscc = row.uscc
        key = key_rule.is_key(row.risk_class, bool(row.abnormal_list), bool(row.serious_violation_list),
                              row.complaint_count or 0)
        barred = higher_level_matters(higher[uscc], matter_departments, levels) if uscc in higher else set()
        decision = decide(Candidate(
            uscc=uscc, risk_class=row.risk_class, status=row.status, active=bool(row.active), key=key,
            matched=matched, marked=marked, higher_level=frozenset(barred), inspections=counts.get(row.id, 0),
        ))
        exclusions.extend(decision.exclusions)
        for code in decision.eligible:
            members[(code, row.risk_class)].append(uscc)
            if key:
                keys[(code, row.risk_class)].append(uscc)
    result.close()

    strata = []
    key_targets = {}
    for matter in matters:
        for risk_class in RISK_CLASSES:
            stratum_key = f"{matter.code}:{risk_class}"
            strata.append(Stratum(stratum_key, matter.code, stratum_ratio(plan, matter, risk_class),
                                  tuple(members[(matter.code, risk_class)]), risk_class))
            key_targets[stratum_key] = sorted(keys[(matter.code, risk_class)])
    exclusions.sort(key=lambda e: (e.uscc, e.matter or "", e.reason))
    stats = {
        "candidates": candidates,
        "eligible": sum(len(s.population) for s in strata),
        "key_targets": sum(len(v) for v in key_targets.values()),
        "exclusions": dict(Counter(e.reason for e in exclusions)),
    }
    return Population(strata, key_targets, exclusions, stats)


def strata_json(population: Population) -> list[dict[str, Any]]:
    return [
        {
            "key": s.key,
            "matter": s.matter,
            "risk_class": s.risk_class,
            "ratio": ratio_text(s.ratio),
            "population": list(s.population),
            "key_targets": population.key_targets[s.key],
        }
        for s in population.strata
    ]


def strata_from_json(entries: Iterable[dict[str, Any]]) -> list[Stratum]:
    return [Stratum(e["key"], e["matter"], Decimal(e["ratio"]), tuple(e["population"]), e["risk_class"])
            for e in entries]
