"""Several workers at once: PostgreSQL's FOR UPDATE SKIP LOCKED hands each worker different rows;
and a worker running its loop delivers what was published while the platform was down, once it is
back, without anyone doing anything."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from gateway.config import Settings
from gateway.core import Gateway
from gateway.sync.client import PlatformClient
from gateway.sync.models import OutboxRecord
from gateway.sync.worker import Worker, _due
from tests.sync.world import build_results_world, claim_without_waiting

POSTGRESQL_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def states(gateway) -> dict[str, int]:
    with gateway.read() as session:
        out: dict[str, int] = {}
        for state in session.scalars(select(OutboxRecord.state)):
            out[state] = out.get(state, 0) + 1
        return out


def wait_for(condition, timeout: float = 30.0, step: float = 0.02) -> None:
    """Poll ``condition`` until it holds (a bound on a hang, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(step)


@POSTGRESQL_ONLY
def test_skip_locked_gives_a_second_worker_other_rows_without_waiting(gateway, platform, make_worker, clock):
    world = build_results_world(gateway, 30)
    world.publish()
    first, second = make_worker(batch_size=10), make_worker(batch_size=10)
    holder = gateway.writer_sessions()
    try:
        # The first worker is in the middle of its claim: ten rows locked, not yet committed.
        locked = {row.id for row in first._select(holder, _due("result", clock.now), limit=10)}
        batch = claim_without_waiting(second, clock.now)
        assert len(batch.ids) == 10 and not set(batch.ids) & locked
    finally:
        holder.rollback()
        holder.close()


@POSTGRESQL_ONLY
def test_four_workers_share_the_rows_and_send_each_once(gateway, platform, clock):
    world = build_results_world(gateway, 80)
    world.publish()
    engines = []
    workers = []
    for n in range(4):
        # One gateway (engine, pool) per worker, as separate processes would have.
        gw = Gateway.create(Settings(**{**gateway.settings.__dict__}))
        engines.append(gw)
        workers.append(Worker(gw, PlatformClient.from_settings(gw.settings), batch_size=5, clock=clock,
                              name=f"worker-{n}"))
    start = threading.Barrier(4)
    results: dict[str, object] = {}

    def go(worker):
        start.wait()
        results[worker.name] = worker.run(once=True)

    threads = [threading.Thread(target=go, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert states(gateway) == {"delivered": 80}
    assert sum(r.delivered for r in results.values()) == 80
    report = platform.control.received()
    # No row was sent by two workers: every record reached the platform exactly once.
    assert report["totals"]["received"] == 80 and report["totals"]["duplicate"] == 0
    assert all(r["accepted"] == 1 for r in report["records"])
    for gw in engines:
        gw.dispose()


def test_a_result_published_while_the_platform_is_down_arrives_when_it_is_back(gateway, platform):
    fast = Settings(**{**gateway.settings.__dict__, "sync_backoff_base": 0.02, "sync_backoff_max": 0.2,
                       "sync_poll_seconds": 0.05})
    gw = Gateway.create(fast)
    platform.control.set_faults({"errors": {"rates": {"503": 1.0}}})
    worker = Worker(gw, PlatformClient.from_settings(fast))
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        world = build_results_world(gateway, 2)
        world.publish()

        def failed_often() -> bool:
            with gateway.read() as session:
                return min(session.scalars(select(OutboxRecord.attempts)), default=0) >= 3

        wait_for(failed_often)
        assert states(gateway) in ({"pending": 2}, {"pending": 1, "in_flight": 1}, {"in_flight": 2})
        platform.control.clear_faults()   # the platform is back; nobody touches the gateway
        wait_for(lambda: states(gateway) == {"delivered": 2})
    finally:
        worker.stop()
        thread.join(timeout=20)
        gw.dispose()
    assert not thread.is_alive()
    report = platform.control.received()
    assert report["totals"]["stored"] == 2 and all(r["accepted"] == 1 for r in report["records"])
