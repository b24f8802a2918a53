"""The maintained counts (gateway.ledger.counts) stay exactly equal to the ledger's own UNION query
after every kind of write: registration by service and by file, higher-level records added, changed
and deleted, the draw's tasks, deletions, caps published with other exempt channels, a rebuild, and a
seeded random sequence of all of these; joins (a joint visit once in
the total, once per department that took part); and the freeze's at-cap read uses them."""
from __future__ import annotations

import importlib
import random
from datetime import date

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError

from gateway.directory.models import Inspector, Target
from gateway.higher_level.models import HigherLevelInspection
from gateway.ledger import counts as ledger_counts
from gateway.ledger import service as ledger
from gateway.ledger.joining import join_task
from gateway.ledger.models import LedgerCountAddition, LedgerDepartmentCount, LedgerTargetCount, RegisteredInspection
from gateway.ledger.queries import counts_by_target, current_caps, ledger_counts_by_target, ledger_entries
from gateway.ledger.warnings import repeat_visits
from gateway.security.principal import Principal
from gateway.tasks.models import Task
from gateway.testing.cli import run_cli
from gateway.testing.world import add_inspectors, draw_task_for
from tests.drawdb import COUNTY, YEAR, build_directory, complete_draw, published_plan

LAST_DAY = date(YEAR, 12, 31)
TODAY = date.today()
ALL = {"A": "1", "B": "1", "C": "1", "D": "1"}


def stored(session, year, additions=True):
    """The two tables as read back, with the draws' additions (unless not ``additions``):
    USCC -> (total, {department: n})."""
    totals: dict[str, int] = {}
    departments: dict[str, dict[str, int]] = {}
    sources = [(LedgerTargetCount, LedgerDepartmentCount)]
    if additions:  # an addition counts in both
        sources.append((LedgerCountAddition, LedgerCountAddition))
    for total_table, department_table in sources:
        for uscc, n in session.execute(select(total_table.uscc, total_table.n).where(total_table.year == year)):
            totals[uscc] = totals.get(uscc, 0) + n
        for uscc, department, n in session.execute(select(
                department_table.uscc, department_table.department_code, department_table.n)
                .where(department_table.year == year)):
            by_department = departments.setdefault(uscc, {})
            by_department[department] = by_department.get(department, 0) + n
    return totals, departments


def forget(session):
    """Empty the counts and their additions behind the ORM's back, as a bulk load or a repair may."""
    for table in (LedgerTargetCount, LedgerDepartmentCount, LedgerCountAddition):
        session.execute(delete(table))


def assert_exact(gateway, years=(YEAR, TODAY.year)):
    """Tables, counts_by_target and its at-cap read equal the UNION query's, for every year given."""
    found = {}
    with gateway.read() as session:
        for year in set(years):
            found[year] = reference = ledger_counts_by_target(session, year)
            totals, departments = stored(session, year)
            assert totals == {uscc: c.total for uscc, c in reference.items()}
            assert departments == {uscc: c.by_department for uscc, c in reference.items()}
            assert counts_by_target(session, year) == reference
            named = sorted(reference)[::2]  # some targets named: their additions are added apart
            assert counts_by_target(session, year, usccs=named) == {u: reference[u] for u in named}
            if current_caps(session, year) is not None:
                assert counts_by_target(session, year, at_cap_only=True) == ledger_counts_by_target(
                    session, year, at_cap_only=True)
    return found[years[0]]


def register(gateway, uscc, department, channel="routine", day=1, reason=""):
    with gateway.write() as session:
        principal = Principal(role="department_operator", name="登记员", department_code=department)
        row, _check = ledger.register(session, principal, {
            "uscc": uscc, "department_code": department, "channel": channel, "legal_reason_code": "law",
            "inspected_on": date(YEAR, 3, day), "reference": f"{department}-{uscc}-{channel}-{day}",
            "over_cap_reason": reason}, today=LAST_DAY)
        return row.id


def higher(session, key, uscc, department="", year=YEAR):
    session.add(HigherLevelInspection(record_key=key, uscc=uscc, authority="焦作市某局", level="city",
                                      department_code=department, inspected_on=date(year, 2, 1), year=year))


def test_every_kind_of_write_keeps_the_counts_exact(gateway, settings, tmp_path):
    directory = build_directory(gateway)
    oil = directory["targets"]["refined_oil"]
    department = gateway.registry.matters["refined_oil"].department_code
    other = next(code for code in sorted(gateway.registry.departments) if code != department)
    with gateway.write() as session:
        ledger.publish_caps(session, COUNTY, year=YEAR, per_department=1, total=2)
    assert assert_exact(gateway) == {}

    register(gateway, oil[0], department)                                    # registration (service)
    register(gateway, oil[1], other, "complaint")                            # exempt: not counted
    register(gateway, oil[1], other, "special", reason="复查重大事故隐患整改")
    assert set(assert_exact(gateway)) == {oil[0], oil[1]}
    with gateway.write() as session:                                         # same exempt channels: kept
        ledger.publish_caps(session, COUNTY, year=YEAR, per_department=2, total=2)
    assert set(assert_exact(gateway)) == {oil[0], oil[1]}

    path = tmp_path / "registered.csv"                                       # registration (file)
    path.write_text("统一社会信用代码,检查部门,检查渠道,法定事由代码,法律依据,检查日期,检查编号,超过上限理由\n"
                    f"{oil[2]},{department},日常巡查,routine,,{TODAY.isoformat()},RC-1,\n"
                    f"{oil[2]},{other},专项检查,special,,{TODAY.isoformat()},ZX-1,\n", encoding="utf-8")
    result = run_cli(settings, "import", "registered-inspections", path)
    assert result.exit_code == 0, result.output
    assert oil[2] in assert_exact(gateway, years=(TODAY.year,))

    with gateway.write() as session:                                         # higher level: added
        higher(session, "h1", oil[3], department)
        higher(session, "h2", oil[3])                                        # no department: total only
        higher(session, "h3", oil[4], other)
    assert assert_exact(gateway)[oil[3]].by_department == {department: 1, "": 1}
    with gateway.write() as session:                                         # higher level: changed, deleted
        record = session.scalar(select(HigherLevelInspection).where(HigherLevelInspection.record_key == "h3"))
        record.uscc = oil[5]
        session.delete(session.scalar(select(HigherLevelInspection).where(HigherLevelInspection.record_key == "h2")))
    reference = assert_exact(gateway)
    assert oil[4] not in reference and reference[oil[5]].total == 1

    inspections = tmp_path / "inspections.csv"                               # higher level: file import,
    for uscc in (oil[6], oil[7]):                                            # then the record corrected
        inspections.write_text("统一社会信用代码,检查机关,检查机关层级,检查日期,对口部门,检查编号\n"
                               f"{uscc},焦作市某局,市级,{YEAR}-05-06,{department},JZ-1\n"
                               f"{oil[8]},焦作市某局,市级,{YEAR}-05-07,,JZ-2\n", encoding="utf-8")
        result = run_cli(settings, "import", "inspections", inspections)
        assert result.exit_code == 0, result.output
        assert assert_exact(gateway)[uscc].by_department == {department: 1}
    reference = assert_exact(gateway)
    assert oil[6] not in reference and reference[oil[8]].by_department == {"": 1}

    complete_draw(gateway, published_plan(gateway, ratios=ALL))              # the draw's tasks
    drawn = assert_exact(gateway)
    assert sum(c.total for c in drawn.values()) > sum(c.total for c in reference.values())

    with gateway.write() as session:                                         # a registration deleted
        row = session.scalar(select(RegisteredInspection).where(RegisteredInspection.uscc == oil[0]))
        session.expire(row)                                                  # (its keys not loaded)
        session.delete(row)
    assert oil[0] not in assert_exact(gateway) or drawn[oil[0]].total > 1

    with gateway.write() as session:                                         # caps now count complaints,
        ledger.publish_caps(session, COUNTY, year=YEAR, per_department=1, total=2,   # not drawn tasks
                            exempt_channels=["drawn"])
    assert assert_exact(gateway)[oil[1]].by_department[other] == 2
    complete_draw(gateway, published_plan(gateway, ratios=ALL, matters=["refined_oil"]))  # drawn exempt
    assert_exact(gateway)


def test_a_random_sequence_of_writes_keeps_the_counts_exact(gateway):
    directory = build_directory(gateway, per_matter=3)
    usccs = sorted(u for targets in directory["targets"].values() for u in targets)[:6]
    departments = sorted(gateway.registry.departments)[:3]
    channels = ["routine", "special", "complaint", "case", "referral"]
    rng = random.Random(16)
    for step in range(40):
        with gateway.write() as session:
            kind = rng.choice(["register", "register", "higher", "move", "delete", "caps"])
            rows = session.scalars(select(RegisteredInspection).order_by(RegisteredInspection.id)).all()
            if kind == "register" or (kind in ("move", "delete") and not rows):
                session.add(RegisteredInspection(
                    uscc=rng.choice(usccs), department_code=rng.choice(departments), channel=rng.choice(channels),
                    legal_reason_code="law", inspected_on=date(YEAR, 5, 1), year=rng.choice([YEAR, YEAR - 1]),
                    reference=f"R-{step}", source="api"))
            elif kind == "higher":
                higher(session, f"h-{step}", rng.choice(usccs), rng.choice(departments + [""]),
                       year=rng.choice([YEAR, YEAR - 1]))
            elif kind == "move":
                row = rng.choice(rows)
                row.uscc, row.department_code, row.year = (rng.choice(usccs), rng.choice(departments),
                                                            rng.choice([YEAR, YEAR - 1]))
            elif kind == "delete":
                session.delete(rng.choice(rows))
            else:
                ledger.publish_caps(session, COUNTY, year=YEAR, per_department=rng.randint(1, 2), total=3,
                                    exempt_channels=rng.sample(channels + ["higher_level"], 2))
        assert_exact(gateway, years=(YEAR, YEAR - 1))


def test_rebuild_and_the_migration_backfill_recount_what_bypassed_the_orm(gateway):
    directory = build_directory(gateway)
    oil = directory["targets"]["refined_oil"]
    department = gateway.registry.matters["refined_oil"].department_code
    register(gateway, oil[0], department)
    complete_draw(gateway, published_plan(gateway, ratios=ALL))
    expected = assert_exact(gateway)
    with gateway.write() as session:                                          # behind the ORM's back
        forget(session)
    with gateway.read() as session:
        assert counts_by_target(session, YEAR) == {}
    with gateway.write() as session:
        assert ledger_counts.rebuild(session.connection()) >= 1
    assert assert_exact(gateway) == expected

    migration = importlib.import_module("gateway.migrations.versions.0023_ledger_counts")
    with gateway.write() as session:
        forget(session)
        migration._backfill(session.connection())
    assert assert_exact(gateway) == expected


def test_the_cli_rebuilds_the_counts(gateway, settings):
    directory = build_directory(gateway, per_matter=3)
    with gateway.write() as session:
        uscc = session.scalar(select(Target.uscc).where(Target.uscc.in_(directory["targets"]["refined_oil"])))
        higher(session, "h1", uscc, gateway.registry.matters["refined_oil"].department_code)
        forget(session)
    result = run_cli(settings, "ledger", "rebuild-counts")
    assert result.exit_code == 0, result.output
    assert "1" in result.output
    assert assert_exact(gateway)[uscc].total == 1


def test_a_task_is_recounted_only_when_a_counted_column_changes(gateway):
    from sqlalchemy import event

    from gateway.tasks.models import Task
    from tests.drawdb import drawn_directory

    drawn_directory(gateway)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(gateway.engine, "before_cursor_execute", seen)
    try:
        with gateway.write() as session:                # the results workflow moves the status only
            task = session.scalar(select(Task).order_by(Task.id).limit(1))
            task.status = "in_progress"
        assert not [s for s in statements if "ledger_target_counts" in s]
        with gateway.write() as session:                # another target: both targets recounted
            task = session.scalar(select(Task).order_by(Task.id).limit(1))
            others = set(session.scalars(select(Task.target_id)))
            task.target_id = session.scalar(select(Target.id).where(Target.id.notin_(others)).limit(1))
        assert [s for s in statements if "ledger_target_counts" in s]
        assert_exact(gateway, years=(YEAR,))
        statements.clear()
        with gateway.write() as session:                # another lead department: recounted
            task = session.scalar(select(Task).order_by(Task.id).limit(1))
            task.lead_department = next(code for code in sorted(gateway.registry.departments)
                                        if code != task.lead_department)
        assert [s for s in statements if "ledger_target_counts" in s]
        assert_exact(gateway, years=(YEAR,))
    finally:
        event.remove(gateway.engine, "before_cursor_execute", seen)


def test_a_joined_visit_counts_once_in_the_total_and_once_per_department(gateway):
    """综合查一次: a registered inspection joined into a drawn task, and a department joining with no
    registration of its own, make one visit in the target's total and one for each department."""
    drawn = draw_task_for(gateway, "refined_oil")
    lead = gateway.registry.matters["refined_oil"].department_code
    joining = gateway.registry.matters["work_safety"].department_code
    third = next(code for code, m in sorted(gateway.registry.matters.items())
                 if m.department_code not in (lead, joining))
    third_department = gateway.registry.matters[third].department_code
    with gateway.write() as session:
        task = session.get(Task, drawn.task_id)
        uscc, start, year = task.target.uscc, task.window_start, task.window_start.year
        add_inspectors(session, [joining, third_department], per_department=2)
        ledger.publish_caps(session, COUNTY, year=year, per_department=2, total=4)
        registered = RegisteredInspection(
            uscc=uscc, department_code=joining, channel="routine", legal_reason_code="routine_patrol",
            inspected_on=start, year=year, reference="应急巡查-联合", source="api")
        session.add(registered)
        session.flush()
        registered_id = registered.id
    before = assert_exact(gateway, years=(year,))[uscc]
    assert (before.total, before.by_department) == (2, {lead: 1, joining: 1})  # two visits until joined

    def join(matter_code, department, registered=None):
        with gateway.write() as session:
            inspector = session.scalar(select(Inspector.id).where(
                Inspector.department_code == department, Inspector.active.is_(True),
                Inspector.certificate_valid_until > TODAY).order_by(Inspector.id.desc()))
            principal = Principal(role="department_head", name="负责人", department_code=department)
            join_task(session, principal, drawn.task_id, {"matter_code": matter_code, "inspector_ids": [inspector],
                                                          "registered_id": registered}, TODAY)

    join("work_safety", joining, registered_id)                # the registered visit joined: one visit
    after = assert_exact(gateway, years=(year,))[uscc]
    assert (after.total, after.by_department) == (1, {lead: 1, joining: 1})
    join(third, third_department)                              # a third department joins, nothing registered
    after = assert_exact(gateway, years=(year,))[uscc]
    assert (after.total, after.by_department) == (1, {lead: 1, joining: 1, third_department: 1})
    with gateway.read() as session:                            # the ledger lists each department's part
        entries = [e for e in ledger_entries(session, uscc=uscc, year=year)]
    assert sorted((e.department_code, e.task_id, e.in_total) for e in entries) == sorted([
        (lead, drawn.task_id, True), (joining, drawn.task_id, False), (third_department, drawn.task_id, False)])

    with gateway.read() as session:                            # the parts of one's own joint visit are no warning
        assert repeat_visits(session, uscc, lead, start, 30) == []
        warned = repeat_visits(session, uscc, "no-such-department", start, 30)
    assert [(w.department_code, w.joinable) for w in warned if w.task_id is not None].count((lead, True)) == 1
    assert not any(w.joinable for w in warned if w.department_code != lead)

    with gateway.write() as session:                           # the counts survive a rebuild
        forget(session)
        ledger_counts.rebuild(session.connection(), [year])
    assert assert_exact(gateway, years=(year,))[uscc].total == 1


def test_drawn_tasks_are_appended_to_the_additions_without_touching_the_counts_tables(gateway):
    with gateway.write() as session:
        connection = session.connection()
        assert ledger_counts.drawn_counted(connection, YEAR)  # drawn tasks count by default
        ledger_counts.add_drawn(connection, YEAR, 1, [])
        assert stored(session, YEAR) == ({}, {})
        ledger_counts.add_drawn(connection, YEAR, 1, [("91410822MA00000002", "market"), ("91410822MA00000001", None),
                                                      ("91410822MA00000002", "market"), ("91410822MA00000002", "farm")])
        ledger_counts.add_drawn(connection, YEAR, 2, [("91410822MA00000002", "market")])
        assert stored(session, YEAR, additions=False) == ({}, {})
        assert stored(session, YEAR) == ({"91410822MA00000001": 1, "91410822MA00000002": 4},
                                         {"91410822MA00000001": {"": 1}, "91410822MA00000002": {"market": 3, "farm": 1}})
        assert {u: (c.total, c.by_department) for u, c in counts_by_target(session, YEAR).items()} == {
            "91410822MA00000001": (1, {"": 1}), "91410822MA00000002": (4, {"market": 3, "farm": 1})}
        # A value with a character of COPY's text format is refused, and nothing is appended.
        with pytest.raises(ValueError, match="制表符"):
            ledger_counts.add_drawn(connection, YEAR, 3, [("91410822MA00000003", "mar\tket")])
        with pytest.raises(ValueError, match="反斜杠"):
            ledger_counts.add_drawn(connection, YEAR, 3, [("91410822MA0000000\\", "market")])
        assert "91410822MA00000003" not in stored(session, YEAR)[0]
        session.rollback()


def test_a_recount_folds_a_targets_additions_into_its_counts(gateway):
    directory = build_directory(gateway)
    oil = directory["targets"]["refined_oil"]
    register(gateway, oil[0], gateway.registry.matters["refined_oil"].department_code)
    with gateway.write() as session:
        ledger.publish_caps(session, COUNTY, year=YEAR, per_department=2, total=2)
    complete_draw(gateway, published_plan(gateway, ratios=ALL))
    with gateway.read() as session:
        added = set(session.scalars(select(LedgerCountAddition.uscc).where(LedgerCountAddition.year == YEAR)))
    assert oil[0] in added
    expected = assert_exact(gateway, years=(YEAR,))        # the readers add the additions in, at a cap too
    assert expected[oil[0]].total == 2
    with gateway.write() as session:
        ledger_counts.refresh(session.connection(), YEAR, [oil[0]])
    with gateway.read() as session:
        assert set(session.scalars(select(LedgerCountAddition.uscc).where(LedgerCountAddition.year == YEAR))) == (
            added - {oil[0]})
        assert stored(session, YEAR, additions=False)[0][oil[0]] == 2
    assert assert_exact(gateway, years=(YEAR,)) == expected


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has one writer at a time
def test_a_draws_append_and_a_recount_of_the_same_year_wait_for_each_other(gateway):
    """PostgreSQL runs them at once: a recount must not delete the additions before a draw commits
    them and then count that draw's tasks from the ledger (they would count twice)."""
    uscc = "91410822MA00000002"
    with gateway.engine.connect() as recount, gateway.engine.connect() as draw:
        ledger_counts.refresh(recount, YEAR, [uscc])                      # a recount in progress
        draw.exec_driver_sql("SET lock_timeout = '200ms'")
        with pytest.raises(OperationalError):
            ledger_counts.add_drawn(draw, YEAR, 1, [(uscc, "market")])
        draw.rollback()
        recount.commit()
        draw.exec_driver_sql("SET lock_timeout = '200ms'")
        ledger_counts.add_drawn(draw, YEAR, 1, [(uscc, "market")])      # a draw appending, not committed
        recount.exec_driver_sql("SET lock_timeout = '200ms'")
        with pytest.raises(OperationalError):
            ledger_counts.refresh(recount, YEAR, [uscc])
        recount.rollback()
        draw.rollback()
