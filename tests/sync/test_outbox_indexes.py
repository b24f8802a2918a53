"""The outbox keeps every delivered row for good; what operators and workers ask of it reads only
the rows still waiting or dead, through the partial indexes (migration 0033_outbox_indexes), on
SQLite and PostgreSQL."""
from __future__ import annotations

import re

from sqlalchemy import update

from gateway.sync.models import OutboxRecord
from gateway.sync.status import dead_letters, deadline_alert
from tests.query_plans import captured, prefer_indexes, query_plan
from tests.sync.world import build_results_world


def _plans_of_outbox_reads(gateway, call) -> list[str]:
    with captured(gateway.engine) as statements, gateway.read() as session:
        call(session)
    with gateway.engine.connect() as conn:
        prefer_indexes(conn)
        plans = [query_plan(conn, statement, parameters) for statement, parameters in statements
                 if re.search(r"\bFROM outbox\b", statement)]
    assert plans
    return plans


def _assert_reads_only(gateway, plan: str, *indexes: str) -> None:
    assert any(index in plan for index in indexes), plan
    if gateway.engine.dialect.name == "sqlite":
        assert not re.search(r"SCAN outbox\b(?! USING)", plan), plan
    else:
        assert "Seq Scan on outbox" not in plan and "outbox_pkey" not in plan, plan


def test_the_deadline_alert_and_dead_letters_read_the_waiting_and_dead_rows_indexes(gateway, make_worker, clock):
    build_results_world(gateway, 30).publish()
    worker = make_worker(batch_size=10)
    worker.finish(batch := worker.claim("result", clock.now), worker.send(batch))
    with gateway.write() as session:
        session.execute(update(OutboxRecord).where(OutboxRecord.id.in_(sorted(batch.ids)[:2])).values(state="dead"))

    with gateway.read() as session:
        letters, total = dead_letters(session, kind="result")
        assert total == 2 and len(letters) == 2
    for plan in _plans_of_outbox_reads(gateway, lambda s: dead_letters(s, kind="result")):
        _assert_reads_only(gateway, plan, "ix_outbox_dead")
    for plan in _plans_of_outbox_reads(gateway, lambda s: deadline_alert(s, gateway.settings)):
        _assert_reads_only(gateway, plan, "ix_outbox_undelivered_due")
