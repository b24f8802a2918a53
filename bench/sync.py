"""Soak test and benchmark of the platform sync.

    python bench/sync.py [--records 10000] [--db postgresql|sqlite|both] [--workers 4] [--kills 3]

1. Publishes N inspection results through the real results workflow (record, review, publish by the
   lead department), each publication writing its outbox row in the same transaction.
2. Starts the standalone mock platform (``python -m mock_platform``) with faults: 30 % 5xx, 5 %
   requests hanging past the workers' read timeout (processed, answer never sent), 5 % dropped
   connections (processed, answer lost) and bursts of 429 with Retry-After.
3. Starts the workers as separate processes (``shuangsui sync run``; four on PostgreSQL, one on
   SQLite), SIGKILLs each at random moments ``--kills`` times and restarts it, until every record is
   delivered.
4. Compares the platform's control counts with the database: ``lost`` are published results the
   platform does not hold, ``duplicates`` records it stored more than once.
5. Measures, in the same run, one worker without faults against a bare loop of signed batch POSTs
   of the same records (both on a fresh platform), and the CPU each spent per batch: the workers,
   their PostgreSQL backends and the platform against the bare loop's client and the platform (on a
   machine with no idle core the ratio follows those sums).

The last line is ``delivered=N lost=L duplicates=D rate=R records/s`` (with ``--db both``, the
PostgreSQL run's). ``tests/sync/test_soak.py`` runs a short version of the same soak.

Other runs (docs/sync.md section 5):

    python bench/sync.py --compare-only --db postgresql --records 5000 --scale 4 --latency-ms 0,150
    python bench/sync.py --compare-only --db postgresql --records 3000 --latency-ms none --rate-limited 3000
    python bench/sync.py --records 600 --workers 2 --kills 1 --db-restarts 3

``--compare-only``: no faults, one worker against the bare loop and ``--scale`` workers against one,
at each platform latency, beside ``--scale`` bare loops at once (the mock platform's own ceiling:
four workers cannot go faster than the platform serves); ``--rate-limited N``: N records, two workers, the platform at 2 requests a
second in bursts of 1, the requests counted; ``--db-restarts N``: the soak on a private throwaway
PostgreSQL cluster (``bench.common.PrivateCluster``, port ``--private-port``) crashed and started
again N times mid-sync. Each prints the workflow's steps (record, review, publish, the outbox row:
time and statements per result) and the load average. Benchmark databases on the shared server are
named ``$SHUANGSUI_BENCH_DB_PREFIX<name>_…`` (default ``bench_``).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, func, select, update  # noqa: E402

from bench.common import (  # noqa: E402
    PrivateCluster,
    drop_postgresql,
    fresh_postgresql,
    fresh_sqlite,
    pg_available,
)

SHUANGSUI = str(Path(sys.executable).parent / "shuangsui")
# Seconds after a measurement's requeue at which its rows fall due (more than the requeue's VACUUM
# and the workers' idle poll take).
REQUEUE_DUE_IN = 1.0


@dataclass
class SoakConfig:
    records: int = 10_000
    workers: int = 4
    kills_per_worker: int = 3
    batch_size: int = 100
    seed: int = 20261127
    connect_timeout: float = 1.0
    read_timeout: float = 2.0
    lease_seconds: int = 6
    kill_interval: tuple[float, float] = (0.5, 3.0)
    # Kill a worker only while it holds leased rows (certainly mid-batch), not at any moment.
    kill_mid_batch: bool = False
    # At most this many SIGKILLs in all (None: kills_per_worker for every worker).
    max_kills: int | None = None
    backoff_base: float = 0.2
    backoff_max: float = 3.0
    retry_after_max: float = 2.0
    poll_seconds: float = 0.2
    faults: dict[str, Any] = field(default_factory=lambda: {
        "errors": {"rates": {"500": 0.10, "502": 0.05, "503": 0.10, "504": 0.05}, "phase": "before"},
        "hangs": {"rate": 0.05, "seconds": 4.0, "phase": "after"},
        "drops": {"rate": 0.05, "phase": "after"},
        "bursts": {"every": 40, "length": 4, "retry_after": 1},
    })
    timeout: float = 1800.0


def log(message: str) -> None:
    print(message, flush=True)


# --- the records ----------------------------------------------------------------------------------

def publish_results(url: str, instance: Path, n: int) -> dict[str, Any]:
    """N published results (real workflow) on the database at ``url``; returns the record ids."""
    from gateway.config import Settings
    from gateway.core import Gateway
    from gateway.sync.models import OutboxRecord
    from tests.sync import world as world_module
    from tests.sync.world import build_results_world

    gateway = Gateway.create(Settings(instance_path=instance, database_url=url, secret_key="bench"))
    gateway.sync_registry()
    started = time.perf_counter()
    world = build_results_world(gateway, n)
    built = time.perf_counter() - started
    # Where the time goes: each step of the workflow timed around the service call, the outbox row
    # (inside the publication) on its own, and the statements each sends (the commits, every 250
    # results, are the rest).
    steps = {"record_result": 0.0, "review_result": 0.0, "publish_result": 0.0, "enqueue": 0.0}
    statements = dict.fromkeys(steps, 0)
    stack: list[str] = []
    originals = {name: getattr(world_module.service, name) for name in steps}

    def timed(name):
        def call(*args, **kwargs):
            stack.append(name)
            t0 = time.perf_counter()
            try:
                return originals[name](*args, **kwargs)
            finally:
                steps[name] += time.perf_counter() - t0
                stack.pop()
        return call

    def count(*_args):
        if stack:
            statements[stack[-1]] += 1

    for name in steps:
        setattr(world_module.service, name, timed(name))
    event.listen(gateway.engine, "before_cursor_execute", count)
    try:
        t0 = time.perf_counter()
        world.publish(per_transaction=250)
        workflow = time.perf_counter() - t0
    finally:
        event.remove(gateway.engine, "before_cursor_execute", count)
        for name, function in originals.items():
            setattr(world_module.service, name, function)
    elapsed = time.perf_counter() - started
    with gateway.read() as session:
        ids = list(session.scalars(select(OutboxRecord.record_id).where(OutboxRecord.kind == "result")))
    gateway.dispose()
    steps["publish_result"] -= steps["enqueue"]  # the publication's own work, without its outbox row
    per = max(n, 1)

    def step(label: str, name: str) -> str:
        return f"{label} {steps[name]:.1f} s ({steps[name] / per * 1000:.1f} ms, {statements[name] / per:.0f} statements)"

    log(f"  publishing {n} results: targets and tasks {built:.1f} s; per result: {step('record', 'record_result')}, "
        f"{step('review', 'review_result')}, {step('publish', 'publish_result')}, {step('outbox enqueue', 'enqueue')}; "
        f"commits {workflow - sum(steps.values()):.1f} s ({workflow / per * 1000:.1f} ms per result in all; "
        f"load average {load_average()})")
    return {"record_ids": ids, "seconds": elapsed, "steps": steps}


def worker_env(url: str, instance: Path, platform_url: str, config: SoakConfig) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHUANGSUI_")}
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    env.update({
        "SHUANGSUI_DATABASE_URL": url,
        "SHUANGSUI_INSTANCE_PATH": str(instance),
        "SHUANGSUI_PLATFORM_URL": platform_url,
        "SHUANGSUI_PLATFORM_ACCESS_KEY": "mock-access-key",
        "SHUANGSUI_PLATFORM_SECRET": "mock-secret",
        "SHUANGSUI_SYNC_BATCH_SIZE": str(config.batch_size),
        "SHUANGSUI_SYNC_CONNECT_TIMEOUT": str(config.connect_timeout),
        "SHUANGSUI_SYNC_READ_TIMEOUT": str(config.read_timeout),
        "SHUANGSUI_SYNC_LEASE_SECONDS": str(config.lease_seconds),
        "SHUANGSUI_SYNC_BACKOFF_BASE": str(config.backoff_base),
        "SHUANGSUI_SYNC_BACKOFF_MAX": str(config.backoff_max),
        "SHUANGSUI_SYNC_RETRY_AFTER_MAX": str(config.retry_after_max),
        "SHUANGSUI_SYNC_POLL_SECONDS": str(config.poll_seconds),
    })
    return env


class WorkerProcess:
    """One ``shuangsui sync run`` child; its log goes to a file."""

    def __init__(self, index: int, env: dict[str, str], folder: Path):
        self.index = index
        self.env = env
        self.log_path = folder / f"worker-{index}.log"
        self.kills = 0
        self.starts = 0
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.starts += 1
        log_file = self.log_path.open("ab")
        self.process = subprocess.Popen([SHUANGSUI, "sync", "run"], env=self.env, stdout=log_file,
                                        stderr=subprocess.STDOUT)
        log_file.close()

    def kill_and_restart(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1
        self.start()

    def stop(self, engine=None, timeout: float = 30.0) -> int | None:
        """SIGTERM (the worker finishes its batch and unregisters), then wait. A worker restarted a
        moment ago may still be importing, before its SIGTERM handler exists: with ``engine``, wait
        (at most ``timeout``) until it has registered, so the signal finds the handler."""
        if self.process is None:
            return None
        deadline = time.monotonic() + timeout
        while engine is not None and self.process.poll() is None and time.monotonic() < deadline \
                and not surviving(registered_pid, engine, self.process.pid):
            time.sleep(0.05)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def outbox_counts(engine) -> dict[str, int]:
    from gateway.sync.models import OutboxRecord

    with engine.connect() as conn:
        return dict(conn.execute(select(OutboxRecord.state, func.count()).group_by(OutboxRecord.state)).all())


def holds_leases(engine, pid: int) -> bool:
    """Whether the worker process ``pid`` holds leased rows right now (it is inside a batch)."""
    from gateway.sync.models import OutboxRecord

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(OutboxRecord).where(
            OutboxRecord.state == "in_flight", OutboxRecord.lease_owner.like(f"%:{pid}:%"))).scalar_one() > 0


def registered_pid(engine, pid: int) -> bool:
    """Whether the worker process ``pid`` has registered (it is past its start-up)."""
    from gateway.sync.models import SyncWorker

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(SyncWorker).where(SyncWorker.pid == pid)).scalar_one() > 0


def waiting_rows(engine) -> int:
    """Rows pending or in flight (read through the partial index of the waiting rows)."""
    from gateway.sync.models import OutboxRecord

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(OutboxRecord)
                            .where(OutboxRecord.state.in_(("pending", "in_flight")))).scalar_one()


def registered_workers(engine) -> int:
    from gateway.sync.models import SyncWorker

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(SyncWorker)).scalar_one()


def surviving(call, *args, timeout: float = 120.0):
    """``call(*args)``, retried while the database is away (a restart): the supervisor survives it."""
    from sqlalchemy.exc import OperationalError

    deadline = time.monotonic() + timeout
    while True:
        try:
            return call(*args)
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _process_cpu(pid: int) -> float:
    """CPU seconds (user and system) process ``pid`` has used, 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(url: str, worker_pids: list[int], platform_pid: int | None,
                since: dict[str, Any] | None = None, engine=None) -> dict[str, Any]:
    """CPU seconds of the worker processes, of the PostgreSQL backends serving ``url``'s database
    (a server on this machine: client backends, not the supervisor's own through ``engine``, nor
    autovacuum's) and of the platform; with ``since``, what was spent after it."""
    import sqlalchemy as sa

    backends: dict[int, float] = {}
    if url.startswith("postgresql"):
        with engine.connect() as conn:
            pids = conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")).scalars().all()
        backends = {pid: _process_cpu(pid) for pid in pids}
    now = {"workers": sum(_process_cpu(pid) for pid in worker_pids), "backends": backends,
           "platform": _process_cpu(platform_pid) if platform_pid else 0.0}
    if since is None:
        return now
    return {"workers": now["workers"] - since["workers"], "platform": now["platform"] - since["platform"],
            "database": sum(cpu - since["backends"].get(pid, 0.0) for pid, cpu in backends.items())}


def cpu_line(cpu: dict[str, float] | None, batches: int) -> str:
    """CPU milliseconds per batch of each process group (``cpu`` from :func:`cpu_seconds` with ``since``)."""
    if not cpu:
        return ""
    per = 1000 / max(batches, 1)
    parts = [f"{label} {cpu[key] * per:.1f} ms" for key, label in
             (("client", "bare-loop client"), ("workers", "workers"), ("database", "their PostgreSQL"),
              ("platform", "platform")) if key in cpu]
    return "CPU per batch: " + ", ".join(parts)


def deliver_with_workers(url: str, instance: Path, platform_url: str, config: SoakConfig, n: int,
                         kills: bool, workers: int, folder: Path, requeue: bool = False,
                         cluster=None, db_restarts: int = 0, platform_pid: int | None = None) -> dict[str, Any]:
    """Run ``workers`` worker processes until ``n`` rows are delivered or dead; SIGKILL them at
    random moments if ``kills``. Returns the elapsed time and what happened.

    ``requeue``: start the workers on an empty queue, wait until they are up, then put every row
    back in the queue and start the clock (a rate without process start-up); the run then ends at
    the last row's ``delivered_at``, not at the supervisor's next look, and the CPU seconds that the
    workers, their PostgreSQL backends and the platform spent are measured."""
    from gateway.db import make_engine, utcnow
    from gateway.sync.models import OutboxRecord

    rng = random.Random(config.seed)
    engine = make_engine(url)
    env = worker_env(url, instance, platform_url, config)
    started = time.perf_counter()
    children = [WorkerProcess(i, env, folder) for i in range(workers)]
    if requeue:
        while surviving(registered_workers, engine) < workers:
            if any(c.process.poll() is not None for c in children):
                raise RuntimeError(f"a worker exited at start; see {children[0].log_path}")
            time.sleep(0.05)
        # The rows fall due a moment after the requeue and its VACUUM (not while it runs), and the
        # clock starts at the first claim: a rate from the first claim to the last delivery, as the
        # bare loop's runs from its first POST to its last answer, without the moment the worker
        # notices rows due (its next idle poll, up to --poll-seconds later: a tenth of a 5,000-record run).
        started_utc = utcnow() + timedelta(seconds=REQUEUE_DUE_IN)
        requeue_everything(url, due_at=started_utc)
        started = time.perf_counter() + (started_utc - utcnow()).total_seconds()
        cpu_before = cpu_seconds(url, [c.process.pid for c in children], platform_pid, engine=engine)
    wanted_kills = config.kills_per_worker * workers if kills else 0
    if config.max_kills is not None:
        wanted_kills = min(wanted_kills, config.max_kills)
    next_kill = started + rng.uniform(*config.kill_interval)
    done_at = None
    counts: dict[str, int] = {}
    # Restart the database (a crash: immediate shutdown, then start) as the delivered count passes
    # 1/(N+1), 2/(N+1), ... of the records.
    restart_marks = [n * (k + 1) // (db_restarts + 1) for k in range(db_restarts)]
    restarts: list[float] = []
    cpu = None
    first_claim = None
    try:
        while time.perf_counter() - started < config.timeout:
            if not (kills or db_restarts):  # a clean run: only whether rows still wait (a small index)
                if surviving(waiting_rows, engine) == 0:
                    done_at = time.perf_counter()
                    break
                time.sleep(0.25)
                continue
            counts = surviving(outbox_counts, engine)
            if counts.get("delivered", 0) + counts.get("dead", 0) >= n:
                done_at = time.perf_counter()
                break
            if restart_marks and counts.get("delivered", 0) >= restart_marks[0]:
                restart_marks.pop(0)
                down = rng.uniform(0.5, 2.0)
                log(f"  database restart {len(restarts) + 1}/{db_restarts} at {counts.get('delivered', 0)} delivered "
                    f"(immediate shutdown, {down:.1f} s down)")
                cluster.stop("immediate")
                time.sleep(down)
                cluster.start()
                restarts.append(down)
            now = time.perf_counter()
            if wanted_kills and now >= next_kill:
                candidates = [c for c in children if c.kills < config.kills_per_worker]
                if candidates:
                    victim = rng.choice(candidates)
                    if not config.kill_mid_batch or surviving(holds_leases, engine, victim.process.pid):
                        victim.kill_and_restart()
                        wanted_kills -= 1
                        next_kill = now + rng.uniform(*config.kill_interval)
                else:
                    next_kill = now + rng.uniform(*config.kill_interval)
            for child in children:  # a worker that exited on its own is a failure of the soak
                if child.process.poll() is not None:
                    raise RuntimeError(f"worker {child.index} exited with {child.process.returncode}; "
                                       f"see {child.log_path}")
            time.sleep(0.05)
        if requeue and done_at is not None:
            cpu = cpu_seconds(url, [c.process.pid for c in children], platform_pid, since=cpu_before, engine=engine)
            with engine.connect() as conn:
                first, last = conn.execute(select(func.min(OutboxRecord.last_attempt_at),
                                                  func.max(OutboxRecord.delivered_at))).one()
            first_claim = (first - started_utc).total_seconds()
            started += first_claim
            done_at = started + (last - first).total_seconds()
    finally:
        codes = [c.stop(engine) for c in children]
        engine.dispose()
    if done_at is None:
        raise RuntimeError(f"not delivered within {config.timeout} s: {counts}")
    return {"seconds": done_at - started, "cpu": cpu if requeue else None, "first_claim": first_claim, "counts": outbox_counts(make_engine(url)),
            "kills": sum(c.kills for c in children), "exit_codes": codes, "db_restarts": len(restarts),
            "worker_starts": sum(c.starts for c in children),
            "logs": [str(c.log_path) for c in children]}


def platform_comparison(platform, url: str, record_ids: list[str]) -> dict[str, Any]:
    """The platform's control counts against the database."""
    from gateway.db import make_engine
    from gateway.sync.models import OutboxRecord

    report = platform.control.received("inspection-results")
    per_id = {r["id"]: r for r in report["records"]}
    stored = {i for i, r in per_id.items() if r["stored"]}
    engine = make_engine(url)
    with engine.connect() as conn:
        delivered_rows = set(conn.execute(select(OutboxRecord.record_id).where(
            OutboxRecord.state == "delivered", OutboxRecord.kind == "result")).scalars())
        receipts = dict(conn.execute(select(OutboxRecord.record_id, OutboxRecord.receipt).where(
            OutboxRecord.kind == "result")).all())
    engine.dispose()
    published = set(record_ids)
    held = {r["id"]: r["receipt"] for r in _list_all(platform, "inspection-results")}
    receipt_mismatch = sum(1 for i in published & set(held)
                           if (receipts.get(i) or {}).get("receipt") not in (held[i], None))
    return {
        "published": len(published),
        "delivered": len(published & stored),
        "lost": len(published - stored),
        "duplicates": sum(1 for i in published if per_id.get(i, {}).get("accepted", 0) > 1),
        "conflicts": sum(per_id.get(i, {}).get("conflict", 0) for i in published),
        "db_delivered": len(delivered_rows),
        "db_says_delivered_but_missing": len(delivered_rows - stored),
        "receipt_mismatch": receipt_mismatch,
        "platform_totals": report["totals"],
    }


def _list_all(platform, segment: str) -> list[dict[str, Any]]:
    session = platform.session()
    items, after = [], 0
    while after is not None:
        answer = session.get(platform.url(f"/api/v1/{segment}"), params={"after": after, "limit": 1000}, timeout=30)
        if answer.status_code == 429:  # a rate-limited platform: the list waits its turn too
            time.sleep(float(answer.headers.get("Retry-After", "1")))
            continue
        page = answer.json()
        items += page["items"]
        after = page["next_after"]
    return items


def requeue_everything(url: str, limit: int | None = None, due_at: datetime | None = None) -> None:
    """Put every row (``limit``: the first ``limit``) back to pending (a new generation, so nothing
    is answered from old keys), due at once or at ``due_at``."""
    from gateway.db import make_engine, utcnow
    from gateway.sync.models import OutboxRecord

    engine = make_engine(url)
    with engine.begin() as conn:
        stmt = update(OutboxRecord)
        if limit is not None:
            stmt = stmt.where(OutboxRecord.id.in_(select(OutboxRecord.id).order_by(OutboxRecord.id).limit(limit)
                                                  .scalar_subquery()))
        conn.execute(stmt.values(
            state="pending", next_attempt_at=due_at or utcnow(), batch_key=None, receipt=None, delivered_at=None,
            lease_owner=None, lease_expires_at=None, generation=OutboxRecord.generation + 1, attempts=0))
    if engine.dialect.name == "postgresql":
        # The requeue left a dead version of every row; a queue does not work that way (a row is
        # claimed and finished once), so the next measurement does not pay for this one's garbage.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE outbox")
    engine.dispose()


def bare_loop(url: str, platform, batch_size: int, clients: int = 1, cpu: dict[str, float] | None = None) -> float:
    """Seconds to POST the same payloads in signed batches, one after another, no bookkeeping;
    ``clients`` > 1: that many processes at once, each on its share of the batches (the mock
    platform's own ceiling: what it serves when nothing on the sending side limits it). ``cpu``
    (one client): filled with the CPU seconds of the client and of the platform."""
    from gateway.db import make_engine
    from gateway.sync.models import OutboxRecord

    engine = make_engine(url)
    with engine.connect() as conn:
        payloads = list(conn.execute(select(OutboxRecord.payload).where(OutboxRecord.kind == "result")
                                     .order_by(OutboxRecord.id)).scalars())
    engine.dispose()
    bodies = [payloads[start:start + batch_size] for start in range(0, len(payloads), batch_size)]
    if clients == 1:
        platform_before, client_before = _process_cpu(platform.process.pid), time.process_time()
        started = time.perf_counter()
        _post_all(platform, bodies)
        elapsed = time.perf_counter() - started
        if cpu is not None:
            cpu.update(client=time.process_time() - client_before,
                       platform=_process_cpu(platform.process.pid) - platform_before)
        return elapsed
    import multiprocessing

    context = multiprocessing.get_context("fork")
    ready = context.Barrier(clients + 1)
    children = [context.Process(target=_post_share, args=(platform, bodies[i::clients], ready)) for i in range(clients)]
    for child in children:
        child.start()
    ready.wait()
    started = time.perf_counter()
    for child in children:
        child.join()
    if any(child.exitcode for child in children):
        raise RuntimeError("a bare-loop client failed")
    return time.perf_counter() - started


def _post_share(platform, batches: list[list[dict[str, Any]]], ready) -> None:
    ready.wait()
    _post_all(platform, batches)


def _post_all(platform, batches: list[list[dict[str, Any]]]) -> None:
    """Each batch's body built and POSTed, signed, one after another (429: wait its Retry-After)."""
    from gateway.sync.client import batch_body

    session = platform.session()
    for records in batches:
        body = batch_body(records)
        while True:
            answer = session.post(platform.url("/api/v1/inspection-results/batch"), data=body, timeout=30,
                                  headers={"Content-Type": "application/json"})
            if answer.status_code == 429:
                time.sleep(float(answer.headers.get("Retry-After", "1")))
                continue
            answer.raise_for_status()
            break


def run_soak(url: str, config: SoakConfig, folder: Path, *, compare: bool = True, cluster=None,
             db_restarts: int = 0) -> dict[str, Any]:
    """The whole soak on the database at ``url`` (migrated, empty)."""
    from mock_platform.server_process import ServerPlatform

    instance = folder / "instance"
    is_sqlite = url.startswith("sqlite")
    workers = 1 if is_sqlite else config.workers
    log(f"publishing {config.records} results through the results workflow ...")
    published = publish_results(url, instance, config.records)
    log(f"  published in {published['seconds']:.1f} s")
    out: dict[str, Any] = {"database": "SQLite" if is_sqlite else "PostgreSQL", "workers": workers}
    with ServerPlatform() as platform:
        platform.control.set_faults({"seed": config.seed, **config.faults})
        log(f"soak: {workers} worker(s), faults {json.dumps(config.faults)}, "
            f"{config.kills_per_worker} SIGKILL(s) per worker")
        soak = deliver_with_workers(url, instance, platform.base_url, config, config.records, True, workers, folder,
                                    cluster=cluster, db_restarts=db_restarts)
        platform.control.clear_faults()
        comparison = platform_comparison(platform, url, published["record_ids"])
        faults = sum(1 for r in platform.control.requests() if r["fault"] and not r["fault"].startswith("latency"))
        out.update(soak=soak, comparison=comparison, faults_injected=faults,
                   rate=config.records / soak["seconds"])
        log(f"  {soak['kills']} SIGKILLs, {soak['db_restarts']} database restarts (worker processes started: "
            f"{soak['worker_starts']}, exit codes at the end {soak['exit_codes']}), {faults} injected faults, {comparison['platform_totals']['requests']} "
            f"requests ({comparison['platform_totals']['replayed']} answered from Idempotency-Key), "
            f"{soak['seconds']:.1f} s")
        log(f"  database: {comparison['db_delivered']} delivered; platform: {comparison['delivered']} stored "
            f"of {comparison['published']} published; conflicts {comparison['conflicts']}, "
            f"delivered-but-missing {comparison['db_says_delivered_but_missing']}, "
            f"receipt mismatches {comparison['receipt_mismatch']}")
        if compare:
            platform.control.reset()
            clean = deliver_with_workers(url, instance, platform.base_url, config, config.records, False, 1, folder,
                                         requeue=True, platform_pid=platform.process.pid)
            platform.control.reset()
            bare_cpu: dict[str, float] = {}
            bare = bare_loop(url, platform, config.batch_size, cpu=bare_cpu)
            out["no_faults_one_worker_rate"] = config.records / clean["seconds"]
            out["bare_loop_rate"] = config.records / bare
            log(f"no faults, 1 worker: {out['no_faults_one_worker_rate']:.0f} records/s; bare loop of signed batch "
                f"POSTs: {out['bare_loop_rate']:.0f} records/s (worker at "
                f"{out['no_faults_one_worker_rate'] / out['bare_loop_rate']:.0%} of the bare loop)")
            batches = -(-config.records // config.batch_size)
            log(f"  worker: {cpu_line(clean['cpu'], batches)}; bare loop: {cpu_line(bare_cpu, batches)}")
    c = out["comparison"]
    out["summary"] = (f"delivered={c['delivered']} lost={c['lost']} duplicates={c['duplicates']} "
                      f"rate={out['rate']:.0f} records/s")
    return out


def run_compare(url: str, config: SoakConfig, folder: Path, *, scale_workers: int = 0,
                latencies: tuple[int, ...] = (0,), rate_limit_records: int = 0) -> dict[str, Any]:
    """Without faults: one worker against the bare loop of signed batch POSTs, and ``scale_workers``
    workers against one, for each platform latency in ``latencies`` (ms added to every request, as a
    remote platform would); then, with ``rate_limit_records``, the rate-limited run. Every
    measurement on a freshly reset platform, the same published records requeued."""
    from mock_platform.server_process import ServerPlatform

    instance = folder / "instance"
    log(f"publishing {config.records} results through the results workflow ...")
    published = publish_results(url, instance, config.records)
    log(f"  published in {published['seconds']:.1f} s")
    out: dict[str, Any] = {"database": "SQLite" if url.startswith("sqlite") else "PostgreSQL", "runs": []}
    n = config.records
    with ServerPlatform() as platform:
        # A first delivery builds the payloads (built once, then kept), as in production.
        first = deliver_with_workers(url, instance, platform.base_url, config, n, False, 1, folder)
        log(f"first delivery, 1 worker (payloads built on claim): {n / first['seconds']:.0f} records/s")
        for latency in latencies:
            faults = {"latency_ms": latency} if latency else None
            platform.control.reset()
            if faults:
                platform.control.set_faults(faults)
            clean = deliver_with_workers(url, instance, platform.base_url, config, n, False, 1, folder, requeue=True,
                                         platform_pid=platform.process.pid)
            one_requests = platform_requests(platform)
            platform.control.reset()
            if faults:
                platform.control.set_faults(faults)
            bare_cpu: dict[str, float] = {}
            bare = bare_loop(url, platform, config.batch_size, cpu=bare_cpu)
            run = {"latency_ms": latency, "one_worker_rate": n / clean["seconds"], "bare_loop_rate": n / bare,
                   "one_worker_requests": one_requests}
            log(f"latency {latency} ms, no faults: 1 worker {run['one_worker_rate']:.0f} records/s "
                f"({sum(one_requests.values())} requests; first claim {clean['first_claim'] * 1000:.0f} ms after "
                f"the rows fell due, not counted); bare loop of signed batch POSTs "
                f"{run['bare_loop_rate']:.0f} records/s; worker/bare = {run['one_worker_rate'] / run['bare_loop_rate']:.2f} "
                f"(load average {load_average()}; {server_horizon(url)})")
            batches = -(-n // config.batch_size)
            log(f"  1 worker: {cpu_line(clean['cpu'], batches)}; bare loop: {cpu_line(bare_cpu, batches)}")
            if scale_workers > 1:
                platform.control.reset()
                if faults:
                    platform.control.set_faults(faults)
                run["ceiling_rate"] = n / bare_loop(url, platform, config.batch_size, clients=scale_workers)
                log(f"latency {latency} ms: {scale_workers} bare loops at once (the mock platform's ceiling) "
                    f"{run['ceiling_rate']:.0f} records/s = {run['ceiling_rate'] / run['bare_loop_rate']:.2f}x one "
                    f"bare loop (load average {load_average()})")
                platform.control.reset()
                if faults:
                    platform.control.set_faults(faults)
                many = deliver_with_workers(url, instance, platform.base_url, config, n, False, scale_workers,
                                            folder, requeue=True, platform_pid=platform.process.pid)
                comparison = platform_comparison(platform, url, published["record_ids"])
                run["many_workers_rate"] = n / many["seconds"]
                log(f"latency {latency} ms, no faults: {scale_workers} workers {run['many_workers_rate']:.0f} records/s "
                    f"= {run['many_workers_rate'] / run['one_worker_rate']:.2f}x 1 worker; lost={comparison['lost']} "
                    f"duplicates={comparison['duplicates']} (load average {load_average()}; {server_horizon(url)})")
                log(f"  {scale_workers} workers: {cpu_line(many['cpu'], batches)}")
            out["runs"].append(run)
    if rate_limit_records:
        out["rate_limited"] = run_rate_limited(url, instance, config, folder, rate_limit_records,
                                               published["record_ids"])
    return out


def run_rate_limited(url: str, instance: Path, config: SoakConfig, folder: Path, records: int,
                     record_ids: list[str], workers: int = 2, rate: float = 2, burst: int = 1) -> dict[str, Any]:
    """``records`` of the published rows through ``workers`` workers against a platform limiting
    the key to ``rate`` requests a second in bursts of ``burst``: how many requests it took."""
    from gateway.db import make_engine
    from gateway.sync.models import OutboxRecord
    from mock_platform.server_process import ServerPlatform

    requeue_everything(url, limit=records)
    engine = make_engine(url)
    with engine.connect() as conn:  # the requeued rows: the fresh platform must hold exactly these
        record_ids = list(conn.execute(select(OutboxRecord.record_id).order_by(OutboxRecord.id)
                                       .limit(records)).scalars())
    engine.dispose()
    wanted = -(-records // config.batch_size)
    with ServerPlatform(extra_args=["--rate", str(rate), "--burst", str(burst)]) as platform:
        result = deliver_with_workers(url, instance, platform.base_url, config, total_rows(url), False, workers,
                                      folder)
        counts = platform_requests(platform)
        comparison = platform_comparison(platform, url, record_ids)
    limited = counts.get("429", 0)
    others = sum(counts.values()) - limited
    line = (f"rate limit {rate:g}/s burst {burst}, {records} records, {workers} workers: {sum(counts.values())} "
            f"batch requests = {others} answered + {limited} refused with 429 (aim: answered <= 1.2 x "
            f"{wanted} = {1.2 * wanted:.0f}); {records / result['seconds']:.1f} records/s; lost={comparison['lost']} "
            f"duplicates={comparison['duplicates']}")
    log(line)
    return {"requests": counts, "answered": others, "limited": limited, "ideal": wanted,
            "lost": comparison["lost"], "duplicates": comparison["duplicates"]}


def total_rows(url: str) -> int:
    from gateway.db import make_engine
    from gateway.sync.models import OutboxRecord

    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(OutboxRecord)).scalar_one()
    engine.dispose()
    return n


def platform_requests(platform) -> dict[str, int]:
    """Push requests the platform saw since its last reset, by HTTP status."""
    counts: dict[str, int] = {}
    for entry in platform.control.requests():
        if entry.get("path", "").endswith("/batch"):
            status = str(entry.get("status"))
            counts[status] = counts.get(status, 0) + 1
    return counts


def server_horizon(url: str) -> str:
    """How old the server's oldest open transaction is, in any database. While it is open, no row
    version made after it started can be removed, by VACUUM or by index scans marking dead entries:
    every requeue and every delivery leaves versions that later claims and finishes walk past."""
    if not url.startswith("postgresql"):
        return "SQLite"
    from gateway.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            age = conn.exec_driver_sql(
                "SELECT COALESCE(EXTRACT(EPOCH FROM max(now() - xact_start)), 0) FROM pg_stat_activity "
                "WHERE (backend_xid IS NOT NULL OR backend_xmin IS NOT NULL) AND pid <> pg_backend_pid()").scalar_one()
            dead = conn.exec_driver_sql(
                "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'outbox'").scalar()
    finally:
        engine.dispose()
    return f"oldest open transaction on the server {float(age):.0f} s, outbox dead row versions {dead}"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--db", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--workers", type=int, default=4, help="workers on PostgreSQL (SQLite always runs one)")
    parser.add_argument("--kills", type=int, default=3, help="SIGKILLs per worker")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--no-compare", action="store_true", help="skip the no-fault and bare-loop rates")
    parser.add_argument("--compare-only", action="store_true",
                        help="no soak: one worker against the bare loop, and --scale workers against one")
    parser.add_argument("--scale", type=int, default=0, help="with --compare-only: also this many workers")
    parser.add_argument("--latency-ms", default="0",
                        help="with --compare-only: platform latencies to measure at, comma-separated (e.g. 0,150; "
                             "'none': no rate measurement)")
    parser.add_argument("--rate-limited", type=int, default=0, metavar="N",
                        help="with --compare-only: then N records, 2 workers, platform --rate 2 --burst 1")
    parser.add_argument("--db-restarts", type=int, default=0, metavar="N",
                        help="PostgreSQL soak on a private throwaway cluster (port --private-port) restarted N "
                             "times mid-sync (immediate shutdown); never the shared cluster")
    parser.add_argument("--private-port", type=int, default=5499)
    args = parser.parse_args()
    if args.db_restarts:
        config = SoakConfig(records=args.records, workers=args.workers, kills_per_worker=args.kills,
                            batch_size=args.batch_size, seed=args.seed)
        with PrivateCluster(port=args.private_port) as cluster, \
                tempfile.TemporaryDirectory(prefix="sync-soak-restarts-") as tmp:
            url = cluster.database("sync_soak")
            log(f"== postgresql (private cluster on port {args.private_port}), {args.db_restarts} restarts ==")
            result = run_soak(url, config, Path(tmp), compare=False, cluster=cluster, db_restarts=args.db_restarts)
            log(f"{result['database']}, {result['workers']} worker(s): {result['summary']}")
            print(result["summary"], flush=True)
        return
    if args.compare_only:
        config = SoakConfig(records=args.records, batch_size=args.batch_size, seed=args.seed)
        with tempfile.TemporaryDirectory(prefix="sync-compare-") as tmp:
            url = fresh_postgresql("sync_compare") if args.db != "sqlite" else fresh_sqlite(Path(tmp), "compare")
            try:
                run_compare(url, config, Path(tmp), scale_workers=args.scale,
                            latencies=tuple(int(x) for x in args.latency_ms.split(",") if x.strip().isdigit()),
                            rate_limit_records=args.rate_limited)
            finally:
                if args.db != "sqlite":
                    drop_postgresql(url)
        return
    config = SoakConfig(records=args.records, workers=args.workers, kills_per_worker=args.kills,
                        batch_size=args.batch_size, seed=args.seed)
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if "postgresql" in databases and not pg_available():
        raise SystemExit("PostgreSQL is not reachable (SHUANGSUI_TEST_PG_URL)")
    summaries = []
    for kind in databases:
        with tempfile.TemporaryDirectory(prefix=f"sync-soak-{kind}-") as tmp:
            folder = Path(tmp)
            url = fresh_sqlite(folder, "soak") if kind == "sqlite" else fresh_postgresql("sync_soak")
            try:
                log(f"== {kind} ==")
                result = run_soak(url, config, folder, compare=not args.no_compare)
                summaries.append(result["summary"])
                log(f"{result['database']}, {result['workers']} worker(s): {result['summary']}")
            finally:
                if kind == "postgresql":
                    drop_postgresql(url)
    print(summaries[-1], flush=True)


if __name__ == "__main__":
    main()
