"""The sync worker against the mock platform (in process), on SQLite and PostgreSQL.

Records are published through the real services (plans through the planning service, results
through the results workflow), so each publication writes its outbox row as in production.
Times are the test's clock (``clock``), never the wall clock.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from gateway.directory.models import Target
from gateway.results.models import InspectionResult
from gateway.sync.backoff import Backoff
from gateway.sync.models import OutboxRecord, SyncWorker
from gateway.sync.outbox import enqueue
from gateway.sync.worker import SingleWorkerError
from tests.drawdb import published_plan
from tests.sync.world import build_results_world


def rows(gateway) -> list[OutboxRecord]:
    with gateway.read() as session:
        found = list(session.scalars(select(OutboxRecord).order_by(OutboxRecord.id)))
        session.expunge_all()
        return found


def by_id(gateway, record_id: str) -> OutboxRecord:
    with gateway.read() as session:
        found = session.scalar(select(OutboxRecord).where(OutboxRecord.record_id == record_id))
        session.expunge_all()
        return found


def per_record(platform) -> dict[str, dict]:
    return {r["id"]: r for r in platform.control.received()["records"]}


def test_published_plans_arrive_once_with_the_platforms_receipts(gateway, platform, make_worker):
    plan_ids = [published_plan(gateway) for _ in range(3)]
    totals = make_worker().run(once=True)
    assert (totals.delivered, totals.dead, totals.batches) == (3, 0, 1)
    stored = {r["id"]: r for r in platform.session().get(platform.url("/api/v1/plans")).json()["items"]}
    for row, plan_id in zip(rows(gateway), plan_ids):
        assert row.record_id == f"410823-plan-{plan_id}"
        assert row.state == "delivered" and row.attempts == 1 and row.batch_key is None
        assert row.receipt["outcome"] == "accepted"
        assert row.receipt["receipt"] == stored[row.record_id]["receipt"]
        assert stored[row.record_id]["record"]["plan_number"] == row.payload["plan_number"]
    assert all(r["accepted"] == 1 and r["received"] == 1 for r in per_record(platform).values())
    # Nothing left: a second pass sends nothing.
    assert make_worker().run(once=True).batches == 0


def test_a_rejected_record_is_dead_lettered_without_holding_back_its_batch(gateway, platform, make_worker):
    world = build_results_world(gateway, 6, bad_uscc_every=3)
    world.publish()
    totals = make_worker().run(once=True)
    assert (totals.batches, totals.delivered, totals.dead) == (1, 4, 2)
    dead = [r for r in rows(gateway) if r.state == "dead"]
    assert len(dead) == 2
    for row in dead:
        assert row.last_outcome == "rejected"
        assert row.field_errors["errors"] == [
            {"field": "uscc", "code": "invalid_uscc", "message": "统一社会信用代码校验位不正确"}]
        assert "统一社会信用代码校验位不正确" in row.last_error
    received = per_record(platform)
    assert sum(1 for r in received.values() if r["stored"]) == 4
    assert all(received[r.record_id]["rejected"] == 1 and not received[r.record_id]["stored"] for r in dead)


def test_after_correction_a_dead_letter_resent_with_a_rebuilt_payload_is_accepted_once(
        gateway, platform, make_worker, client_as):
    world = build_results_world(gateway, 3, bad_uscc_every=3)
    world.publish()
    make_worker().run(once=True)
    [dead] = [r for r in rows(gateway) if r.state == "dead"]
    office = client_as("county_office")

    listed = office.get("/api/v1/sync/dead-letters").json
    assert listed["total"] == 1
    assert listed["items"][0]["errors"][0]["code"] == "invalid_uscc"

    # Resending the same content is refused again by the platform: the entity must be corrected.
    assert office.post(f"/api/v1/sync/records/{dead.record_id}/resend", json={}).status_code == 200
    make_worker().run(once=True)
    assert by_id(gateway, dead.record_id).state == "dead"

    # The directory's USCC is corrected; the operator resends with a rebuilt payload.
    good = world.usccs[world.task_ids[2]][:-1]
    with gateway.write() as session:
        from gateway.demo.generate import make_uscc
        fixed = make_uscc("enterprise", 50_000 + 2)
        assert fixed[:-1] == good
        session.execute(update(Target).where(Target.uscc == world.usccs[world.task_ids[2]]).values(uscc=fixed))
    answer = office.post(f"/api/v1/sync/records/{dead.record_id}/resend", json={"rebuild": True})
    assert answer.status_code == 200, answer.json
    assert answer.json["payload_changed"] is True and answer.json["state"] == "pending"
    assert answer.json["payload"]["uscc"] == fixed

    totals = make_worker().run(once=True)
    assert totals.delivered == 1
    row = by_id(gateway, dead.record_id)
    assert row.state == "delivered" and row.payload["uscc"] == fixed and row.generation == 2
    record = per_record(platform)[dead.record_id]
    assert (record["rejected"], record["accepted"], record["stored"]) == (2, 1, True)
    # A delivered record cannot be resent.
    again = office.post(f"/api/v1/sync/records/{dead.record_id}/resend", json={"rebuild": True})
    assert again.status_code == 409 and again.json["code"] == "already_delivered"


def test_platform_errors_are_retried_with_growing_full_jitter_backoff(gateway, platform, make_worker, clock):
    published_plan(gateway)
    platform.control.set_faults({"seed": 1, "errors": {"rates": {"503": 1.0}}})
    worker = make_worker()
    backoff = Backoff(base=1.0, cap=60.0)
    for attempt in range(1, 6):
        worker.run(once=True)
        [row] = rows(gateway)
        assert row.state == "pending" and row.attempts == attempt
        assert row.last_outcome == "http_503" and "503" in row.last_error
        delay = (row.next_attempt_at - clock.now).total_seconds()
        assert 0 <= delay <= backoff.ceiling(attempt)
        # Not due yet: a pass sends nothing.
        if delay > 0.001:
            assert worker.run(once=True).batches == 0
        clock.advance(delay + 0.001)
    platform.control.clear_faults()
    assert worker.run(once=True).delivered == 1
    assert rows(gateway)[0].state == "delivered"
    assert per_record(platform)[rows(gateway)[0].record_id]["accepted"] == 1


def test_the_ceiling_doubles_up_to_the_cap_and_the_delay_is_drawn_below_it():
    import random

    backoff = Backoff(base=2.0, cap=100.0, retry_after_cap=30.0)
    assert [backoff.ceiling(n) for n in range(1, 9)] == [2, 4, 8, 16, 32, 64, 100, 100]
    rng = random.Random(5)
    delays = [backoff.delay(6, rng=rng) for _ in range(200)]
    assert all(0 <= d <= 64 for d in delays) and max(delays) > 32 and min(delays) < 8
    assert backoff.delay(3, retry_after=12) == 12
    assert backoff.delay(3, retry_after=3600) == 30


def test_retry_after_is_honoured_up_to_the_cap(gateway, platform, make_worker, clock):
    published_plan(gateway)
    worker = make_worker()
    platform.control.set_faults({"bursts": {"every": 1, "length": 1, "retry_after": 7}})
    worker.run(once=True)
    [row] = rows(gateway)
    assert row.last_outcome == "rate_limited"
    assert row.next_attempt_at - clock.now == timedelta(seconds=7)
    clock.advance(7)
    platform.control.set_faults({"bursts": {"every": 1, "length": 1, "retry_after": 3600}})
    worker.run(once=True)
    [row] = rows(gateway)
    assert row.next_attempt_at - clock.now == timedelta(seconds=gateway.settings.sync_retry_after_max)
    clock.advance(gateway.settings.sync_retry_after_max)
    platform.control.clear_faults()
    assert worker.run(once=True).delivered == 1


@pytest.mark.parametrize("fault", [
    {"drops": {"rate": 1.0, "phase": "after"}},
    {"hangs": {"rate": 1.0, "seconds": 5, "phase": "after"}},
    {"errors": {"rates": {"502": 1.0}, "phase": "after"}},
])
def test_a_lost_answer_is_resent_with_the_same_ids_and_key_and_stored_once(
        gateway, platform, make_worker, clock, fault):
    for _ in range(3):
        published_plan(gateway)
    worker = make_worker()
    platform.control.set_faults({"seed": 3, **fault})
    worker.run(once=True)
    waiting = rows(gateway)
    assert {r.state for r in waiting} == {"pending"}
    key = waiting[0].batch_key
    assert key and {r.batch_key for r in waiting} == {key}
    assert waiting[0].last_outcome in ("connection_error", "timeout", "http_502")
    # The platform stored them although the answer was lost.
    assert platform.control.received()["totals"]["stored"] == 3

    platform.control.clear_faults()
    clock.advance(3600)
    totals = worker.run(once=True)
    assert totals.delivered == 3 and totals.replayed == 1
    sent = [r for r in platform.control.requests() if r["path"] == "/api/v1/plans/batch"]
    assert [r["idempotency_key"] for r in sent] == [key, key]
    assert sent[1]["replayed"] is True
    assert all(r["accepted"] == 1 and r["received"] == 1 for r in per_record(platform).values())
    assert {r.receipt["outcome"] for r in rows(gateway)} == {"accepted"}


def test_a_killed_worker_leaves_a_lease_that_expires_and_another_worker_finishes_the_batch(
        gateway, platform, make_worker, clock):
    for _ in range(4):
        published_plan(gateway)
    victim = make_worker(name="victim:1:a")
    victim.register()
    batch = victim.claim("plan", clock.now)
    victim.send(batch)  # the platform stores the batch; the worker dies before recording anything
    assert {r.state for r in rows(gateway)} == {"in_flight"}
    assert {r.lease_owner for r in rows(gateway)} == {"victim:1:a"}

    heir = make_worker(name="heir:2:b")
    if gateway.engine.dialect.name == "sqlite":
        with pytest.raises(SingleWorkerError, match="SQLite 数据库只允许一个同步进程"):
            heir.run(once=True)
    else:
        # Another worker may run at once, but the rows are leased: nothing to take yet.
        assert heir.run(once=True).batches == 0
    clock.advance(gateway.settings.sync_lease_seconds + 1)
    totals = heir.run(once=True)
    assert totals.delivered == 4 and totals.replayed == 1
    assert {r.state for r in rows(gateway)} == {"delivered"}
    assert all(r["accepted"] == 1 for r in per_record(platform).values())
    sent = [r["idempotency_key"] for r in platform.control.requests() if r["path"].endswith("/batch")]
    assert sent == [batch.key, batch.key]
    # The victim's late answer would touch nothing: it no longer holds the rows.
    from gateway.sync.client import PushAnswer

    late = victim.finish(batch, PushAnswer("transient", 503, "service_unavailable", "x"))
    assert late.lost_leases == 4 and {r.state for r in rows(gateway)} == {"delivered"}


def test_sqlite_allows_one_worker_postgresql_many(gateway, platform, make_worker):
    first = make_worker()
    first.register()
    second = make_worker()
    if gateway.engine.dialect.name == "sqlite":
        with pytest.raises(SingleWorkerError) as refused:
            second.register()
        assert "已有同步进程在运行" in str(refused.value) and "PostgreSQL" in str(refused.value)
        first.unregister()
        second.register()
    else:
        second.register()
        with gateway.read() as session:
            assert session.query(SyncWorker).count() == 2
    second.unregister()


def test_a_record_that_cannot_be_built_is_dead_lettered_with_the_reason(gateway, platform, make_worker):
    from gateway.planning import service as plans
    from tests.drawdb import COUNTY, plan_body

    with gateway.write() as session:
        draft = plans.create_plan(session, COUNTY, plan_body(gateway), gateway.settings)
        enqueue(session, "plan", draft.id, area_code="410823", department_code=draft.lead_department)
        enqueue(session, "result", 999_999, area_code="410823", department_code="market")
    totals = make_worker().run(once=True)
    assert totals.dead == 2 and totals.batches == 0
    reasons = {r.kind: r.field_errors["errors"][0]["code"] for r in rows(gateway)}
    assert reasons == {"plan": "entity_not_published", "result": "entity_missing"}


def test_a_conflicting_record_on_the_platform_is_dead_lettered(gateway, platform, make_worker):
    plan_id = published_plan(gateway)
    other = published_plan(gateway)
    make_worker().run(once=True)
    # Somebody else pushed different content under the id of a plan we have not sent yet.
    third = published_plan(gateway)
    record = dict(by_id(gateway, f"410823-plan-{other}").payload, id=f"410823-plan-{third}")
    platform.session().post(platform.url("/api/v1/plans/batch"), json={"records": [record]}).raise_for_status()
    totals = make_worker().run(once=True)
    assert totals.dead == 1
    row = by_id(gateway, f"410823-plan-{third}")
    assert row.state == "dead" and row.last_outcome == "conflict"
    assert row.field_errors["errors"][0]["code"] == "record_conflict"
    del plan_id


def test_a_batch_too_large_for_the_platform_is_split(gateway, platform, make_worker):
    for _ in range(5):
        published_plan(gateway)
    platform.control.update_settings(max_batch_records=2)
    worker = make_worker()
    totals = worker.run(once=True)
    assert totals.delivered == 5 and worker.batch_size == 2
    assert all(r["accepted"] == 1 for r in per_record(platform).values())


def test_resend_rules(gateway, platform, make_worker, client_as):
    plan_id = published_plan(gateway)
    record_id = f"410823-plan-{plan_id}"
    office = client_as("county_office")
    # Waiting records may be pushed now, but not rebuilt (the platform might hold them).
    refused = office.post(f"/api/v1/sync/records/{record_id}/resend", json={"rebuild": True})
    assert refused.status_code == 409 and refused.json["code"] == "rebuild_not_allowed"
    assert office.post(f"/api/v1/sync/records/{record_id}/resend", json={}).status_code == 200
    assert office.post("/api/v1/sync/records/410823-plan-0/resend", json={}).status_code == 404
    # Department roles may read their own records, not operate them.
    assert client_as("department_head").post(f"/api/v1/sync/records/{record_id}/resend", json={}).status_code == 403
    assert client_as("public").get("/api/v1/sync/status").status_code == 401
    detail = office.get(f"/api/v1/sync/records/{record_id}").json
    assert detail["generation"] == 1 and detail["last_outcome"] == "resend_requested"


def test_results_published_with_corrections_carry_the_correction(gateway, platform, make_worker):
    world = build_results_world(gateway, 1)
    [result_id] = world.publish()
    from gateway.results import service

    body = world.body(world.task_ids[0])
    body["reason"] = "检查完成日期录入有误"
    with gateway.write() as session:
        correction = service.correct_result(gateway, session, world.recorder(), result_id, body, today=world.today)
        service.review_result(gateway, session, world.head(), correction.id, True, "")
        service.publish_result(gateway, session, world.head(), correction.id, today=world.today)
        correction_id = correction.id
    assert make_worker().run(once=True).delivered == 2
    row = by_id(gateway, f"410823-result-{correction_id}")
    assert row.payload["remarks"].startswith(f"更正记录 410823-result-{result_id}：检查完成日期录入有误")
    with gateway.read() as session:
        assert session.get(InspectionResult, correction_id).supersedes_id == result_id


def test_the_loop_waits_out_a_database_outage(gateway, platform, make_worker, caplog):
    from sqlalchemy.exc import OperationalError

    published_plan(gateway)
    worker = make_worker()
    real, calls = worker.run_pass, []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT", {}, ConnectionError("server closed the connection unexpectedly"))
        return real()

    worker.run_pass = flaky
    totals = worker.run(max_passes=1)
    assert len(calls) == 2 and totals.delivered == 1
    assert any("数据库暂不可用" in r.getMessage() for r in caplog.records)
    # A single pass (--once) does not hide the error.
    calls.clear()
    with pytest.raises(OperationalError):
        worker.run(once=True)


def test_a_record_the_platform_already_holds_comes_back_duplicate_and_counts_as_delivered(
        gateway, platform, make_worker):
    plan_id = published_plan(gateway)
    record_id = f"410823-plan-{plan_id}"
    worker = make_worker()
    worker.register()
    batch = worker.claim("plan", worker.clock())
    worker.unregister()
    # The same content reached the platform another way (an earlier attempt in another batch).
    [payload] = [r.payload for r in rows(gateway)]
    platform.session().post(platform.url("/api/v1/plans/batch"), json={"records": [payload]}).raise_for_status()
    with gateway.write() as session:  # as if the first attempt's batch had been split: no key, due now
        session.execute(update(OutboxRecord).values(state="pending", batch_key=None, lease_owner=None))
    totals = make_worker().run(once=True)
    assert (totals.delivered, totals.duplicates) == (1, 1)
    row = by_id(gateway, record_id)
    assert row.state == "delivered" and row.receipt["outcome"] == "duplicate"
    assert per_record(platform)[record_id]["accepted"] == 1 and per_record(platform)[record_id]["duplicate"] == 1
    assert batch.record_ids == [record_id]
