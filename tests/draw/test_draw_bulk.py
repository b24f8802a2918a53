"""The draw's bulk writer (gateway.draw.bulk) on SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from gateway.draw import bulk
from gateway.draw.pgsettings import local_setting
from gateway.draw.service import MEMBER_COLUMNS, TASK_COLUMNS
from gateway.tasks.models import Task, TaskMember
from tests.drawdb import bulk_directory, bulk_rows


@pytest.fixture
def plan_and_targets(gateway):
    directory = bulk_directory(gateway)
    return directory["plan"], directory["lead"], directory["targets"], directory["inspector"]


def _rows(session, plan_id, lead, target_ids, inspector_id, when):
    directory = {"plan": plan_id, "lead": lead, "targets": target_ids, "inspector": inspector_id}
    return bulk_rows(session, directory, when)


def test_rows_written_in_the_background_read_back_through_the_orm(gateway, plan_and_targets):
    plan_id, lead, target_ids, inspector_id = plan_and_targets
    assert len(target_ids) == 3
    when = datetime(2027, 3, 1, 9, 30, 0, 123456)
    with gateway.write() as session:
        ids, tasks, members = _rows(session, plan_id, lead, target_ids, inspector_id, when)
        assert ids == sorted(set(ids))
        with bulk.working(session) as worker:
            worker.insert("tasks", TASK_COLUMNS, tasks, sort_by="target_id")
            worker.insert("task_members", MEMBER_COLUMNS, members)
            # the caller's work would run here while the rows go in
    with gateway.read() as session:
        written = session.scalars(select(Task).where(Task.id.in_(ids)).order_by(Task.id)).all()
        assert [t.number for t in written] == ["TEST-0", "TEST-1", "TEST-2"]
        assert [t.key_inspection for t in written] == [True, False, False]
        assert written[0].matter_codes == ["crop_seed"]
        assert written[0].window_start == date(2027, 4, 1) and written[0].created_at == when
        assert [m.inspector_id for t in written for m in t.members] == [inspector_id] * 3
        assert all(m.active and m.added_at == when for t in written for m in t.members)


def test_a_failed_background_insert_raises_and_writes_nothing(gateway, plan_and_targets):
    plan_id, lead, target_ids, _ = plan_and_targets
    when = datetime(2027, 3, 1, 9, 30)
    with pytest.raises(Exception) as raised:
        with gateway.write() as session:
            ids, tasks, members = _rows(session, plan_id, lead, target_ids, 987_654_321, when)
            # the members name an inspector that does not exist: the foreign key refuses them
            with bulk.working(session) as worker:
                worker.insert("tasks", TASK_COLUMNS, tasks)
                worker.insert("task_members", MEMBER_COLUMNS, members)
    assert "foreign key" in str(raised.value).lower()
    with gateway.read() as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 0
        assert session.scalar(select(func.count()).select_from(TaskMember)) == 0


def test_reserved_ids_follow_the_existing_ones(gateway, plan_and_targets):
    with gateway.write() as session:
        first = bulk.reserve_ids(session.connection(), "tasks", 5)
        second = bulk.reserve_ids(session.connection(), "tasks", 0)
        assert len(first) == 5 and len(set(first)) == 5 and second == []


def test_jobs_run_in_order_and_hand_back_their_results(gateway, plan_and_targets):
    plan_id, lead, target_ids, inspector_id = plan_and_targets
    usccs = sorted(target_ids)
    when = datetime(2027, 3, 1, 9, 30)
    with gateway.write() as session:
        with bulk.working(session) as worker:
            reserved = worker.submit(bulk.reserve_ids, "tasks", 5)
            found = [worker.submit(bulk.target_ids, [uscc]) for uscc in usccs]
            ids = reserved.result()
            looked_up = {}
            for future in found:
                looked_up.update(future.result())
            assert looked_up == target_ids and ids == sorted(ids) and len(ids) == 5
            # rows handed in out of target order: PostgreSQL gets them sorted, ids stay as given
            tasks = [(task_id, f"TEST-{n}", plan_id, None, looked_up[uscc], lead, "[]", False,
                      date(2027, 4, 1), date(2027, 11, 30), "assigned", when)
                     for n, (task_id, uscc) in enumerate(zip(ids, reversed(usccs)))]
            worker.insert("tasks", TASK_COLUMNS, tasks, sort_by="target_id")
            worker.insert("task_members", MEMBER_COLUMNS, [(tasks[0][0], inspector_id, lead, "lead", True, when, "draw")])
    with gateway.read() as session:
        written = {t.number: (t.id, t.target_id) for t in session.scalars(select(Task))}
        assert written == {row[1]: (row[0], row[4]) for row in tasks}
        assert session.scalar(select(func.count()).select_from(TaskMember)) == 1


def test_after_a_failed_job_the_rest_are_skipped_and_the_first_error_raised(gateway, plan_and_targets):
    plan_id, lead, target_ids, _ = plan_and_targets
    when = datetime(2027, 3, 1, 9, 30)
    ran = []
    with pytest.raises(Exception) as raised:
        with gateway.write() as session:
            ids, tasks, members = _rows(session, plan_id, lead, target_ids, 987_654_321, when)
            with bulk.working(session) as worker:
                worker.insert("task_members", MEMBER_COLUMNS, members)  # no such tasks yet: refused
                later = worker.submit(lambda connection: ran.append("later"))
                worker.insert("tasks", TASK_COLUMNS, tasks)
    assert "foreign key" in str(raised.value).lower()
    assert ran == [] and isinstance(later.exception(), bulk._Skipped)
    with gateway.read() as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 0


def test_an_error_in_the_block_waits_for_the_worker_and_wins(gateway, plan_and_targets):
    plan_id, lead, target_ids, inspector_id = plan_and_targets
    when = datetime(2027, 3, 1, 9, 30)
    with pytest.raises(LookupError, match="the caller's own"):
        with gateway.write() as session:
            ids, tasks, members = _rows(session, plan_id, lead, target_ids, inspector_id, when)
            with bulk.working(session) as worker:
                inserted = worker.insert("tasks", TASK_COLUMNS, tasks)
                raise LookupError("the caller's own")
    assert inserted.done()  # the worker was waited for before the error left the block
    with gateway.read() as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 0


def test_backlog_waits_until_at_most_that_many_jobs_are_left(gateway, plan_and_targets):
    import threading

    release = threading.Event()
    done = []

    def job(connection, n):
        if n == 0:
            release.wait()  # the first job holds the worker until the test lets it go
        done.append(n)

    with gateway.write() as session:
        with bulk.working(session) as worker:
            for n in range(4):
                worker.submit(job, n)
            worker.backlog(4)  # nothing to wait for: four jobs handed in
            assert done == []
            release.set()
            worker.backlog(1)
            assert done[:3] == [0, 1, 2]
            worker.backlog(0)
            assert done == [0, 1, 2, 3]


def test_an_id_set_holds_what_it_was_given():
    held = bulk.IdSet()
    values = [0, 1, 7, 8, 1023, 1024, 5_000_003, 2**31 - 1]
    held.update(values)
    assert all(v in held for v in values)
    assert not any(v in held for v in (2, 9, 1025, 5_000_002, 2**31 - 2, -1, "1"))
    with pytest.raises(ValueError):
        held.update([-5])


def test_looked_up_ids_come_in_the_order_asked(gateway, plan_and_targets):
    _, _, target_ids, _ = plan_and_targets
    usccs = sorted(target_ids, reverse=True)
    with gateway.write() as session:
        with bulk.working(session) as worker:
            assert list(worker.lookup_ids(usccs).result()) == [target_ids[u] for u in usccs]
    with pytest.raises(KeyError, match="91410822MA99999999"):
        with gateway.write() as session, bulk.working(session) as worker:
            worker.lookup_ids([usccs[0], "91410822MA99999999"])


@pytest.mark.parametrize("probe", [False, True])
def test_a_probing_lookup_finds_what_the_plain_one_finds(gateway, plan_and_targets, probe):
    _, _, target_ids, _ = plan_and_targets
    usccs = sorted(target_ids, reverse=True)
    with gateway.write() as session:
        found = bulk.target_ids(session.connection(), [*usccs, "91410822MA99999999"], probe=probe)
    assert found == target_ids
    asked = [*usccs, usccs[0]]  # in any order, a code more than once
    with gateway.write() as session, bulk.working(session) as worker:
        assert list(worker.lookup_ids(asked, probe=probe).result()) == [target_ids[u] for u in asked]
    with pytest.raises(KeyError, match="91410822MA99999999"):
        with gateway.write() as session, bulk.working(session) as worker:
            worker.lookup_ids([usccs[0], "91410822MA99999999"], probe=probe)


TARGET_COLUMNS = ("name, type, township, level, address, legal_representative, business_scope, licences, status, "
                  "risk_class, abnormal_list, serious_violation_list, complaint_count, active, created_at, updated_at")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_probing_lookup_reads_the_index_where_the_plain_one_reads_the_table(gateway, plan_and_targets):
    """The draw looks each stratum's selection up apart, on PostgreSQL by index however large its
    share of the table: the plain lookup reads the whole table for more than about 1 % of it."""
    with gateway.write() as session:
        session.connection().exec_driver_sql(
            f"INSERT INTO targets (uscc, {TARGET_COLUMNS}) SELECT '91410823MA' || lpad(g::text, 8, '0'), "
            f"{TARGET_COLUMNS} FROM targets, generate_series(1, 5000) AS g WHERE id = (SELECT min(id) FROM targets)")
    with gateway.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE targets")
        asked = [uscc for (uscc,) in connection.exec_driver_sql("SELECT uscc FROM targets WHERE mod(id, 2) = 0")]
    plans = {}
    for probe in (False, True):
        statements: list[tuple] = []

        def capture(conn, cursor, statement, parameters, context, many, statements=statements):
            statements.append((statement, parameters))

        event.listen(gateway.engine, "before_cursor_execute", capture)
        try:
            with gateway.write() as session:
                assert len(bulk.target_ids(session.connection(), asked, probe=probe)) == len(asked)
        finally:
            event.remove(gateway.engine, "before_cursor_execute", capture)
        [(statement, parameters)] = [(s, p) for s, p in statements if "targets" in s]
        with gateway.engine.connect() as connection:
            plans[probe] = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
    assert "Seq Scan on targets" in plans[False], plans[False]
    # By the index alone where the table's pages are all visible (migration 0035 put the id in it).
    assert re.search("Index (Only )?Scan using uq_targets_uscc", plans[True]), plans[True]
    assert "Seq Scan on targets" not in plans[True], plans[True]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # COPY is PostgreSQL's
def test_a_copy_with_a_type_outside_the_binary_ones_goes_as_text(gateway):
    """PostgreSQL: tasks and members go in COPY's binary format (the tests above); a table with a
    column type :data:`bulk.BINARY_TYPES` does not list falls back to the text format."""
    with gateway.write() as session:
        connection = session.connection()
        connection.exec_driver_sql("CREATE TEMPORARY TABLE copied (amount numeric, note varchar(8), at date)")
        bulk.insert_rows(connection, "copied", ("amount", "note", "at"),
                         [(Decimal("1.25"), "一", date(2027, 4, 1)), (None, "二", None)])
        assert connection.exec_driver_sql("SELECT amount, note, at FROM copied ORDER BY note").all() == [
            (Decimal("1.25"), "一", date(2027, 4, 1)), (None, "二", None)]
        connection.exec_driver_sql("DROP TABLE copied")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # set_config is PostgreSQL's
def test_a_local_setting_holds_for_the_block_only(gateway):
    with gateway.write() as session:
        connection = session.connection()
        before = connection.exec_driver_sql("SELECT current_setting('work_mem')").scalar_one()
        with local_setting(connection, "work_mem", "7MB"):
            assert connection.exec_driver_sql("SELECT current_setting('work_mem')").scalar_one() == "7MB"
        assert connection.exec_driver_sql("SELECT current_setting('work_mem')").scalar_one() == before
