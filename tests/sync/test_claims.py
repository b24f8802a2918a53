"""How workers claim batches: a batch refused with 429 (or any retryable answer) is resent whole,
under its key, however many workers are claiming; workers take disjoint rows; a batch whose lease
expired is taken over whole. On SQLite and PostgreSQL (where several workers claim at once, one
worker's claim in progress holds its batch's first row locked).

Times are the test's clock, never the wall clock."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import and_, select

from gateway.sync.models import OutboxRecord
from gateway.sync.worker import Worker, _due, _head_of_its_batch
from tests.sync.world import build_results_world, claim_without_waiting

POSTGRESQL_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def keys(gateway) -> dict[int, str | None]:
    with gateway.read() as session:
        return dict(session.execute(select(OutboxRecord.id, OutboxRecord.batch_key)).all())


def refuse_next_push_with_429(platform, retry_after: int = 5) -> None:
    platform.control.set_faults({"targeted": [{"fault": "burst", "times": 1, "retry_after": retry_after}]})


def test_a_batch_refused_with_429_is_resent_whole_under_its_key(gateway, platform, make_worker, clock):
    build_results_world(gateway, 25).publish()
    worker = make_worker(batch_size=10)
    refuse_next_push_with_429(platform, retry_after=5)
    refused = worker.claim("result", clock.now)
    answer = worker.send(refused)
    assert answer.http_status == 429
    tally = worker.finish(refused, answer)
    assert tally.retried == 10
    assert {keys(gateway)[i] for i in refused.ids} == {refused.key}
    assert worker.paused_for() == 5
    # Rows claimed meanwhile form a full batch of their own.
    fresh = worker.claim("result", clock.now)
    assert len(fresh.ids) == 10 and not set(fresh.ids) & set(refused.ids)
    clock.advance(5)
    worker.finish(fresh, worker.send(fresh))
    again = worker.claim("result", clock.now)
    # The retry is the same full batch: same rows, same bytes, same Idempotency-Key.
    assert again.ids == refused.ids and again.key == refused.key and again.body == refused.body
    assert again.resend
    assert worker.finish(again, worker.send(again)).delivered == 10
    assert worker.run(once=True).delivered == 5
    report = platform.control.received()
    assert report["totals"]["stored"] == 25 and all(r["accepted"] == 1 for r in report["records"])
    batches = [c for c in platform.control.requests() if c["path"].endswith("/batch")]
    assert [c["status"] for c in batches] == [429, 200, 200, 200]


def test_after_a_429_the_pass_sends_nothing_more_and_every_batch_stays_full(gateway, platform, make_worker, clock):
    build_results_world(gateway, 30).publish()
    worker = make_worker(batch_size=10)
    refuse_next_push_with_429(platform, retry_after=1)
    tally = worker.run(once=True)
    # The platform asked to wait: the pass claimed nothing more (a batch already claimed while the
    # refused one was on the wire waits out the Retry-After before it goes) and the other rows stay
    # unclaimed in the outbox, not held under a lease.
    assert tally.retried == 10 and tally.delivered in (0, 10)
    with gateway.read() as session:
        assert set(session.scalars(select(OutboxRecord.state))) == {"pending", "delivered"} - (
            set() if tally.delivered else {"delivered"})
    clock.advance(1)
    assert worker.run(once=True).delivered == 30 - tally.delivered
    batches = [c for c in platform.control.requests() if c["path"].endswith("/batch")]
    # ⌈30 / 10⌉ answered requests and the one 429: every batch went full, the retry included.
    assert [c["status"] for c in batches] == [429, 200, 200, 200]
    assert all(len(json.loads(c["body"])["records"]) == 10 for c in batches)


def test_two_workers_claim_disjoint_rows_and_an_expired_lease_is_taken_over_whole(
        gateway, platform, make_worker, clock):
    build_results_world(gateway, 30).publish()
    first, second = make_worker(batch_size=10), make_worker(batch_size=10)
    held = first.claim("result", clock.now)
    other = second.claim("result", clock.now)
    assert len(held.ids) == len(other.ids) == 10 and not set(held.ids) & set(other.ids)
    second.finish(other, second.send(other))
    # The first worker dies holding its batch; once the lease expires, the second takes it whole.
    clock.advance(gateway.settings.sync_lease_seconds + 1)
    taken = second.claim("result", clock.now)
    assert taken.ids == held.ids and taken.key == held.key and taken.resend
    assert second.finish(taken, second.send(taken)).delivered == 10
    # The first worker's late answer records nothing: the rows are no longer its own.
    late = first.finish(held, first.send(held))
    assert late.lost_leases == 10 and late.delivered == 0
    assert second.run(once=True).delivered == 10
    report = platform.control.received()
    assert report["totals"]["stored"] == 30 and all(r["accepted"] == 1 for r in report["records"])


@POSTGRESQL_ONLY
def test_a_second_worker_does_not_split_a_batch_waiting_for_its_resend(gateway, platform, make_worker, clock):
    build_results_world(gateway, 30).publish()
    first, second = make_worker(batch_size=10), make_worker(batch_size=10)
    refuse_next_push_with_429(platform, retry_after=1)
    refused = first.claim("result", clock.now)
    first.finish(refused, first.send(refused))
    clock.advance(1)
    holder = gateway.writer_sessions()
    try:
        # The first worker is in the middle of claiming the batch again: it holds the batch's first
        # row locked. The second worker must neither wait nor take the rest of that batch.
        due = and_(_due("result", clock.now), _head_of_its_batch())
        [head] = first._select(holder, due, limit=1)
        assert head.id == refused.ids[0] and head.batch_key == refused.key
        fresh = claim_without_waiting(second, clock.now)
        assert len(fresh.ids) == 10 and not set(fresh.ids) & set(refused.ids)
        assert {keys(gateway)[i] for i in refused.ids} == {refused.key}
    finally:
        holder.rollback()
        holder.close()
    again = first.claim("result", clock.now)
    assert again.ids == refused.ids and again.key == refused.key
    second.finish(fresh, second.send(fresh))
    first.finish(again, first.send(again))
    assert first.run(once=True).delivered == 10
    report = platform.control.received()
    assert report["totals"]["stored"] == 30 and all(r["accepted"] == 1 for r in report["records"])


def test_the_loop_survives_the_database_going_away_between_passes(gateway, platform, make_worker, clock):
    from sqlalchemy.exc import OperationalError

    build_results_world(gateway, 5).publish()
    worker = make_worker(batch_size=10)
    calls = {"n": 0}
    real = worker.check_deadlines

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # after the first pass: the database restarts
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        return real(*args, **kwargs)

    worker.check_deadlines = flaky
    done = worker.run(max_passes=2)
    assert calls["n"] >= 2 and done.delivered == 5
    with gateway.read() as session:
        assert set(session.scalars(select(OutboxRecord.state))) == {"delivered"}


def test_a_delivered_batch_is_finished_in_one_statement_and_claims_read_the_waiting_rows_index(
        gateway, platform, make_worker, clock):
    """PostgreSQL finishes a wholly delivered batch in one UPDATE (SQLite: the general path), and a
    claim's plan reads the waiting rows in id order through ix_outbox_waiting."""
    from sqlalchemy import event

    build_results_world(gateway, 30).publish()
    worker = make_worker(batch_size=10)
    batch = worker.claim("result", clock.now)
    answer = worker.send(batch)
    statements: list[str] = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement.split()[0])  # noqa: E731
    event.listen(gateway.engine, "before_cursor_execute", listener)
    try:
        tally = worker.finish(batch, answer)
    finally:
        event.remove(gateway.engine, "before_cursor_execute", listener)
    assert tally.delivered == 10 and tally.lost_leases == 0
    with gateway.read() as s:
        done = s.execute(select(OutboxRecord.state, OutboxRecord.receipt, OutboxRecord.lease_owner,
                                OutboxRecord.batch_key, OutboxRecord.id).where(OutboxRecord.id.in_(batch.ids))).all()
    assert {(state, owner, key) for state, _r, owner, key, _id in done} == {("delivered", None, None)}
    assert all(r["outcome"] == "accepted" and r["receipt"].startswith("HA") for _s, r, _o, _k, _id in done)
    # The receipt each row keeps is the one the general path makes, whichever side builds it.
    results = dict(zip(batch.ids, answer.body["results"]))
    assert {row_id: r for _s, r, _o, _k, row_id in done} == {
        row_id: Worker._receipt(answer.body, outcome, answer.replayed) for row_id, outcome in results.items()}
    if gateway.engine.dialect.name == "postgresql":
        assert statements == ["WITH"]  # one statement: the UPDATE, in a WITH that counts what it finished
        with gateway.engine.connect() as conn:  # a table the planner believes large, as a kept outbox is
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = "\n".join(r[0] for r in conn.exec_driver_sql(
                "EXPLAIN SELECT id FROM outbox WHERE kind = 'result' AND state = 'pending' ORDER BY id LIMIT 10"))
        assert "ix_outbox_waiting" in plan
    else:
        assert "SELECT" in statements and "UPDATE" in statements


def test_a_claim_looks_above_the_pass_last_claimed_row_first_then_at_every_row(gateway, platform, make_worker, clock):
    build_results_world(gateway, 30).publish()
    worker = make_worker(batch_size=10)
    ids = sorted(keys(gateway))
    assert worker.claim("result", clock.now).ids == ids[:10]
    above = worker.claim("result", clock.now, after=ids[19])
    assert above.ids == ids[20:]
    # Nothing is due above the last claimed row: the rows below it that are still due come next.
    assert worker.claim("result", clock.now, after=ids[-1]).ids == ids[10:20]
    assert worker.claim("result", clock.now, after=ids[-1]) is None
    assert worker.run(once=True).delivered == 0  # every row is held under this worker's leases
