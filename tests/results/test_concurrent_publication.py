"""Two requests changing one result's state at once: exactly one wins (row lock on PostgreSQL, the
write lock taken at BEGIN on SQLite), so a result is published, and audited, once."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from gateway.api.errors import status_of
from gateway.errors import DomainError
from gateway.results import service
from gateway.security.audit import AuditEntry
from gateway.sync.models import OutboxRecord


def _race(world, call, n=6):
    barrier = threading.Barrier(n)
    outcomes: list[object] = []
    lock = threading.Lock()

    def one():
        barrier.wait()
        try:
            with world.gateway.write() as session:
                call(session)
            outcome = "ok"
        except DomainError as exc:
            outcome = status_of(exc)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_concurrent_publication_publishes_once(world):
    result_id = world.record("oil")
    world.review(result_id, "commerce")
    head = world.head("commerce")
    outcomes = _race(world, lambda s: service.publish_result(world.gateway, s, head, result_id, today=world.today))
    assert sorted(outcomes, key=str) == [409] * 5 + ["ok"]
    with world.gateway.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "results.publish")) == 1
        assert session.scalar(select(func.count()).select_from(OutboxRecord)) == 1


def test_concurrent_review_reviews_once(world):
    result_id = world.record("oil")
    head = world.head("commerce")
    outcomes = _race(world, lambda s: service.review_result(world.gateway, s, head, result_id, True))
    assert sorted(outcomes, key=str) == [409] * 5 + ["ok"]
