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

from sqlalchemy import and_, case, false, func, literal, or_, select
from sqlalchemy.orm import Session

from gateway.directory.models import RISK_CLASSES, Department, MatterVersion, Target
from gateway.directory.queries import contains, has_licence
from gateway.draw.eligibility import (
    INACTIVE_STATUSES,
    YEARLY_CAP,
    Candidate,
    HigherLevelRecord,
    KeyRule,
    decide,
    higher_level_matters,
)
from gateway.draw.record import Exclusion, ratio_text
from gateway.draw.strata import Stratum
from gateway.higher_level.models import HigherLevelInspection
from gateway.planning.models import Plan
from gateway.plugins.contributions import TargetCriteria
from gateway.tasks.models import Task

FETCH_ROWS = 20_000
INACTIVE_TARGET_STATUSES_SET = INACTIVE_STATUSES


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


MEETS, RELATED = 2, 1


def matter_code_clause(criteria: TargetCriteria):
    """2 when a target meets the criteria, 1 when it is only related to the matter (holds one of its
    licences, or, for a matter that asks for no licence, has one of its keywords), else 0.

    The cheapest condition is tested first and the others only when it holds, so a target unrelated
    to the matter costs one test.
    """
    licences = or_(*(has_licence(l) for l in criteria.required_licences)) if criteria.required_licences else None
    keywords = (or_(*(contains(Target.business_scope, k) for k in criteria.scope_keywords))
                if criteria.scope_keywords else None)
    types = Target.type.in_(criteria.target_types) if criteria.target_types else None
    conditions = [c for c in (licences, keywords, types) if c is not None]
    if not conditions:
        return literal(MEETS)
    gate, rest = conditions[0], conditions[1:]
    if not rest:
        return case((gate, MEETS), else_=0)
    return case((gate, case((and_(*rest), MEETS), else_=RELATED)), else_=0)


def key_rule_clause(rule: KeyRule):
    """SQL for :meth:`KeyRule.is_key` (the two must agree; a test checks that they do)."""
    parts = []
    if rule.risk_classes:
        parts.append(Target.risk_class.in_(rule.risk_classes))
    if rule.abnormal_list:
        parts.append(Target.abnormal_list.is_(True))
    if rule.serious_violation_list:
        parts.append(Target.serious_violation_list.is_(True))
    if rule.min_complaints is not None:
        parts.append(Target.complaint_count >= rule.min_complaints)
    return case((or_(*parts), 1), else_=0) if parts else literal(0)


def compute_population(session: Session, plan: Plan, matters: list[PlanMatterInfo]) -> Population:
    """Every stratum's eligible population and every exclusion, for ``plan`` as of now.

    The query reads, once per target, whether it meets each matter's criteria or is only related to
    the matter (:func:`matter_code_clause`; related targets are excluded as ``criteria_not_met``),
    and keeps the targets that are one or the other for some matter. The article 15 rules
    are :func:`gateway.draw.eligibility.decide`; the loop takes a shortcut only for the common case
    where no rule applies (operating, active, related to nothing it does not meet, no higher-level
    inspection, under the yearly cap or a key target), where ``decide`` would change nothing.
    """
    key_rule = KeyRule.from_dict(plan.key_rule)
    counts = yearly_inspections(session, plan.year)
    higher = higher_level_records(session, plan.year)
    matter_departments = {m.code: m.department for m in matters}
    levels = dict(session.execute(select(Department.code, Department.level)).all())

    columns = [Target.id, Target.uscc, Target.risk_class, Target.status, Target.active,
               key_rule_clause(key_rule).label("key")]
    for index, matter in enumerate(matters):
        columns.append(matter_code_clause(matter.criteria).label(f"m{index}"))
    # OFFSET 0 keeps the database from folding the filter into the inner query, so each target's
    # flags are computed once (the outer filter reads them).
    inner = select(*columns).where(scope_clause(plan.scope)).offset(0).subquery()
    flags = [inner.c[f"m{index}"] for index in range(len(matters))]
    stmt = select(inner).where(or_(*(flag > 0 for flag in flags))) if flags else select(inner).where(false())

    codes = [m.code for m in matters]
    members: dict[tuple[str, str], list[str]] = {(m.code, rc): [] for m in matters for rc in RISK_CLASSES}
    keys: dict[tuple[str, str], list[str]] = {k: [] for k in members}
    exclusions: list[Exclusion] = []
    candidates = 0
    seen_flags: dict[tuple, tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def classify(values) -> tuple[tuple[str, ...], tuple[str, ...]]:
        matched = tuple(code for code, value in zip(codes, values) if value == MEETS)
        marked = tuple(code for code, value in zip(codes, values) if value == RELATED)
        return matched, marked

    inactive = INACTIVE_TARGET_STATUSES_SET
    result = session.connection().execute(stmt.execution_options(yield_per=FETCH_ROWS))
    for row in result:
        candidates += 1
        target_id, uscc, risk_class, status, active, key = row[:6]
        values = row[6:]
        found = seen_flags.get(values)
        if found is None:
            found = seen_flags[values] = classify(values)
        matched, marked = found
        if (status not in inactive and active and not marked and uscc not in higher
                and (key or counts.get(target_id, 0) < YEARLY_CAP)):
            eligible = matched
        else:
            barred = higher_level_matters(higher[uscc], matter_departments, levels) if uscc in higher else set()
            decision = decide(Candidate(
                uscc=uscc, risk_class=risk_class, status=status, active=bool(active), key=bool(key),
                matched=matched, marked=marked, higher_level=frozenset(barred),
                inspections=counts.get(target_id, 0),
            ))
            exclusions.extend(decision.exclusions)
            eligible = decision.eligible
        for code in eligible:
            members[(code, risk_class)].append(uscc)
            if key:
                keys[(code, risk_class)].append(uscc)
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
