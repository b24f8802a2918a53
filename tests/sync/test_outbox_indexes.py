"""The outbox keeps every delivered row for good; what operators and workers ask of it reads only
the rows still waiting or dead, through the partial indexes (migration 0033_outbox_indexes), on
SQLite and PostgreSQL."""
from __future__ import annotations

import re

from sqlalchemy import event, update

from gateway.sync.models import OutboxRecord
from gateway.sync.status import dead_letters, deadline_alert
from tests.sync.world import build_results_world


def _plans_of_outbox_reads(gateway, call) -> list[str]:
    captured: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if re.search(r"\bFROM outbox\b", statement):
            captured.append((statement, parameters))

    event.listen(gateway.engine, "before_cursor_execute", keep)
    try:
        with gateway.read() as session:
            call(session)
    finally:
        event.remove(gateway.engine, "before_cursor_execute", keep)
    plans = []
    with gateway.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if not sqlite:
            conn.exec_driver_sql("SET enable_seqscan = off")  # the test's outbox is small; a province's is not
        for statement, parameters in captured:
            rows = conn.exec_driver_sql(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement, parameters)
            plans.append("\n".join(str(r[-1]) for r in rows))
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
