"""The ledger's maintained counts: per year and target, the inspections that count toward the caps,
in all (``ledger_target_counts``) and per department (``ledger_department_counts``).

The freeze needs only the targets at a cap. Grouping the whole ledger of a year (the ``UNION ALL``
of :mod:`gateway.ledger.queries`) for that costs seconds per million entries; these two tables,
indexed by ``(year, n)``, give the targets at a cap by two index range reads. They count under the
year's current caps (their exempt channels; :data:`gateway.ledger.channels.DEFAULT_EXEMPT` before
any are published), a joint visit once in the total and once for each department that took part
(``in_total`` of :func:`gateway.ledger.queries.ledger_sources`), and are kept exact in the transaction of every write to the ledger:

- a flush that adds, changes or deletes a registered inspection, a higher-level inspection, a
  task or a task's join (registration by API, page and file, the higher-level import and pull, the demo), or
  publishes caps, recounts the targets (for caps: the whole year) it touched, from the ledger
  itself (:func:`refresh`; an ``after_flush`` hook, so no writer can forget it);
- the draw, which writes its tasks through the driver (:mod:`gateway.draw.bulk`), appends them to
  ``ledger_count_additions`` in the same transaction (:func:`add_drawn`), one row per target and
  lead department: the readers (:mod:`gateway.ledger.queries`) add those rows to the two tables'
  counts, and a recount of a target folds its additions into them;
- anything that writes the ledger's tables behind the ORM's back (a bulk load, a repair by hand)
  rebuilds them: ``shuangsui ledger rebuild-counts`` (:func:`rebuild`), as migration 0023 did.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable
from itertools import chain, groupby, islice

import orjson
from sqlalchemy import Select, delete, event, func, inspect, literal, select, union_all, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

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
from gateway.ledger.queries import current_caps_stmt, ledger_sources
from gateway.planning.models import Plan
from gateway.tasks.models import Task, TaskJoin

TARGETS = LedgerTargetCount.__table__
DEPARTMENTS = LedgerDepartmentCount.__table__
ADDITIONS = LedgerCountAddition.__table__
CHUNK = 500
"""USCCs per recount statement (well under every driver's parameter limit)."""


def exempt_now(connection: Connection, year: int) -> frozenset[str]:
    """The channels the counts of ``year`` leave out: those of its current caps."""
    caps = connection.execute(current_caps_stmt(year).with_only_columns(InspectionCaps.exempt_channels)).first()
    return DEFAULT_EXEMPT if caps is None else frozenset(caps[0] or ())


def refresh(connection: Connection, year: int, usccs: Collection[str] | Select | None = None) -> None:
    """Recount ``year`` for ``usccs`` (a collection or a SELECT of USCCs; None: every target)
    from the ledger itself, replacing their rows in both tables (and their additions)."""
    if isinstance(usccs, Collection) and not isinstance(usccs, str):
        ordered = sorted(set(usccs))
        for start in range(0, len(ordered), CHUNK):
            _recount(connection, year, ordered[start:start + CHUNK])
    else:
        _recount(connection, year, usccs)


def rebuild(connection: Connection, years: Iterable[int] | None = None) -> int:
    """Recount every target of ``years`` (None: every year the ledger holds); the years' number."""
    if years is None:
        years = {y for (y,) in connection.execute(select(Plan.year).union(
            select(HigherLevelInspection.year), select(RegisteredInspection.year),
            select(LedgerTargetCount.year), select(LedgerCountAddition.year)))}
    done = sorted(set(years))
    for year in done:
        refresh(connection, year)
    return len(done)


ADDITIONS_LOCK = 20032
"""The first key of the transaction-level advisory lock on a year's additions (the second: the year).

A draw takes it exclusively before it appends, a recount shared before it deletes: otherwise a draw
committing between a recount's delete of the additions (which cannot see the draw's) and its count
of the ledger (which then sees the draw's tasks) would leave those tasks counted twice."""


def _lock_additions(connection: Connection, year: int, mode: str) -> None:
    """Take the year's additions lock (:data:`ADDITIONS_LOCK`; PostgreSQL, where writers run at
    once: SQLite has one writer at a time) in ``mode``, "shared" or "exclusive"."""
    if connection.dialect.name == "postgresql":
        function = "pg_advisory_xact_lock_shared" if mode == "shared" else "pg_advisory_xact_lock"
        connection.exec_driver_sql(f"SELECT {function}(%(lock)s, %(year)s)", {"lock": ADDITIONS_LOCK, "year": year})


def _recount(connection: Connection, year: int, usccs: list[str] | Select | None) -> None:
    _lock_additions(connection, year, "shared")
    for table in (ADDITIONS, DEPARTMENTS, TARGETS):
        stmt = delete(table).where(table.c.year == year)
        if usccs is not None:
            stmt = stmt.where(table.c.uscc.in_(usccs))
        connection.execute(stmt)
    parts = ledger_sources(uscc=None, year=year, department=None, usccs=usccs, detail=False,
                           exempt=exempt_now(connection, year))
    if not parts:
        return
    union = union_all(*parts).subquery()
    department = func.coalesce(union.c.department_code, "")
    connection.execute(DEPARTMENTS.insert().from_select(
        ["year", "uscc", "department_code", "n"],
        select(literal(year), union.c.uscc, department, func.count()).group_by(union.c.uscc, department)))
    totals = select(literal(year), DEPARTMENTS.c.uscc, func.sum(DEPARTMENTS.c.n)).where(DEPARTMENTS.c.year == year)
    if usccs is not None:
        totals = totals.where(DEPARTMENTS.c.uscc.in_(usccs))
    connection.execute(TARGETS.insert().from_select(["year", "uscc", "n"], totals.group_by(DEPARTMENTS.c.uscc)))
    # A joint visit counts once in the total, not once per department that took part: take off the
    # other departments' parts (few rows: the joins), read apart rather than grouping the ledger twice.
    joint = ledger_sources(uscc=None, year=year, department=None, usccs=usccs, detail=False,
                           exempt=exempt_now(connection, year), joint_only=True)
    if joint:
        parts = union_all(*joint).subquery()
        for uscc, n in connection.execute(select(parts.c.uscc, func.count()).group_by(parts.c.uscc)).all():
            connection.execute(update(TARGETS).where(TARGETS.c.year == year, TARGETS.c.uscc == uscc)
                               .values(n=TARGETS.c.n - n))


def drawn_counted(connection: Connection, year: int) -> bool:
    """Whether the counts of ``year`` count drawn tasks (its current caps do not exempt them)."""
    return "drawn" not in exempt_now(connection, year)


def add_drawn(connection: Connection, year: int, draw_id: int, tasks: Iterable[tuple[str, str | None]]) -> None:
    """Count the tasks draw ``draw_id`` of ``year`` writes, given as (USCC, lead department) pairs,
    in the draw's transaction (nothing when the year's caps exempt drawn tasks): :func:`add_drawn_lines`."""
    add_drawn_lines(connection, year, drawn_lines(year, draw_id, tasks))


def drawn_lines(year: int, draw_id: int, tasks: Iterable[tuple[str, str | None]]) -> list[str]:
    """(USCC, lead department) pairs as :func:`add_drawn_lines` takes them: one line each, in
    ``COPY``'s text format (year, draw, USCC, department, 1). Codes hold none of that format's
    special characters: :func:`add_drawn_lines` refuses a value that does."""
    prefix = f"{year}\t{draw_id}\t"
    return [f"{prefix}{uscc}\t{department or ''}\t1\n" for uscc, department in tasks]


def add_drawn_lines(connection: Connection, year: int, lines: list[str]) -> None:
    """Append a draw's :func:`drawn_lines` (of one year and draw, in any order; sorted here, in
    place) to ``ledger_count_additions``, each target and department counted once with the number
    of its lines, which touches no page of the counts tables (an upsert into them rewrote nearly
    all of them at a million targets).

    On PostgreSQL by ``COPY``, in key order: at 700,000 pairs it took 1.5 s where an ``INSERT``
    from the same pairs as a JSON array took 3.9 s, most of it parsing the JSON. The draw hands the
    pairs over rather than having the database join its new tasks to the targets (a read of a
    random target page per task)."""
    if not lines or not drawn_counted(connection, year):
        return
    lines.sort()
    if any(map(str.__eq__, lines, islice(lines, 1, None))):  # a pair given twice: counted, not repeated
        lines[:] = [f"{line[:-2]}{sum(1 for _ in group)}\n" for line, group in groupby(lines)]
    text = "".join(lines)
    if text.count("\t") != 4 * len(lines) or text.count("\n") != len(lines) or "\\" in text or "\r" in text:
        raise ValueError("统一社会信用代码或部门代码含有制表符、换行符、回车符或反斜杠")
    _lock_additions(connection, year, "exclusive")
    columns = "year, draw_id, uscc, department_code, n"
    if connection.dialect.name == "postgresql":
        with connection.connection.dbapi_connection.cursor() as cursor:
            with cursor.copy(f"COPY {ADDITIONS.name} ({columns}) FROM STDIN") as copy:
                copy.write(text.encode("utf-8"))
        return
    rows = orjson.dumps([line[:-1].split("\t") for line in lines])
    connection.exec_driver_sql(
        f"INSERT INTO {ADDITIONS.name} ({columns}) SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
        "json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]') FROM json_each(?)",
        (rows.decode("utf-8"),))


def _was_and_is(obj: object, *names: str) -> set[tuple]:
    """The values of ``names`` on ``obj`` now and, where the flush changed them, before."""
    state = inspect(obj)
    now = tuple(getattr(obj, name) for name in names)
    before = tuple(
        (state.attrs[name].history.deleted or [getattr(obj, name)])[0] for name in names)
    return {now, before}


def _touched(session: Session, connection: Connection) -> tuple[dict[int, set[str]], set[int]]:
    """(year -> USCCs whose counts the flush may have changed, years whose caps were published)."""
    touched: dict[int, set[str]] = {}
    years: set[int] = set()
    task_keys: set[tuple] = set()
    joined_tasks: set[int] = set()
    added: dict[int, set[int | None]] = {}  # year -> the caps this flush published (None: changed)
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, (RegisteredInspection, HigherLevelInspection)):
            for year, uscc in _was_and_is(obj, "year", "uscc"):
                touched.setdefault(year, set()).add(uscc)
        elif isinstance(obj, Task) and _counted(session, obj):
            task_keys |= _was_and_is(obj, "plan_id", "target_id")
        elif isinstance(obj, TaskJoin):  # another department joins (or leaves) a visit
            joined_tasks.add(obj.task_id)
        elif isinstance(obj, InspectionCaps) and obj.published_at is not None:
            years.add(obj.year)
            added.setdefault(obj.year, set()).add(obj.id if obj in session.new else None)
    if joined_tasks:
        task_keys |= set(connection.execute(select(Task.plan_id, Task.target_id).where(
            Task.id.in_(sorted(joined_tasks)))).all())
    if task_keys:
        plans = dict(connection.execute(select(Plan.id, Plan.year).where(
            Plan.id.in_(sorted({p for p, _ in task_keys if p is not None})))).all())
        targets = dict(connection.execute(select(Target.id, Target.uscc).where(
            Target.id.in_(sorted({t for _, t in task_keys if t is not None})))).all())
        for plan_id, target_id in task_keys:
            if plan_id in plans and target_id in targets:
                touched.setdefault(plans[plan_id], set()).add(targets[target_id])
    return touched, {year for year in years if not _same_exemptions(connection, year, added[year])}


def _same_exemptions(connection: Connection, year: int, added: set[int | None]) -> bool:
    """Whether the caps just published for ``year`` (``added``) exempt the same channels as the ones
    before them, under which the year is counted (then nothing needs recounting)."""
    if None in added:
        return False
    before = connection.execute(current_caps_stmt(year).with_only_columns(InspectionCaps.exempt_channels)
                                .where(InspectionCaps.id.notin_(sorted(added)))).first()
    return exempt_now(connection, year) == (DEFAULT_EXEMPT if before is None else frozenset(before[0] or ()))


TASK_COUNTED = ("plan_id", "target_id", "lead_department")
"""The columns of a task the counts depend on (its status, members and dates change nothing)."""


def _counted(session: Session, obj: object) -> bool:
    """Whether ``obj``, written by this flush, may change the counts. A task whose counted columns
    did not change (a result recorded, reviewed, published: its status moves) does not, so the
    results workflow does not recount a target three times per result."""
    if isinstance(obj, Task):
        if obj in session.new or obj in session.deleted:
            return True
        attrs = inspect(obj).attrs
        return any(attrs[name].history.has_changes() for name in TASK_COUNTED)
    return isinstance(obj, (RegisteredInspection, HigherLevelInspection, TaskJoin, InspectionCaps))


@event.listens_for(Session, "after_flush")
def _recount_after_flush(session: Session, _context: object) -> None:
    """Keep the counts of what this flush wrote exact, in its transaction."""
    if not any(_counted(session, o) for o in chain(session.new, session.dirty, session.deleted)):
        return
    connection = session.connection()
    touched, years = _touched(session, connection)
    for year in sorted(years):
        refresh(connection, year)
    for year, usccs in sorted(touched.items()):
        if year not in years:
            refresh(connection, year, usccs)
