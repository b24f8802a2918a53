"""PostgreSQL: a pass claims through one connection it holds and records wholly delivered batches
through another, in autocommit (one statement, one round trip each); what a lost lease protects
still holds on that path; and a pass after the database dropped every connection connects afresh.

Times are the test's clock, never the wall clock."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, event, select, text

from gateway.sync.models import OutboxRecord
from tests.sync.world import build_results_world

POSTGRESQL_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def stored_once(platform, n: int) -> bool:
    report = platform.control.received()
    return report["totals"]["stored"] == n and all(r["accepted"] == 1 for r in report["records"])


@POSTGRESQL_ONLY
def test_a_pass_takes_two_connections_and_records_delivered_batches_in_autocommit(gateway, platform, make_worker):
    build_results_world(gateway, 30).publish()
    worker = make_worker(batch_size=10)
    checkouts: list[int] = []
    finishes: list[bool] = []

    def checked_out(dbapi_connection, *_args):
        checkouts.append(id(dbapi_connection))

    def executing(conn, _cursor, statement, *_args):
        if "UPDATE outbox SET state = 'delivered'" in statement:
            finishes.append(conn.connection.driver_connection.autocommit)

    event.listen(gateway.engine.pool, "checkout", checked_out)
    event.listen(gateway.engine, "before_cursor_execute", executing)
    try:
        tally = worker.run_pass()
    finally:
        event.remove(gateway.engine.pool, "checkout", checked_out)
        event.remove(gateway.engine, "before_cursor_execute", executing)
    assert tally.batches == 3 and tally.delivered == 30
    # Three batches, each claimed (a transaction) and recorded (one statement): two checkouts in all.
    assert len(checkouts) == 2
    assert finishes == [True, True, True]
    with gateway.read() as session:
        rows = session.execute(select(OutboxRecord.state, OutboxRecord.lease_owner, OutboxRecord.receipt)).all()
    assert {(state, owner) for state, owner, _ in rows} == {("delivered", None)}
    assert all(receipt["outcome"] == "accepted" for _, _, receipt in rows)
    assert stored_once(platform, 30)


@POSTGRESQL_ONLY
def test_an_autocommit_finish_leaves_rows_another_worker_took_over_alone(gateway, platform, make_worker, clock):
    build_results_world(gateway, 10).publish()
    first, second = make_worker(batch_size=10), make_worker(batch_size=10)
    held = first.claim("result", clock.now)
    answer = first.send(held)
    # The first worker's answer comes back after its lease expired and the second took the batch.
    clock.advance(gateway.settings.sync_lease_seconds + 1)
    taken = second.claim("result", clock.now)
    assert taken.ids == held.ids and taken.key == held.key
    with gateway.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        late = first.finish(held, answer, conn)
        assert late.lost_leases == 10 and late.delivered == 0
        with gateway.read() as session:
            assert set(session.scalars(select(OutboxRecord.lease_owner))) == {second.name}
        done = second.finish(taken, second.send(taken), conn)
    assert done.delivered == 10 and done.replayed == 1
    assert stored_once(platform, 10)


@POSTGRESQL_ONLY
def test_a_pass_after_the_database_dropped_every_connection_connects_afresh(gateway, platform, make_worker):
    world = build_results_world(gateway, 20)
    world.publish(world.task_ids[:10])
    worker = make_worker(batch_size=10)
    assert worker.run_pass().delivered == 10
    world.publish(world.task_ids[10:])
    # A restart as the worker sees it: every connection its pool keeps is gone (ended from a
    # connection of another engine; other tests' connections to this database are left alone).
    kept = [gateway.engine.connect() for _ in range(gateway.engine.pool.checkedin())]
    pids = [conn.scalar(text("SELECT pg_backend_pid()")) for conn in kept]
    for conn in kept:
        conn.close()
    other = create_engine(gateway.settings.database_url)
    with other.connect() as conn:
        ended = conn.execute(text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS INTEGER[])) AS pid"),
                             {"pids": pids}).scalars().all()
    other.dispose()
    assert ended and all(ended)
    assert worker.run_pass().delivered == 10
    assert stored_once(platform, 20)


@POSTGRESQL_ONLY
def test_a_claim_whose_connection_the_server_ended_fails_as_the_loop_expects(gateway, platform, make_worker, clock):
    """The claim's statements run on the driver's cursor; a connection lost under them is still
    invalidated and reported as SQLAlchemy's OperationalError, which the worker's loop retries."""
    from sqlalchemy.exc import OperationalError

    build_results_world(gateway, 10).publish()
    worker = make_worker(batch_size=10)
    held = gateway.engine.connect()
    pid = held.scalar(text("SELECT pg_backend_pid()"))
    held.commit()
    other = create_engine(gateway.settings.database_url)
    with other.connect() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()
    with pytest.raises(OperationalError) as failed:
        worker.claim("result", clock.now, held)
    assert failed.value.connection_invalidated and held.invalidated
    held.close()
    with gateway.engine.connect() as fresh:
        assert len(worker.claim("result", clock.now, fresh).ids) == 10
