"""The freeze's database side: gather every candidate target of a plan and apply the article 15
rules (:mod:`gateway.draw.eligibility`) to build the strata and the exclusions.

One query reads the targets in the plan's scope that meet, or only look related to, one of the
plan's matters; per-matter flags are computed in SQL from each pinned matter version's criteria and
packed, with the key-inspection and registration flags, into one or a few integers per target.
The same query joins the targets at the county's yearly caps (:func:`gateway.ledger.queries.at_cap_rows`)
and packs which caps each reached into its shape, so that the caps exclude whole groups of targets
at once. Two small queries read this year's non-key task counts and higher-level inspections, and
one the ledger's counts of the few targets the caps excluded, for the record.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator, Sequence

from sqlalchemy import BigInteger, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from gateway.db import read_beside
from gateway.directory.models import RISK_CLASSES, Department, MatterVersion, Target
from gateway.directory.queries import contains, has_licence
from gateway.draw import timing
from gateway.draw.eligibility import (
    CAPS_REASON,
    INACTIVE_STATUSES,
    KEY_STRATUM,
    YEARLY_CAP,
    Candidate,
    Decision,
    HigherLevelRecord,
    KeyRule,
    YearCaps,
    decide,
    higher_level_matters,
)
from gateway.draw.pgsettings import local_setting
from gateway.draw.record import Exclusion, ratio_text
from gateway.draw.strata import Stratum
from gateway.higher_level.models import HigherLevelInspection
from gateway.ledger.models import InspectionCaps
from gateway.ledger.queries import TargetCounts, at_cap_rows, caps_reached, counts_by_target, current_caps
from gateway.planning.models import Plan, min_ratio_of
from gateway.plugins.contributions import TargetCriteria
from gateway.tasks.models import Task


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
    caps: dict[str, Any] | None = None
    """The record's ``inspection_caps`` section (None: no caps published for the year)."""


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
            min_ratio=min_ratio_of(content, plan.min_ratios or {}, pm.matter_code)[0],
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


def key_stratum(matter: str) -> str:
    """The key of ``matter``'s key-target stratum."""
    return f"{matter}:{KEY_STRATUM}"


def key_ratio(plan: Plan, matter: PlanMatterInfo, key_rule: KeyRule) -> Decimal:
    """The ratio of ``matter``'s key stratum: the plan's key ratio, never below an ordinary
    stratum's ratio of the matter (key targets are inspected at least as often as the others)."""
    return max(key_rule.ratio(matter.code), *(stratum_ratio(plan, matter, rc) for rc in RISK_CLASSES))


def yearly_inspections(session: Session, year: int, at_least: int = 1) -> dict[str, int]:
    """USCC -> number of its non-key tasks in plans of ``year``, plus the county departments'
    inspections done outside the gateway that year (pulled or imported); only targets that have
    ``at_least`` of them (the freeze asks for those at :data:`YEARLY_CAP`: a province's second draw
    of a year need not hold every target drawn in the first)."""
    drawn = (select(Target.uscc.label("uscc"))
             .join(Task, Task.target_id == Target.id)
             .join(Plan, Plan.id == Task.plan_id)
             .where(Plan.year == year, Task.key_inspection.is_(False)))
    outside = (select(HigherLevelInspection.uscc.label("uscc"))
               .where(HigherLevelInspection.year == year, HigherLevelInspection.level == "county"))
    both = union_all(drawn, outside).subquery()
    stmt = select(both.c.uscc, func.count()).group_by(both.c.uscc)
    if at_least > 1:
        stmt = stmt.having(func.count() >= at_least)
    return dict(session.execute(stmt).all())


def higher_level_records(session: Session, year: int) -> dict[str, list[HigherLevelRecord]]:
    out: dict[str, list[HigherLevelRecord]] = {}
    stmt = select(HigherLevelInspection.uscc, HigherLevelInspection.level, HigherLevelInspection.department_code,
                  HigherLevelInspection.matter_code).where(HigherLevelInspection.year == year,
                                                          HigherLevelInspection.level != "county")
    for uscc, level, department, matter in session.execute(stmt):
        out.setdefault(uscc, []).append(HigherLevelRecord(level, department or "", matter or ""))
    return out


COUNTS_CHUNK = 500
"""USCCs per query for the caps section's counts (under SQLite's old limit of 999 parameters, as
:data:`gateway.ledger.counts.CHUNK`)."""


def excluded_counts(session: Session, caps: InspectionCaps | None,
                    exclusions: Iterable[Exclusion]) -> dict[str, TargetCounts]:
    """The ledger's counts, under ``caps``, of the targets the caps excluded (nothing without caps)."""
    if caps is None:
        return {}
    excluded = sorted({e.uscc for e in exclusions if e.reason == CAPS_REASON})
    counts: dict[str, TargetCounts] = {}
    for start in range(0, len(excluded), COUNTS_CHUNK):
        counts.update(counts_by_target(session, caps.year, usccs=excluded[start:start + COUNTS_CHUNK], caps=caps))
    return counts


def caps_section(caps: InspectionCaps | None, counts: dict[str, TargetCounts],
                 exclusions: Iterable[Exclusion]) -> dict[str, Any] | None:
    """The draw record's ``inspection_caps`` section: the caps the freeze applied and, for every
    target they excluded, its counted inspections, so that anyone can re-check each exclusion
    (None when no caps were published)."""
    if caps is None:
        return None
    excluded = {e.uscc for e in exclusions if e.reason == CAPS_REASON}
    return {
        "year": caps.year,
        "version": caps.version,
        "per_department": caps.per_department,
        "total": caps.total,
        "exempt_channels": sorted(caps.exempt_channels or ()),
        "key_targets_exempt": caps.key_targets_exempt,
        "basis": caps.basis,
        "counts": {uscc: {"total": counts[uscc].total, "by_department": dict(sorted(counts[uscc].by_department.items()))}
                   for uscc in sorted(excluded)},
    }


MEETS, RELATED = 2, 1


def _conditions(criteria: TargetCriteria) -> list:
    """The criteria's conditions, the cheapest first: the first one is the matter's gate."""
    licences = or_(*(has_licence(name) for name in criteria.required_licences)) if criteria.required_licences else None
    keywords = (or_(*(contains(Target.business_scope, k) for k in criteria.scope_keywords))
                if criteria.scope_keywords else None)
    types = Target.type.in_(criteria.target_types) if criteria.target_types else None
    return [c for c in (licences, keywords, types) if c is not None]


def related_clause(matters: list[PlanMatterInfo]):
    """SQL true for a target that meets, or only looks related to, one of ``matters``: one whose
    :func:`matter_code_clause` is not 0 for some matter, i.e. one that passes some matter's gate."""
    gates = []
    for matter in matters:
        conditions = _conditions(matter.criteria)
        if not conditions:
            return and_(True)
        gates.append(conditions[0])
    return or_(*gates)


def matter_code_clause(criteria: TargetCriteria):
    """2 when a target meets the criteria, 1 when it is only related to the matter (holds one of its
    licences, or, for a matter that asks for no licence, has one of its keywords), else 0.

    The cheapest condition is tested first and the others only when it holds, so a target unrelated
    to the matter costs one test.
    """
    conditions = _conditions(criteria)
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


MATTERS_PER_CODE = 16
"""Matter flags packed into one integer column: 8 × 3**16 stays below 2**31, so the codes are
plain SQL integers on both databases."""


def candidate_codes(matters: list[PlanMatterInfo], key_rule: KeyRule) -> list:
    """SQL integers that describe a target in a few bits, so that the freeze reads three or four
    narrow columns per target instead of one per matter.

    The first holds 1 if the target is a key-inspection target, 2 if its registration is closed
    (:data:`INACTIVE_STATUSES`), 4 if it was taken out of the active population, plus 8 times the
    base-3 number whose digit ``i`` is :func:`matter_code_clause` of matter ``i``; past
    :data:`MATTERS_PER_CODE` matters, further columns carry the next matters' digits.
    """
    first = (key_rule_clause(key_rule)
             + case((Target.status.in_(sorted(INACTIVE_STATUSES)), 2), else_=0)
             + case((Target.active.is_(True), 0), else_=4))
    codes = []
    for start in range(0, max(len(matters), 1), MATTERS_PER_CODE):
        code = first if start == 0 else literal(0)
        weight = 8 if start == 0 else 1
        for matter in matters[start:start + MATTERS_PER_CODE]:
            code = code + matter_code_clause(matter.criteria) * weight
            weight *= 3
        codes.append(code)
    return codes


@dataclass(frozen=True)
class _Shape:
    """What the freeze does with every target of one (risk class, codes, caps reached) shape."""

    key: bool
    closed: bool
    inactive: bool
    matched: tuple[str, ...]
    marked: tuple[str, ...]
    total_reached: bool = False
    """The target reached the county's total cap."""
    departments_reached: frozenset[str] = frozenset()
    """The departments whose county cap the target reached."""


def _decode(shape: tuple, codes: list[str], departments: list[str]) -> _Shape:
    """A shape of :func:`candidate_groups` read with the plan's matters' ``codes`` and
    :func:`cap_departments`."""
    first = shape[1]
    values = []
    for position, code in enumerate(shape[1:-1]):
        rest = code >> 3 if position == 0 else code
        for _ in codes[position * MATTERS_PER_CODE:(position + 1) * MATTERS_PER_CODE]:
            rest, value = divmod(rest, 3)
            values.append(value)
    total_reached, departments_reached = caps_reached(shape[-1], departments)
    return _Shape(
        key=bool(first & 1), closed=bool(first & 2), inactive=bool(first & 4),
        matched=tuple(code for code, value in zip(codes, values) if value == MEETS),
        marked=tuple(code for code, value in zip(codes, values) if value == RELATED),
        total_reached=total_reached, departments_reached=departments_reached,
    )


SEPARATOR = ","
"""Joins the USCCs of one shape in SQL; a USCC is 18 digits and capital letters, never a comma."""


def cap_departments(matters: list[PlanMatterInfo]) -> list[str]:
    """The departments leading the plan's matters, in the order of their caps' bits."""
    return sorted({m.department for m in matters})


def candidate_groups(session: Session, plan: Plan, matters: list[PlanMatterInfo], key_rule: KeyRule,
                     caps: InspectionCaps | None = None):
    """(shape, count, USCCs joined by :data:`SEPARATOR`) for every shape, where a shape is (risk
    class, code, …, caps reached) of :func:`candidate_codes`, over the targets in the plan's scope
    that meet, or only look related to, one of the plan's matters. The last item says which of
    ``caps`` (the year's current ones; None: none published) the target reached, as
    :func:`gateway.ledger.queries.caps_reached` reads it with :func:`cap_departments`.

    The database groups the targets by shape and joins each group's USCCs into one string, so
    that half a million candidates come back as a few hundred rows and never pass through a Python
    loop one by one; the caller splits a group when it needs its USCCs (a joined string costs 19
    bytes per target, a list of Python strings 75).
    """
    codes = candidate_codes(matters, key_rule)
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    join = func.string_agg if postgresql else func.group_concat
    columns = [Target.uscc, Target.risk_class, *(c.label(f"c{i}") for i, c in enumerate(codes))]
    source = Target.__table__
    if caps is None:
        columns.append(literal(0, BigInteger).label("capped"))
    else:
        rows = at_cap_rows(plan.year, caps, cap_departments(matters)).subquery()
        reached = (select(rows.c.uscc, func.sum(rows.c.bit).cast(BigInteger).label("code"))
                   .group_by(rows.c.uscc).subquery())
        source = source.outerjoin(reached, reached.c.uscc == Target.uscc)
        columns.append(func.coalesce(reached.c.code, 0).label("capped"))
    # The filter tests the matters' gates again, but it keeps the targets related to no matter out
    # of the join, and a plain query lets PostgreSQL scan the table with parallel workers.
    inner = select(*columns).select_from(source).where(scope_clause(plan.scope), related_clause(matters))
    if not postgresql:
        inner = inner.offset(0)  # keeps SQLite from computing each target's codes again per use
    inner = inner.subquery()
    joined = join(inner.c.uscc, SEPARATOR)
    shape = [inner.c.risk_class, *(inner.c[f"c{i}"] for i in range(len(codes))), inner.c.capped]
    stmt = select(*shape, func.count(), joined).group_by(*shape)
    # All rows at once: the driver's buffer of the result is released before the strata are built.
    # Without JIT: compiling the query's expressions (in the leader and each parallel worker) made
    # it slower, 3.9-4.1 s against 3.5-3.7 s at 1M targets (load 6).
    with local_setting(connection, "jit", "off"):
        rows = connection.execute(stmt).all()
    return [(tuple(key), count, text) for *key, count, text in rows]


def _split(key: tuple, count: int, text: str) -> list[str]:
    usccs = text.split(SEPARATOR)
    if len(usccs) != count:
        raise RuntimeError(f"a USCC in shape {key} contains {SEPARATOR!r}")
    return usccs


class _Rules:
    """The article 15 rules as the freeze applies them (:func:`eligibility.decide`): once per shape,
    and one by one to the few candidates whose own inputs may change the answer (inspected by a
    higher level, or at the yearly cap); the inputs read from the database, and the exclusions found."""

    def __init__(self, session: Session, plan: Plan, matters: list[PlanMatterInfo]) -> None:
        # Only the targets at the yearly cap: decide() asks no more of the count.
        self.counts = yearly_inspections(session, plan.year, YEARLY_CAP)
        self.published = current_caps(session, plan.year)
        published = self.published
        self.caps = (None if published is None
                     else YearCaps(published.per_department, published.total, published.key_targets_exempt))
        self.higher = higher_level_records(session, plan.year)
        self.matter_departments = {m.code: m.department for m in matters}
        self.levels = dict(session.execute(select(Department.code, Department.level)).all())
        self.exclusions: list[Exclusion] = []
        # Key targets are not held to the yearly cap: for them only higher-level inspections differ.
        self.special = {False: set(self.higher) | set(self.counts), True: set(self.higher)}

    def decide(self, uscc: str, risk_class: str, decoded: "_Shape") -> Decision:
        """The decision on ``uscc`` (its own inputs looked up; "" for a shape's other targets)."""
        barred = (higher_level_matters(self.higher[uscc], self.matter_departments, self.levels)
                  if uscc in self.higher else set())
        capped_total, capped_matters = (
            YearCaps.barred_by(decoded.total_reached, decoded.departments_reached, self.matter_departments)
            if self.caps is not None and self.caps.applies(decoded.key)
            else (False, frozenset()))
        return decide(Candidate(
            uscc=uscc, risk_class=risk_class, status="closed" if decoded.closed else "operating",
            active=not decoded.inactive, key=decoded.key, matched=decoded.matched, marked=decoded.marked,
            higher_level=frozenset(barred), inspections=self.counts.get(uscc, 0),
            capped_total=capped_total, capped=capped_matters,
        ))

    def eligible(self, uscc: str, risk_class: str, decoded: "_Shape") -> tuple[str, ...]:
        """The matters ``uscc`` is eligible for; its exclusions are added to :attr:`exclusions`."""
        decision = self.decide(uscc, risk_class, decoded)
        self.exclusions.extend(decision.exclusions)
        return decision.eligible


@dataclass
class PopulationStream:
    """A plan's population as the freeze builds it: the exclusions and the caps section at once,
    the strata one at a time (:meth:`strata`), so that no more than one stratum's list is held
    besides the candidates' joined USCCs."""

    plan: Plan
    matters: list[PlanMatterInfo]
    key_rule: KeyRule
    groups: list[tuple[tuple, int, str | None]]
    sources: dict[tuple[str, str], list[tuple[int, frozenset[str]]]]
    extra: dict[tuple[str, str], list[str]]
    exclusions: list[Exclusion]
    stats: dict[str, Any]
    caps_read: Callable[[], dict[str, Any] | None]

    @property
    def caps(self) -> dict[str, Any] | None:
        """The record's caps section (None without caps), waited for: it is read beside the strata."""
        return self.caps_read()

    def strata(self) -> Iterator[tuple[Stratum, Sequence[str]]]:
        """(stratum, its key-inspection targets) in record order, each built when asked for (a key
        stratum's key targets are its population itself); a group's joined USCCs are dropped once
        its last stratum is built."""
        uses = Counter(index for sources in self.sources.values() for index, _ in sources)
        self.stats.update(eligible=0, key_targets=0)
        for matter in self.matters:
            for stratum in (*RISK_CLASSES, KEY_STRATUM):
                population = self.extra.pop((matter.code, stratum), [])
                for index, skip in self.sources.pop((matter.code, stratum), ()):
                    key, count, text = self.groups[index]
                    usccs = _split(key, count, text)
                    population.extend([u for u in usccs if u not in skip] if skip else usccs)
                    del usccs
                    uses[index] -= 1
                    if not uses[index]:
                        self.groups[index] = (key, count, None)
                population.sort()
                self.stats["eligible"] += len(population)
                if stratum == KEY_STRATUM:
                    self.stats["key_targets"] += len(population)
                    built = Stratum(key_stratum(matter.code), matter.code, key_ratio(self.plan, matter, self.key_rule),
                                    population)
                else:
                    built = Stratum(f"{matter.code}:{stratum}", matter.code, stratum_ratio(self.plan, matter, stratum),
                                    population, stratum)
                del population  # the stratum holds its own sorted tuple
                yield built, built.population if stratum == KEY_STRATUM else ()
                del built


def stream_population(session: Session, plan: Plan, matters: list[PlanMatterInfo]) -> PopulationStream:
    """Every stratum's eligible population and every exclusion, for ``plan`` as of now. One query
    reads, per target, whether it meets each matter's criteria or is only related to the matter
    (:func:`matter_code_clause`; related targets are excluded as ``criteria_not_met``), packed into
    a few integers (:func:`candidate_codes`), with the county's caps it reached. The article 15
    rules are :func:`eligibility.decide`; they run once per shape (risk class, codes and caps
    reached: a few dozen to a few hundred distinct values), and one by one only where a rule may
    apply to one target and not its shape's others (inspected by a higher level, or at the yearly
    cap). The strata are built afterwards, one at a time (:meth:`PopulationStream.strata`)."""
    key_rule = KeyRule.from_dict(plan.key_rule)
    rules = _Rules(session, plan, matters)
    codes, departments = [m.code for m in matters], cap_departments(matters)
    groups = candidate_groups(session, plan, matters, key_rule, rules.published)
    sources: dict[tuple[str, str], list[tuple[int, frozenset[str]]]] = {}
    extra: dict[tuple[str, str], list[str]] = {}
    for index, (shape, count, text) in enumerate(groups):
        risk_class, decoded = shape[0], _decode(shape, codes, departments)
        # Key targets are inspected apart (article 15/28): their own stratum per matter.
        stratum = KEY_STRATUM if decoded.key else risk_class
        # The shape's decision holds for each of its targets but those with inputs of their own.
        shared = rules.decide("", risk_class, decoded)
        one_by_one = rules.special[decoded.key]
        usccs = _split(shape, count, text) if shared.exclusions or one_by_one else []
        irregular = [uscc for uscc in usccs if uscc in one_by_one] if one_by_one else []
        skip = frozenset(irregular)
        for code in shared.eligible:
            sources.setdefault((code, stratum), []).append((index, skip))
        if not shared.eligible:
            groups[index] = (shape, count, None)
        if shared.exclusions:
            rules.exclusions += [Exclusion(uscc, e.reason, e.matter) for uscc in usccs if uscc not in skip
                                 for e in shared.exclusions]
        for uscc in irregular:
            for code in rules.eligible(uscc, risk_class, decoded):
                extra.setdefault((code, stratum), []).append(uscc)
        del usccs, irregular
    timing.lap("freeze_population")  # the candidates, with the caps each reached, and the rules
    exclusions = rules.exclusions
    exclusions.sort(key=lambda e: (e.uscc, e.matter or "", e.reason))
    stats = {"candidates": sum(count for _, count, _ in groups),
             "exclusions": dict(Counter(e.reason for e in exclusions))}
    # The caps section: the counts of the targets the caps excluded, read while the strata are built.
    published, capped = rules.published, [e for e in exclusions if e.reason == CAPS_REASON]
    caps = read_beside(session, lambda apart: caps_section(published, excluded_counts(apart, published, capped), capped))
    timing.lap("ledger")
    del rules
    return PopulationStream(plan, matters, key_rule, groups, sources, extra, exclusions, stats, caps)


def compute_population(session: Session, plan: Plan, matters: list[PlanMatterInfo]) -> Population:
    """:func:`stream_population` with every stratum built at once (for callers that look at a few
    targets of a small directory; the freeze streams)."""
    stream = stream_population(session, plan, matters)
    strata, key_targets = [], {}
    for stratum, key_targets_of in stream.strata():
        strata.append(stratum)
        key_targets[stratum.key] = list(key_targets_of)
    return Population(strata, key_targets, stream.exclusions, stream.stats, stream.caps)


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
