"""Two gateway processes and two sync workers on one PostgreSQL, sharing the work without conflict.

    python bench/deploy_demo.py [--results 300]

What docs/deploy.md describes, run for real on 127.0.0.1:

1. a fresh PostgreSQL database, migrated; ``--results`` inspection results recorded and reviewed;
2. the standalone mock platform; two gateways (``shuangsui serve``, gunicorn) on two ports; two
   sync workers (``shuangsui sync run``), all separate processes with the same settings;
3. the lead department publishes every result through the API, alternating between the two
   gateways from eight concurrent clients; one result in ten is published through *both* gateways
   at the same moment (only one publication may win);
4. once the workers have delivered everything: each gateway's answers, the outbox, what each worker
   delivered, and what the platform holds.

It ends with ``ok`` when every result was published, has exactly one outbox row (also those
published through both gateways at once), was delivered to the platform exactly once, no request
failed with a 5xx, and both gateways and both workers did part of the work. How each race between
the two gateways ended (one publication and a 409, or both requests answered 200) is reported on
its own line: the outbox and the platform must hold one record either way.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.common import drop_postgresql, fresh_postgresql, pg_available  # noqa: E402
from mock_platform.server_process import ServerPlatform, free_port  # noqa: E402

SHUANGSUI = str(Path(sys.executable).parent / "shuangsui")


def prepare(url: str, instance: Path, n: int):
    """Results recorded and reviewed (ready to publish), and API tokens for the lead's head and the office."""
    from gateway.config import Settings
    from gateway.core import Gateway
    from gateway.results import service
    from gateway.security import accounts
    from gateway.security.principal import SYSTEM
    from tests.sync.world import build_results_world

    gateway = Gateway.create(Settings(instance_path=instance, database_url=url))
    gateway.sync_registry()
    world = build_results_world(gateway, n)
    recorder, head = world.recorder(), world.head()
    body = world.body(world.task_ids[0])
    reviewed = []
    with gateway.write() as session:
        for task_id in world.task_ids:
            result = service.record_result(gateway, session, recorder, task_id, dict(body), today=world.today)
            service.review_result(gateway, session, head, result.id, True, "")
            reviewed.append(result.id)
        _, head_token = accounts.issue_token(session, SYSTEM, "deploy-demo-head", "department_head",
                                             department_code=world.lead, days=1)
        _, office_token = accounts.issue_token(session, SYSTEM, "deploy-demo-office", "county_office", days=1)
    gateway.dispose()
    return reviewed, head_token, office_token


def wait_http(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: process exited with {process.returncode}")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=int, default=300)
    args = parser.parse_args()
    if not pg_available():
        raise SystemExit("PostgreSQL is not reachable (SHUANGSUI_TEST_PG_URL)")
    url = fresh_postgresql("deploy_demo")
    processes: list[subprocess.Popen] = []
    try:
        with tempfile.TemporaryDirectory(prefix="deploy-demo-") as tmp, ServerPlatform() as platform:
            instance = Path(tmp) / "instance"
            reviewed, head_token, office_token = prepare(url, instance, args.results)
            env = {k: v for k, v in os.environ.items() if not k.startswith("SHUANGSUI_")}
            root = str(Path(__file__).resolve().parents[1])
            env.update({
                "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
                "SHUANGSUI_DATABASE_URL": url, "SHUANGSUI_INSTANCE_PATH": str(instance),
                "SHUANGSUI_PLATFORM_URL": platform.base_url, "SHUANGSUI_PLATFORM_ACCESS_KEY": platform.access_key,
                "SHUANGSUI_PLATFORM_SECRET": platform.secret, "SHUANGSUI_SYNC_BATCH_SIZE": "10",
                "SHUANGSUI_SYNC_POLL_SECONDS": "0.2", "SHUANGSUI_RATE_LIMIT_PUBLIC": "0/1",
            })
            ports = [free_port(), free_port()]
            logs = Path(tmp)
            for n, port in enumerate(ports):
                with (logs / f"gateway-{n}.log").open("wb") as out:
                    processes.append(subprocess.Popen(
                        [SHUANGSUI, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                        env=env, stdout=out, stderr=subprocess.STDOUT))
            for n in range(2):
                with (logs / f"worker-{n}.log").open("wb") as out:
                    processes.append(subprocess.Popen([SHUANGSUI, "sync", "run"], env=env, stdout=out,
                                                      stderr=subprocess.STDOUT))
            gateways = [f"http://127.0.0.1:{port}" for port in ports]
            for base, process in zip(gateways, processes):
                wait_http(base + "/api/openapi.json", process)
            print(f"PostgreSQL {url.rsplit('/', 1)[1]}; gateways {', '.join(gateways)}; 2 sync workers; "
                  f"mock platform {platform.base_url}", flush=True)

            headers = {"Authorization": f"Bearer {head_token}"}
            jobs = []
            for k, result_id in enumerate(reviewed):
                jobs.append((gateways[k % 2], result_id))
                if k % 10 == 0:  # the same result through the other gateway at the same time
                    jobs.append((gateways[(k + 1) % 2], result_id))

            def publish(job):
                base, result_id = job
                answer = requests.post(f"{base}/api/v1/results/{result_id}/publish", headers=headers, timeout=60)
                return base, result_id, answer.status_code, (answer.json() or {}).get("code")

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=8) as pool:
                answers = list(pool.map(publish, jobs))
            published_in = time.perf_counter() - started
            by_gateway = Counter((base, status) for base, _, status, _ in answers)
            per_result = Counter(result_id for _, result_id, status, _ in answers if status == 200)
            rivals = Counter(code for _, _, status, code in answers if status != 200)
            raced = [result_id for k, result_id in enumerate(reviewed) if k % 10 == 0]
            both_ok = sum(1 for result_id in raced if per_result[result_id] == 2)

            from gateway.db import make_engine
            from gateway.sync.models import OutboxRecord, SyncWorker

            engine = make_engine(url)
            deadline = time.monotonic() + 300
            workers: dict[str, int] = {}
            while time.monotonic() < deadline:
                with engine.connect() as conn:
                    states = dict(conn.execute(select(OutboxRecord.state, func.count()).group_by(OutboxRecord.state)).all())
                    workers = dict(conn.execute(select(SyncWorker.name, SyncWorker.delivered)).all())
                if states.get("delivered", 0) == len(reviewed) and sum(workers.values()) >= len(reviewed):
                    break
                time.sleep(0.3)
            delivered_in = time.perf_counter() - started
            status = requests.get(gateways[1] + "/api/v1/sync/status",
                                  headers={"Authorization": f"Bearer {office_token}"}, timeout=30).json()
            from gateway.security.audit import AuditEntry

            with engine.connect() as conn:
                rows = conn.execute(select(func.count()).select_from(OutboxRecord)).scalar_one()
                publications = conn.execute(select(func.count()).select_from(AuditEntry)
                                            .where(AuditEntry.action == "results.publish")).scalar_one()
            engine.dispose()
            received = platform.control.received("inspection-results")
            accepted_once = sum(1 for r in received["records"] if r["accepted"] == 1)

            for base in gateways:
                counts = {status: by_gateway[(base, status)] for (b, status) in by_gateway if b == base}
                print(f"gateway {base}: answers {dict(sorted(counts.items()))}")
            print(f"publications: {len(jobs)} requests for {len(reviewed)} results in {published_in:.1f} s; "
                  f"every result published: {len(per_result) == len(reviewed)}")
            print(f"races through both gateways: {len(raced)}; one 200 and a refusal: {len(raced) - both_ok} "
                  f"({dict(rivals)}); both answered 200: {both_ok}")
            if both_ok:
                print("WARNING: a result published through two gateways at the same moment was published by both "
                      "requests (gateway.results.service.publish_result reads the result without locking it); "
                      "the outbox still holds one row per result and the platform one record.")
            print(f"outbox rows: {rows} (audit entries results.publish: {publications}); "
                  f"sync status via the second gateway: {status['counts']}")
            for name, count in sorted(workers.items()):
                print(f"worker {name}: delivered {count}")
            print(f"platform: {received['totals']['stored']} stored, {accepted_once} accepted exactly once, "
                  f"{received['totals']['duplicate']} duplicates; all delivered {delivered_in:.1f} s after the "
                  "first publication")
            ok = (
                len(per_result) == len(reviewed) and not any(s >= 500 for _, _, s, _ in answers)
                and rows == len(reviewed) and status["counts"]["delivered"] == len(reviewed)
                and accepted_once == len(reviewed) and received["totals"]["stored"] == len(reviewed)
                and all(by_gateway[(base, 200)] > 0 for base in gateways)
                and len(workers) == 2 and all(count > 0 for count in workers.values())
            )
            codes = [stop(p) for p in processes]
            processes.clear()
            print(f"stopped (exit codes {codes})")
            print("ok" if ok and all(c == 0 for c in codes) else "FAILED")
            return 0 if ok else 1
    finally:
        for process in processes:
            stop(process)
        drop_postgresql(url)


if __name__ == "__main__":
    sys.exit(main())
