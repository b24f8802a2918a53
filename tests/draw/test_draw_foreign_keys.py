"""Foreign keys checked as a set (gateway.draw.foreign_keys) on PostgreSQL, against the real catalogue."""
from __future__ import annotations

import uuid
from datetime import datetime

import pytest
import sqlalchemy as sa
from psycopg import errors
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.db import make_engine
from gateway.draw import bulk, foreign_keys
from gateway.draw.service import MEMBER_COLUMNS, TASK_COLUMNS
from gateway.tasks.models import Task, TaskMember
from tests.drawdb import bulk_directory, bulk_rows, published_plan

WHEN = datetime(2027, 3, 1, 9, 30)
# SQLite checks each row's keys itself, cheaply; the bulk tests run there (tests/draw/test_draw_bulk.py).
POSTGRESQL_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def directory(gateway):
    return bulk_directory(gateway)


def _rows(session, directory, inspector_id=None):
    return bulk_rows(session, directory, WHEN, inspector_id)


def _count(gateway, model) -> int:
    with gateway.read() as session:
        return session.scalar(select(func.count()).select_from(model))


@POSTGRESQL_ONLY
def test_the_tables_keys_are_read_from_the_catalogue(gateway):
    with gateway.read() as session:
        tasks = foreign_keys.set_checkable_keys(session.connection(), "tasks")
        members = foreign_keys.set_checkable_keys(session.connection(), "task_members")
    assert {(k.column, k.referred_table, k.referred_column) for k in tasks} == {
        ("plan_id", "plans", "id"), ("target_id", "targets", "id"), ("lead_department", "departments", "code")}
    assert {(k.column, k.referred_table, k.referred_column) for k in members} == {
        ("task_id", "tasks", "id"), ("inspector_id", "inspectors", "id"), ("department_code", "departments", "code")}


@POSTGRESQL_ONLY
@pytest.mark.parametrize("ddl", [
    # a trigger of the application's own: turning triggers off would skip it
    """CREATE FUNCTION {t}_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
       CREATE TRIGGER {t}_noop AFTER INSERT ON {t} FOR EACH ROW EXECUTE FUNCTION {t}_noop()""",
    # a key over two columns, and a key to the table itself
    "ALTER TABLE {t} ADD FOREIGN KEY (plan_id, target_id) REFERENCES tasks (plan_id, target_id)",
    "ALTER TABLE {t} ADD FOREIGN KEY (parent_id) REFERENCES {t} (id)",
])
def test_tables_with_other_insert_triggers_or_unusual_keys_are_left_to_the_row_checks(gateway, ddl):
    table = f"fk_probe_{uuid.uuid4().hex[:8]}"
    with gateway.engine.connect() as conn:  # rolled back at the end, table and all
        conn.exec_driver_sql(f"CREATE TABLE {table} (id integer PRIMARY KEY, parent_id integer, "
                             "plan_id integer REFERENCES plans (id), target_id integer)")
        assert [k.column for k in foreign_keys.set_checkable_keys(conn, table)] == ["plan_id"]
        conn.exec_driver_sql(ddl.format(t=table))
        assert foreign_keys.set_checkable_keys(conn, table) is None


@POSTGRESQL_ONLY
def test_who_may_switch_the_triggers_off(gateway):
    role = f"fk_probe_{uuid.uuid4().hex[:8]}"
    with gateway.engine.connect() as conn:  # rolled back at the end, role and grant with it
        assert foreign_keys.may_switch_triggers(conn)  # the suite connects as a superuser
        conn.exec_driver_sql(f"CREATE ROLE {role}")
        conn.exec_driver_sql(f"SET LOCAL ROLE {role}")
        assert not foreign_keys.may_switch_triggers(conn)
        conn.exec_driver_sql("RESET ROLE")
        conn.exec_driver_sql(f"GRANT SET ON PARAMETER session_replication_role TO {role}")
        conn.exec_driver_sql(f"SET LOCAL ROLE {role}")
        assert foreign_keys.may_switch_triggers(conn)


@POSTGRESQL_ONLY
def test_set_checked_rows_are_written_and_the_triggers_come_back_on(gateway, directory, monkeypatch):
    copied = []
    real_copy = foreign_keys.copy_checked
    monkeypatch.setattr(foreign_keys, "copy_checked", lambda *a, **k: copied.append(a[1]) or real_copy(*a, **k))
    with gateway.write() as session:
        ids, tasks, members = _rows(session, directory)
        with bulk.working(session) as worker:
            assert worker.set_checks
            worker.insert("tasks", TASK_COLUMNS, tasks, sort_by="target_id")
            worker.insert("task_members", MEMBER_COLUMNS, members)
        assert copied == ["tasks", "task_members"]
        connection = session.connection()
        assert connection.exec_driver_sql("SHOW session_replication_role").scalar_one() == "origin"
        # later writes of the same transaction are checked row by row again
        connection.exec_driver_sql("SAVEPOINT later")
        with pytest.raises(sa.exc.IntegrityError, match="fk_task_members_inspector_id_inspectors"):
            connection.exec_driver_sql(
                "INSERT INTO task_members (task_id, inspector_id, department_code, role, active, added_at, source) "
                "VALUES (%s, 987654321, %s, 'member', true, now(), 'draw')", (ids[0], directory["lead"]))
        connection.exec_driver_sql("ROLLBACK TO SAVEPOINT later")
    with gateway.read() as session:
        written = session.scalars(select(Task).where(Task.id.in_(ids)).order_by(Task.id)).all()
        assert [t.target_id for t in written] == list(directory["targets"].values())
        assert [m.inspector_id for t in written for m in t.members] == [directory["inspector"]] * 3


@POSTGRESQL_ONLY
@pytest.mark.parametrize("column, value, constraint", [
    ("inspector_id", 987_654_321, "fk_task_members_inspector_id_inspectors"),
    ("department_code", "no-such-dept", "fk_task_members_department_code_departments"),
    ("task_id", 987_654_321, "fk_task_members_task_id_tasks"),
])
def test_a_missing_reference_is_refused_by_name_and_nothing_is_written(gateway, directory, column, value,
                                                                       constraint):
    position = MEMBER_COLUMNS.index(column)
    with pytest.raises(errors.ForeignKeyViolation) as raised:
        with gateway.write() as session:
            ids, tasks, members = _rows(session, directory)
            members[-1] = members[-1][:position] + (value,) + members[-1][position + 1:]
            with bulk.working(session) as worker:
                assert worker.set_checks
                worker.insert("tasks", TASK_COLUMNS, tasks)
                worker.insert("task_members", MEMBER_COLUMNS, members)
    assert constraint in str(raised.value) and f"({column})=({value})" in str(raised.value)
    assert _count(gateway, Task) == 0 and _count(gateway, TaskMember) == 0


@pytest.fixture
def other(gateway):
    """A second connection, as another request holds one: rolled back and closed at the end."""
    conn = gateway.engine.connect()
    yield conn
    conn.rollback()
    conn.close()


@pytest.fixture
def guard_disabled(gateway):
    """The guard's trigger disabled for the test (the database outlives it)."""
    def switch(state: str) -> None:
        with gateway.engine.connect() as conn:
            conn.exec_driver_sql(f"ALTER TABLE targets {state} TRIGGER targets_keys_guard")
            conn.commit()

    switch("DISABLE")
    yield
    switch("ENABLE")


def _assert_locked(other, table: str, key: int) -> None:
    """``other`` cannot lock row ``key`` of ``table``: the draw's transaction holds it."""
    with pytest.raises(sa.exc.OperationalError) as raised:
        other.exec_driver_sql(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE NOWAIT", (key,))
    assert isinstance(raised.value.orig, errors.LockNotAvailable)
    other.rollback()


def _insert_draw(session, directory, *, lookup: bool = False) -> tuple[list, list]:
    """A draw's writes in ``session``'s transaction: with ``lookup``, its targets looked up first as
    the draw does; then its tasks and members. Returns the tasks and members written."""
    _ids, tasks, members = _rows(session, directory)
    with bulk.working(session) as worker:
        if lookup:
            assert worker.lookup_targets(sorted(directory["targets"])).result() == directory["targets"]
        worker.insert("tasks", TASK_COLUMNS, tasks)
        worker.insert("task_members", MEMBER_COLUMNS, members)
    return tasks, members


@POSTGRESQL_ONLY
def test_referenced_rows_stay_locked_until_the_transaction_ends(gateway, directory, other):
    """What the per-row check guarantees: nobody deletes or re-keys a referenced row meanwhile."""
    target_id = next(iter(directory["targets"].values()))
    with gateway.write() as session:
        _insert_draw(session, directory)
        for table, key in (("targets", target_id), ("inspectors", directory["inspector"]),
                           ("plans", directory["plan"])):
            _assert_locked(other, table, key)
    # committed: the rows are free again (and still referenced, so a delete is refused)
    other.exec_driver_sql("SELECT 1 FROM targets WHERE id = %s FOR UPDATE NOWAIT", (target_id,))
    with pytest.raises(sa.exc.IntegrityError):
        other.exec_driver_sql("DELETE FROM targets WHERE id = %s", (target_id,))


@POSTGRESQL_ONLY
def test_the_lookup_locks_the_drawn_targets_when_asked(gateway, directory, other):
    usccs = sorted(directory["targets"])
    with gateway.write() as session:
        assert bulk.target_ids(session.connection(), usccs[:1], lock=True) == {
            usccs[0]: directory["targets"][usccs[0]]}
        other.exec_driver_sql("SELECT 1 FROM targets WHERE id = %s FOR UPDATE NOWAIT",
                              (directory["targets"][usccs[1]],))  # not asked for: free
        other.rollback()
        _assert_locked(other, "targets", directory["targets"][usccs[0]])


@POSTGRESQL_ONLY
@pytest.mark.parametrize("probe", [False, True])
def test_the_lookup_locks_exactly_the_targets_asked_for(gateway, directory, other, probe):
    usccs = sorted(directory["targets"])
    asked = usccs[1:3]
    with gateway.write() as session:
        assert bulk.target_ids(session.connection(), asked, lock=True, probe=probe) == {
            u: directory["targets"][u] for u in asked}
        other.exec_driver_sql("SELECT 1 FROM targets WHERE id = %s FOR UPDATE NOWAIT",
                              (directory["targets"][usccs[0]],))  # not asked for: free
        other.rollback()
        for uscc in asked:
            _assert_locked(other, "targets", directory["targets"][uscc])


@POSTGRESQL_ONLY
def test_rows_the_transaction_already_holds_are_not_locked_again(gateway, directory, monkeypatch, other):
    """The drawn targets, locked by the worker's lookup, and the tasks it has just inserted are not
    looked up again by the set checks; they stay locked (the targets) or invisible (the tasks)."""
    asked: list[tuple[str, set]] = []
    real_lock = foreign_keys.lock_referenced
    monkeypatch.setattr(foreign_keys, "lock_referenced",
                        lambda c, t, key, values: asked.append((key.referred_table, set(values)))
                        or real_lock(c, t, key, values))
    target_id = next(iter(directory["targets"].values()))
    with gateway.write() as session:
        tasks, members = _insert_draw(session, directory, lookup=True)
        _assert_guarded(other, target_id)
    assert {table for table, values in asked if values} == {"plans", "departments", "inspectors"}
    assert {table for table, _ in asked} >= {"targets", "tasks"}
    assert _count(gateway, Task) == len(tasks) and _count(gateway, TaskMember) == len(members)


def _assert_guarded(other, target_id: int) -> None:
    """The draw's transaction holds target ``target_id`` by the guard on ``targets``, not by a row
    lock: ``other`` may lock the row, change its other columns and hold the guard for a draw of its
    own, but deleting the target or changing its key waits for the draw."""
    other.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
    foreign_keys.hold_targets_guard(other)
    other.exec_driver_sql("SELECT 1 FROM targets WHERE id = %s FOR UPDATE NOWAIT", (target_id,))
    other.exec_driver_sql("UPDATE targets SET status = 'closed', name = name || '（更名）' WHERE id = %s",
                          (target_id,))
    other.rollback()
    for statement in ("DELETE FROM targets WHERE id = %s", "UPDATE targets SET id = -id WHERE id = %s"):
        other.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
        with pytest.raises(sa.exc.OperationalError) as raised:
            other.exec_driver_sql(statement, (target_id,))
        assert isinstance(raised.value.orig, errors.LockNotAvailable)
        other.rollback()


@POSTGRESQL_ONLY
def test_the_drawn_targets_cannot_be_deleted_or_rekeyed_until_the_draw_commits(gateway, directory, other):
    target_id = next(iter(directory["targets"].values()))
    with gateway.write() as session:
        _insert_draw(session, directory, lookup=True)
        _assert_guarded(other, target_id)
    # committed: the delete goes ahead, and the new tasks refuse it, as the row locks left it
    with pytest.raises(sa.exc.IntegrityError) as raised:
        other.exec_driver_sql("DELETE FROM targets WHERE id = %s", (target_id,))
    assert isinstance(raised.value.orig, errors.ForeignKeyViolation)


def _backend(connection) -> int:
    return connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()


def _lock_waited_for(other, backend: int, pending) -> str:
    """The type of the lock the draw's ``backend`` waits for while ``other`` has a delete under way
    (``pending``, the draw's lookup, not done meanwhile); ``other`` then commits."""
    waiting = None
    try:
        while waiting is None:
            assert not pending.done()
            waiting = other.exec_driver_sql(
                "SELECT locktype FROM pg_locks WHERE pid = %s AND NOT granted", (backend,)).scalar()
    finally:
        other.commit()  # else a failure here would leave the draw's lookup waiting for ever
    return waiting


@POSTGRESQL_ONLY
def test_a_delete_under_way_is_waited_for_and_its_target_then_missing(gateway, directory, other):
    usccs = sorted(directory["targets"])
    deleted = usccs[0]
    other.exec_driver_sql("DELETE FROM targets WHERE id = %s", (directory["targets"][deleted],))
    with gateway.write() as session:
        with bulk.working(session) as worker:
            backend = worker.submit(_backend).result()
            found = worker.lookup_targets(usccs)
            # the guard, taken shared, waited for the delete's transaction
            assert _lock_waited_for(other, backend, found) == "advisory"
            assert found.result() == {uscc: directory["targets"][uscc] for uscc in usccs[1:]}


@POSTGRESQL_ONLY
@pytest.mark.parametrize("case", ["repeatable read", "guard disabled"])
def test_without_the_guard_the_lookup_locks_the_drawn_targets(gateway, directory, other, case, request):
    """A transaction whose snapshot may predate the shared lock, or a database without the guard's
    trigger, locks the drawn targets FOR KEY SHARE as before."""
    if case == "guard disabled":
        request.getfixturevalue("guard_disabled")
    target_id = next(iter(directory["targets"].values()))
    with gateway.write() as session:
        if case == "repeatable read":
            session.connection().exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with bulk.working(session) as worker:
            assert worker.lookup_targets(sorted(directory["targets"])).result() == directory["targets"]
        assert not foreign_keys.targets_guarded(session.connection())
        _assert_locked(other, "targets", target_id)


@POSTGRESQL_ONLY
def test_row_mode_leaves_the_checks_to_the_triggers(gateway, directory, monkeypatch):
    monkeypatch.setattr(foreign_keys, "copy_checked", lambda *a, **k: pytest.fail("set checks in row mode"))
    with pytest.raises(errors.ForeignKeyViolation):
        with gateway.write() as session:
            ids, tasks, members = _rows(session, directory, inspector_id=987_654_321)
            with bulk.working(session, key_checks="row") as worker:
                assert not worker.set_checks
                worker.insert("tasks", TASK_COLUMNS, tasks)
                worker.insert("task_members", MEMBER_COLUMNS, members)
    assert _count(gateway, Task) == 0


def test_the_setting_takes_auto_or_row_only(tmp_path):
    assert Settings(instance_path=tmp_path, draw_key_checks="row").draw_key_checks == "row"
    with pytest.raises(ValueError, match="draw_key_checks"):
        Settings(instance_path=tmp_path, draw_key_checks="never")


class _RollBack(Exception):
    pass


@POSTGRESQL_ONLY
def test_a_draw_writes_the_same_tasks_and_teams_either_way(gateway, monkeypatch):
    from dataclasses import replace

    from gateway.draw import service as draws
    from tests.drawdb import COUNTY, build_directory, freeze_and_seed

    build_directory(gateway)
    draw_id = freeze_and_seed(gateway, published_plan(gateway))
    copied = []
    real_copy = foreign_keys.copy_checked
    monkeypatch.setattr(foreign_keys, "copy_checked", lambda *a, **k: copied.append(a[1]) or real_copy(*a, **k))
    outcomes = {}
    for mode in ("row", "auto"):
        try:
            with gateway.write() as session:
                draw = draws.run(session, COUNTY, draw_id, replace(gateway.settings, draw_key_checks=mode), now=WHEN)
                tasks = session.execute(
                    select(Task.number, Task.target_id, Task.lead_department, Task.matter_codes, Task.key_inspection)
                    .where(Task.draw_id == draw_id).order_by(Task.number)).all()
                members = session.execute(
                    select(Task.number, TaskMember.inspector_id, TaskMember.department_code, TaskMember.role)
                    .join(Task).where(Task.draw_id == draw_id).order_by(Task.number, TaskMember.id)).all()
                outcomes[mode] = (draw.record_sha256, tasks, members)
                raise _RollBack  # the same draw again, the other way
        except _RollBack:
            pass
    assert copied == ["tasks", "task_members"]  # only the "auto" run checked as a set
    assert len(outcomes["auto"][1]) > 10 and len(outcomes["auto"][2]) >= 2 * len(outcomes["auto"][1])
    assert outcomes["auto"] == outcomes["row"]


@POSTGRESQL_ONLY
def test_db_upgrade_says_how_draws_will_check_keys(gateway, settings):
    from dataclasses import replace
    from urllib.parse import quote

    from click.testing import CliRunner

    from gateway.cli.db import _key_checks_notice
    from gateway.cli.main import cli
    from gateway.core import Gateway

    done = CliRunner().invoke(cli, ["--database-url", settings.database_url, "--instance", str(settings.instance_path),
                                    "db", "upgrade"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert "按集合校验外键" in done.output  # the suite connects as a superuser
    row_mode = Gateway.create(replace(settings, draw_key_checks="row"))
    assert "draw_key_checks = row" in _key_checks_notice(row_mode)
    row_mode.engine.dispose()

    role = f"fk_probe_{uuid.uuid4().hex[:8]}"
    with gateway.engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role}")
        conn.commit()
    # the same login, acting as an ordinary role from the start of each connection
    as_role = settings.database_url + "?options=" + quote(f"-c role={role}")
    other = Gateway.create(replace(settings, database_url=as_role))
    try:
        notice = _key_checks_notice(other)
        assert f"GRANT SET ON PARAMETER session_replication_role TO {role};" in notice
    finally:
        other.engine.dispose()
        with gateway.engine.connect() as conn:
            conn.exec_driver_sql(f"DROP ROLE {role}")
            conn.commit()


@POSTGRESQL_ONLY
def test_an_ordinary_role_with_the_grant_draws_with_set_checks(gateway, settings, monkeypatch):
    """The production set-up of docs/deploy.md: no superuser, only GRANT SET ON PARAMETER."""
    from dataclasses import replace
    from urllib.parse import quote

    from gateway.core import Gateway
    from gateway.draw import service as draws
    from tests.drawdb import COUNTY, build_directory, freeze_and_seed

    build_directory(gateway)
    draw_id = freeze_and_seed(gateway, published_plan(gateway))
    role = f"fk_app_{uuid.uuid4().hex[:8]}"
    with gateway.engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role}")
        conn.exec_driver_sql(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        conn.exec_driver_sql(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}")
        conn.exec_driver_sql(f"GRANT SET ON PARAMETER session_replication_role TO {role}")
        conn.commit()
    app = Gateway.create(replace(settings, database_url=settings.database_url + "?options=" + quote(f"-c role={role}")))
    copied = []
    real_copy = foreign_keys.copy_checked
    monkeypatch.setattr(foreign_keys, "copy_checked", lambda *a, **k: copied.append(a[1]) or real_copy(*a, **k))
    try:
        with app.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT current_user, current_setting('is_superuser')").one() == (role, "off")
        drawn = draws.run_and_record_failure(app, COUNTY, draw_id)
        assert drawn.status == "drawn" and drawn.task_count > 0
        assert copied == ["tasks", "task_members"]
        assert _count(gateway, Task) == drawn.task_count
    finally:
        app.engine.dispose()
        with gateway.engine.connect() as conn:
            conn.exec_driver_sql(f"REVOKE SET ON PARAMETER session_replication_role FROM {role}")
            conn.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
            conn.exec_driver_sql(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")
            conn.commit()


@POSTGRESQL_ONLY
def test_lookups_apart_run_on_a_connection_of_their_own_and_the_guard_holds_the_targets(gateway, directory, other):
    """The run's reads (the frozen strata, the drawn targets' ids) go beside the writes, on a
    second connection that sees only committed rows; the draw's transaction still holds the
    targets it looked up by the guard."""
    usccs = sorted(directory["targets"])
    with gateway.write() as session:
        _ids, tasks, _members = _rows(session, directory)
        with bulk.working(session, read_apart=True) as worker:
            assert worker.reads_apart
            writer = worker.submit(_backend).result()
            assert worker.read(_backend).result() not in (writer, None)
            assert list(worker.lookup_ids(usccs, probe=True).result()) == [directory["targets"][u] for u in usccs]
            worker.insert("tasks", TASK_COLUMNS, tasks).result()
            # the reading connection does not see the draw's own uncommitted rows
            assert worker.read(lambda c: c.exec_driver_sql("SELECT count(*) FROM tasks").scalar_one()).result() == 0
        _assert_guarded(other, directory["targets"][usccs[0]])
    assert _count(gateway, Task) == len(tasks)


@POSTGRESQL_ONLY
def test_a_delete_under_way_is_waited_for_before_a_lookup_apart(gateway, directory, other):
    usccs = sorted(directory["targets"])
    other.exec_driver_sql("DELETE FROM targets WHERE id = %s", (directory["targets"][usccs[0]],))
    with gateway.write() as session, pytest.raises(KeyError, match=usccs[0]):
        with bulk.working(session, read_apart=True) as worker:
            writer = worker.submit(_backend).result()
            found = worker.lookup_ids(usccs, probe=True)
            # the guard, taken by the draw's transaction first
            assert _lock_waited_for(other, writer, found) == "advisory"
            found.result()  # then read apart, after the delete: the target is missing


@POSTGRESQL_ONLY
def test_without_the_guard_lookups_apart_lock_on_the_draws_own_connection(gateway, directory, other, guard_disabled):
    usccs = sorted(directory["targets"])
    with gateway.write() as session:
        with bulk.working(session, read_apart=True) as worker:
            assert list(worker.lookup_ids(usccs, probe=True).result()) == [directory["targets"][u] for u in usccs]
        for uscc in usccs:
            _assert_locked(other, "targets", directory["targets"][uscc])


@POSTGRESQL_ONLY
def test_a_session_on_a_connection_reads_on_that_connection(gateway, directory):
    """A session bound to a connection may hold rows no other connection sees: no reads apart."""
    with gateway.engine.connect() as conn, Session(bind=conn) as session:
        with bulk.working(session, read_apart=True) as worker:
            assert not worker.reads_apart
            assert worker.read(_backend).result() == _backend(conn)
        conn.rollback()


@POSTGRESQL_ONLY
def test_reads_apart_never_wait_for_the_pool(gateway):
    """Requests waiting on the draw's locks may hold every pooled connection (ten requests to run
    one draw at once did): the reading connection is not taken from the pool."""
    engine = make_engine(gateway.engine.url.render_as_string(hide_password=False),
                         pool_size=1, max_overflow=0, pool_timeout=1)
    try:
        with Session(engine) as session, bulk.working(session, read_apart=True) as worker:
            assert worker.reads_apart  # the session holds the pool's only connection
            assert worker.read(_backend).result() != worker.submit(_backend).result()
    finally:
        engine.dispose()
