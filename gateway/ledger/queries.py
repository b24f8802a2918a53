"""Reading the ledger: every inspection of a target in one UNION query, the yearly counts in one
grouped query (never one query per target), and the current caps of a year.

The ledger has three sources, read together:

- drawn tasks (``tasks`` of plans of the year; a task exists only once its draw has run, so tasks of
  cancelled or superseded draws never exist), channel ``drawn``, department the task's lead;
- higher-level inspections (``higher_level_inspections``, imported or pulled), channel ``higher_level``;
- registered inspections (``registered_inspections``), their own channel.

Whether an entry counts toward the caps depends on its channel alone: it counts unless the year's
caps (or, before any are published, :data:`gateway.ledger.channels.DEFAULT_EXEMPT`) exempt it.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import BigInteger, Integer, Select, String, case, func, literal, null, select, union, union_all
from sqlalchemy.orm import Session, aliased

from gateway.directory.models import Target
from gateway.higher_level.models import HigherLevelInspection
from gateway.ledger.channels import DEFAULT_EXEMPT
from gateway.ledger.models import (
    InspectionCaps,
    LedgerCountAddition,
    LedgerDepartmentCount,
    LedgerTargetCount,
    RegisteredInspection,
)
from gateway.planning.models import Plan
from gateway.tasks.models import Task, TaskJoin


@dataclass(frozen=True)
class LedgerEntry:
    """One inspection of a target, whatever its channel. ``counts``: it counts toward the caps (its
    channel is not exempt). ``task_id`` is the drawn task (or the joint task a registered visit was
    joined into); ``registered_id`` the registered inspection's id."""

    channel: str
    uscc: str
    department_code: str
    on: date
    year: int
    reference: str
    legal_reason_code: str
    source: str
    counts: bool
    task_id: int | None = None
    registered_id: int | None = None
    over_cap_reason: str = ""
    in_total: bool = True  # False: another department's part of a joint visit, in the total once already


@dataclass(frozen=True)
class TargetCounts:
    """A target's inspections this year that count toward the caps: in all, and per department."""

    total: int = 0
    by_department: dict[str, int] = field(default_factory=dict)


def current_caps_stmt(year: int) -> Select:
    """SELECT of the caps in force for ``year``: its latest published version."""
    return (select(InspectionCaps)
            .where(InspectionCaps.year == year, InspectionCaps.published_at.is_not(None))
            .order_by(InspectionCaps.version.desc()).limit(1))


def current_caps(session: Session, year: int) -> InspectionCaps | None:
    """The caps in force for ``year``: its latest published version (None: none published)."""
    return session.scalar(current_caps_stmt(year))


def exempt_channels(caps: InspectionCaps | None) -> frozenset[str]:
    """The channels that do not count under ``caps`` (the defaults when none are published)."""
    return DEFAULT_EXEMPT if caps is None else frozenset(caps.exempt_channels or ())


def ledger_sources(*, uscc: str | None, year: int | None, department: str | None,
                   usccs: Collection[str] | Select | None, detail: bool, exempt: Collection[str] = (),
                   joint_only: bool = False):
    """The four SELECTs of the ledger, filtered alike (columns named the same in each);
    ``usccs`` a collection or a SELECT of USCCs.

    Besides the three sources, a department that joined a task (:class:`TaskJoin`) without naming a
    registered inspection of its own took part in that visit: one row of channel ``drawn`` for it
    (per task and department). ``in_total`` is 1 where the row is a visit of the target's total and
    0 where it is another department's part of a joint visit counted already (综合查一次: a joint
    visit is one inspection in the target's total, and one for each department that took part):
    a registered inspection joined into a task, and the joined departments' rows. ``joint_only``:
    only those rows (the two sources that have them)."""
    drawn = (select(literal("drawn", String).label("channel"), Target.uscc.label("uscc"),
                    Task.lead_department.label("department_code"), literal(1, Integer).label("in_total"))
             .select_from(Task).join(Target, Target.id == Task.target_id).join(Plan, Plan.id == Task.plan_id))
    higher = select(literal("higher_level", String).label("channel"), HigherLevelInspection.uscc.label("uscc"),
                    HigherLevelInspection.department_code.label("department_code"),
                    literal(1, Integer).label("in_total"))
    registered = select(RegisteredInspection.channel.label("channel"), RegisteredInspection.uscc.label("uscc"),
                        RegisteredInspection.department_code.label("department_code"),
                        case((RegisteredInspection.joint_task_id.is_(None), 1), else_=0).label("in_total"))
    joined = _joined_source()
    if detail:
        drawn = drawn.add_columns(
            Task.window_start.label("on"), Plan.year.label("year"), Task.number.label("reference"),
            literal("plan", String).label("legal_reason_code"), literal("draw", String).label("source"),
            Task.id.label("task_id"), null().cast(Integer).label("registered_id"),
            literal("", String).label("over_cap_reason"))
        higher = higher.add_columns(
            HigherLevelInspection.inspected_on.label("on"), HigherLevelInspection.year.label("year"),
            HigherLevelInspection.reference.label("reference"),
            literal("higher_level", String).label("legal_reason_code"), HigherLevelInspection.source.label("source"),
            null().cast(Integer).label("task_id"), null().cast(Integer).label("registered_id"),
            literal("", String).label("over_cap_reason"))
        registered = registered.add_columns(
            RegisteredInspection.inspected_on.label("on"), RegisteredInspection.year.label("year"),
            RegisteredInspection.reference.label("reference"),
            RegisteredInspection.legal_reason_code.label("legal_reason_code"),
            RegisteredInspection.source.label("source"), RegisteredInspection.joint_task_id.label("task_id"),
            RegisteredInspection.id.label("registered_id"),
            RegisteredInspection.over_cap_reason.label("over_cap_reason"))
        joined = joined.add_columns(
            Task.window_start.label("on"), Plan.year.label("year"), Task.number.label("reference"),
            literal("plan", String).label("legal_reason_code"), literal("join", String).label("source"),
            Task.id.label("task_id"), null().cast(Integer).label("registered_id"),
            literal("", String).label("over_cap_reason"))
    parts = []
    sources = [
        (drawn, Target.uscc, Plan.year, Task.lead_department, "drawn"),
        (higher, HigherLevelInspection.uscc, HigherLevelInspection.year, HigherLevelInspection.department_code,
         "higher_level"),
        (registered, RegisteredInspection.uscc, RegisteredInspection.year, RegisteredInspection.department_code,
         None),
        (joined, Target.uscc, Plan.year, TaskJoin.department_code, "drawn"),
    ]
    if joint_only:
        sources = [(registered.where(RegisteredInspection.joint_task_id.is_not(None)), *sources[2][1:]), sources[3]]
    for stmt, uscc_col, year_col, dept_col, channel in sources:
        if channel in exempt:
            continue
        if channel is None and exempt:
            stmt = stmt.where(RegisteredInspection.channel.notin_(sorted(exempt)))
        if uscc is not None:
            stmt = stmt.where(uscc_col == uscc)
        if usccs is not None:
            stmt = stmt.where(uscc_col.in_(usccs if isinstance(usccs, Select) else sorted(usccs)))
        if year is not None:
            stmt = stmt.where(year_col == year)
        if department is not None:
            stmt = stmt.where(dept_col == department)
        parts.append(stmt)
    return parts


def _joined_source() -> Select:
    """The departments that joined a task with no registered inspection of theirs pointing to it:
    one row per task and department (the first of its joins)."""
    other = aliased(TaskJoin)
    first = (select(func.min(other.id)).where(other.task_id == TaskJoin.task_id,
                                              other.department_code == TaskJoin.department_code)
             .scalar_subquery())
    own_registration = (select(RegisteredInspection.id)
                        .where(RegisteredInspection.joint_task_id == TaskJoin.task_id,
                               RegisteredInspection.department_code == TaskJoin.department_code)
                        .exists())
    return (select(literal("drawn", String).label("channel"), Target.uscc.label("uscc"),
                   TaskJoin.department_code.label("department_code"), literal(0, Integer).label("in_total"))
            .select_from(TaskJoin).join(Task, Task.id == TaskJoin.task_id)
            .join(Target, Target.id == Task.target_id).join(Plan, Plan.id == Task.plan_id)
            .where(TaskJoin.id == first, ~own_registration))


def _exempt_by_year(session: Session, years: Iterable[int]) -> dict[int, frozenset[str]]:
    """Year -> its exempt channels, from the current caps of each year (one query)."""
    latest = (select(InspectionCaps.year, func.max(InspectionCaps.version).label("version"))
              .where(InspectionCaps.year.in_(sorted(set(years))), InspectionCaps.published_at.is_not(None))
              .group_by(InspectionCaps.year).subquery())
    rows = session.execute(select(InspectionCaps.year, InspectionCaps.exempt_channels).join(
        latest, (latest.c.year == InspectionCaps.year) & (latest.c.version == InspectionCaps.version)))
    return {year: frozenset(channels or ()) for year, channels in rows}


def ledger_entries(session: Session, *, uscc: str | None = None, year: int | None = None,
                   department: str | None = None) -> list[LedgerEntry]:
    """Every inspection in the ledger matching the filters, oldest first (one UNION query, plus one
    for the years' exempt channels)."""
    union = union_all(*ledger_sources(uscc=uscc, year=year, department=department, usccs=None, detail=True)).subquery()
    rows = session.execute(select(union).order_by(union.c.on, union.c.channel, union.c.reference)).all()
    exempt = _exempt_by_year(session, {row.year for row in rows})
    return [
        LedgerEntry(
            channel=row.channel, uscc=row.uscc, department_code=row.department_code or "", on=row.on,
            year=row.year, reference=row.reference or "", legal_reason_code=row.legal_reason_code,
            source=row.source or "", counts=row.channel not in exempt.get(row.year, DEFAULT_EXEMPT),
            task_id=row.task_id, registered_id=row.registered_id, over_cap_reason=row.over_cap_reason or "",
            in_total=bool(row.in_total),
        )
        for row in rows
    ]


def counts_by_target(session: Session, year: int, *, usccs: Collection[str] | None = None,
                     caps: InspectionCaps | None = None, at_cap_only: bool = False) -> dict[str, TargetCounts]:
    """USCC -> its counted inspections in ``year`` (only targets that have some). A joint visit is
    one in the total and one for each department that took part (:func:`ledger_sources`).

    ``caps`` (default: the year's current caps) decides which channels are exempt. With
    ``at_cap_only`` (and caps), only targets at a cap come back: ``total`` at least ``caps.total`` or
    one department at least ``caps.per_department``. Under the current caps' exempt channels (the
    freeze, registration, the pages) the answer comes from the maintained counts
    (:mod:`gateway.ledger.counts`): the targets at a cap through the ``(year, n)`` indexes, so a
    freeze over a million targets reads only those few; under other caps, from the ledger itself
    (:func:`ledger_counts_by_target`).
    """
    current = current_caps(session, year)
    if caps is None:
        caps = current
    if exempt_channels(caps) != exempt_channels(current):
        return ledger_counts_by_target(session, year, usccs=usccs, caps=caps, at_cap_only=at_cap_only)
    by_department: Any = LedgerDepartmentCount.__table__
    totals: Any = LedgerTargetCount.__table__
    added = _has_additions(session, year)
    # The named targets' additions are read apart (a range of the key each) and added in Python.
    apart = added and usccs is not None and not at_cap_only
    if added and not apart:
        by_department, totals = _with_additions(year)
    department, total = by_department.c, totals.c
    # Each department row with its target's total (a joint visit makes a total smaller than its
    # departments' sum). SQLite reads it best by primary key per row (a correlated read: its planner
    # may otherwise scan the year's totals); PostgreSQL joins the two (a subplan per row costs it more).
    if session.get_bind().dialect.name == "postgresql":
        stmt = select(department.uscc, department.department_code, department.n, total.n).join(
            totals, (total.year == department.year) & (total.uscc == department.uscc))
    else:
        stmt = select(department.uscc, department.department_code, department.n,
                      select(total.n).where(total.year == year, total.uscc == department.uscc).scalar_subquery())
    stmt = stmt.where(department.year == year)
    if usccs is not None:
        stmt = stmt.where(department.uscc.in_(sorted(usccs)))
    if at_cap_only and caps is not None:
        reached = _reached_departments(year, caps.per_department, None).subquery()
        at_cap = union(select(_reached_total(year, caps.total).subquery().c.uscc), select(reached.c.uscc))
        stmt = stmt.where(department.uscc.in_(at_cap))
    stmt = stmt.order_by(department.uscc)
    # A few targets named: read at once. Through a cursor PostgreSQL would plan for the first rows
    # and walk the year's whole index in USCC order to find them.
    if usccs is None:
        return _collect(_streamed(session, stmt))
    rows = session.execute(stmt).all()
    if apart:
        rows = _plus(rows, session.execute(
            select(LedgerCountAddition.uscc, LedgerCountAddition.department_code, LedgerCountAddition.n)
            .where(LedgerCountAddition.year == year, LedgerCountAddition.uscc.in_(sorted(usccs)))).all())
    return _collect(rows)


def _plus(rows: Iterable, additions: Iterable) -> list[tuple]:
    """(uscc, department_code, n, the target's total) rows with (uscc, department_code, n)
    additions added, in USCC order."""
    targets: dict[str, list] = {}
    for uscc, department_code, n, total in rows:
        target = targets.setdefault(uscc, [int(total or 0), {}])
        target[1][department_code] = int(n)
    for uscc, department_code, n in additions:
        target = targets.setdefault(uscc, [0, {}])
        target[0] += n
        target[1][department_code] = target[1].get(department_code, 0) + n
    return [(uscc, department_code, n, total) for uscc, (total, by_department) in sorted(targets.items())
            for department_code, n in sorted(by_department.items())]


def _has_additions(session: Session, year: int) -> bool:
    """Whether a draw of ``year`` has added counts not yet folded into the counts tables."""
    return session.scalar(select(literal(1)).where(LedgerCountAddition.year == year).limit(1)) is not None


def _with_additions(year: int) -> tuple[Any, Any]:
    """The two counts tables of ``year`` with the draws' additions added: subqueries with the
    tables' columns."""
    added = LedgerCountAddition

    def summed(*parts: Select) -> Any:
        rows = union_all(*parts).subquery()
        keys = [column for column in rows.c if column.name != "n"]
        return select(*keys, func.sum(rows.c.n).label("n")).group_by(*keys).subquery()

    department = LedgerDepartmentCount
    by_department = summed(
        select(department.year, department.uscc, department.department_code, department.n).where(department.year == year),
        select(added.year, added.uscc, added.department_code, added.n).where(added.year == year))
    totals = summed(select(LedgerTargetCount.year, LedgerTargetCount.uscc, LedgerTargetCount.n)
                    .where(LedgerTargetCount.year == year),
                    select(added.year, added.uscc, added.n).where(added.year == year))
    return by_department, totals


def _reached_total(year: int, cap: int) -> Select:
    """SELECT of the ``uscc`` of the targets whose total in ``year`` reached ``cap``, once each: by a
    range read of the ``(year, n)`` index, and of the targets not at the cap there, those the draws'
    additions bring to it."""
    added = LedgerCountAddition
    summed = select(added.uscc, func.sum(added.n).label("n")).where(added.year == year).group_by(added.uscc).subquery()
    before = func.coalesce(LedgerTargetCount.n, 0)
    return union_all(
        select(LedgerTargetCount.uscc).where(LedgerTargetCount.year == year, LedgerTargetCount.n >= cap),
        select(summed.c.uscc).select_from(summed.outerjoin(
            LedgerTargetCount, (LedgerTargetCount.year == year) & (LedgerTargetCount.uscc == summed.c.uscc)))
        .where(before < cap, before + summed.c.n >= cap))


def _reached_departments(year: int, cap: int, departments: Sequence[str] | None) -> Select:
    """SELECT of (``uscc``, ``department_code``) for each department (of ``departments``; None: any)
    whose count of a target in ``year`` reached ``cap``, as :func:`_reached_total` finds them. A
    record naming no department ('') counts in the total only."""
    added = LedgerCountAddition
    counted = LedgerDepartmentCount

    def named(column: Any) -> Any:
        return column != "" if departments is None else column.in_(sorted(departments))

    summed = (select(added.uscc, added.department_code, func.sum(added.n).label("n"))
              .where(added.year == year, named(added.department_code))
              .group_by(added.uscc, added.department_code).subquery())
    before = func.coalesce(counted.n, 0)
    return union_all(
        select(counted.uscc, counted.department_code).where(counted.year == year, counted.n >= cap,
                                                            named(counted.department_code)),
        select(summed.c.uscc, summed.c.department_code).select_from(summed.outerjoin(
            counted, (counted.year == year) & (counted.uscc == summed.c.uscc)
            & (counted.department_code == summed.c.department_code)))
        .where(before < cap, before + summed.c.n >= cap))


MAX_CAP_DEPARTMENTS = 62
"""Departments :func:`at_cap_rows` tells apart: their bits and the total's fit in a 64-bit integer."""


def at_cap_rows(year: int, caps: InspectionCaps, departments: Sequence[str]) -> Select:
    """SELECT of (``uscc``, ``bit``) rows, from the maintained counts under ``caps`` (those of the
    year's current caps' exempt channels) with the draws' additions: bit 1 for a target whose total
    reached ``caps.total``, ``2 << i`` for each ``departments[i]`` whose count of the target reached
    ``caps.per_department``. A target has at most one row per bit, so the sum of its rows' bits says
    which caps it reached (:func:`caps_reached`). Range reads of the ``(year, n)`` indexes (and of
    the additions); the freeze joins them to its candidates in SQL, so that no target at a cap is
    read one by one."""
    if len(departments) > MAX_CAP_DEPARTMENTS:
        raise ValueError(f"at most {MAX_CAP_DEPARTMENTS} departments")
    bits = {department: 2 << i for i, department in enumerate(departments)}
    total = _reached_total(year, caps.total).subquery()
    reached = _reached_departments(year, caps.per_department, departments).subquery()
    return union_all(
        select(total.c.uscc.label("uscc"), literal(1, BigInteger).label("bit")),
        select(reached.c.uscc.label("uscc"), case(bits, value=reached.c.department_code).cast(BigInteger).label("bit")))


def caps_reached(code: int, departments: Sequence[str]) -> tuple[bool, frozenset[str]]:
    """(the total cap reached, the departments whose cap was reached) from the sum of a target's
    :func:`at_cap_rows` bits."""
    return bool(code & 1), frozenset(d for i, d in enumerate(departments) if code & (2 << i))


def ledger_counts_by_target(session: Session, year: int, *, usccs: Collection[str] | None = None,
                            caps: InspectionCaps | None = None, at_cap_only: bool = False) -> dict[str, TargetCounts]:
    """:func:`counts_by_target` computed from the ledger itself, in one grouped query over the
    ``UNION ALL`` of its three sources (the targets at a cap filtered with window functions): the
    reference the maintained counts must always equal."""
    if caps is None:
        caps = current_caps(session, year)
    parts = ledger_sources(uscc=None, year=year, department=None, usccs=usccs, detail=False,
                           exempt=exempt_channels(caps))
    if not parts:
        return {}
    union_ = union_all(*parts).subquery()
    department = func.coalesce(union_.c.department_code, "")
    grouped = select(union_.c.uscc, department.label("department_code"), func.count().label("n"),
                     func.sum(union_.c.in_total).label("t")).group_by(union_.c.uscc, department)
    inner = grouped.subquery()
    windowed = select(inner.c.uscc, inner.c.department_code, inner.c.n,
                      func.sum(inner.c.t).over(partition_by=inner.c.uscc).label("total"),
                      # A record naming no department counts in the total only.
                      func.max(case((inner.c.department_code != "", inner.c.n), else_=0))
                      .over(partition_by=inner.c.uscc).label("most")).subquery()
    stmt = select(windowed.c.uscc, windowed.c.department_code, windowed.c.n, windowed.c.total)
    if at_cap_only and caps is not None:
        stmt = stmt.where((windowed.c.total >= caps.total) | (windowed.c.most >= caps.per_department))
    return _collect(_streamed(session, stmt.order_by(windowed.c.uscc)))


def _collect(rows: Iterable) -> dict[str, TargetCounts]:
    """(uscc, department_code, n, the target's total) rows, in USCC order -> USCC -> its counts (the
    total is not always the departments' sum: a joint visit counts once in it, and once for each
    department). Targets with the same counts share one :class:`TargetCounts` (treat it as
    read-only): a freeze at province scale reads a million targets at a cap, most of them alike."""
    out: dict[str, TargetCounts] = {}
    shared: dict[tuple, TargetCounts] = {}
    for uscc, group in groupby(rows, key=itemgetter(0)):
        by_department: dict[str, int] = {}
        total = 0
        for _, department_code, n, target_total in group:
            by_department[department_code] = int(n)
            total = int(target_total or 0)
        key = (total, *sorted(by_department.items()))
        counts = shared.get(key)
        if counts is None:
            counts = shared[key] = TargetCounts(total, by_department)
        out[uscc] = counts
    return out


def _streamed(session: Session, stmt: Select):
    """The rows of ``stmt`` fetched in batches (PostgreSQL: through a server-side cursor), so that
    the driver never holds a result of a million rows at once."""
    return session.execute(stmt.execution_options(yield_per=20_000))
