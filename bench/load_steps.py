"""The setup of bench/load.py, run in its own process so that the driver stays small:

    python -m bench.load_steps setup URL INSTANCE FOLDER TARGETS INSPECTORS_PER_DEPARTMENT PUBLISHED SUBMISSIONS

1. the demo directory of TARGETS targets (bench/draw_steps.load: on PostgreSQL then VACUUM ANALYZE
   and CHECKPOINT); TARGETS 0 keeps the directory the database already holds (bench/load.py --url);
2. the demo's draws (``ensure_demo_draw``: last year's joint plan and this year's, published,
   filed, frozen, committed, seeded and drawn);
3. PUBLISHED results recorded by the task's team, reviewed and published by the lead
   department through the results service, so that the home page, the search results and some
   target pages show published results;
4. SUBMISSIONS other drawn tasks of this year's plan, each with an API token of its team's
   leader (one token per inspector) and a complete, valid result body under a fresh idempotency
   key: ``submit.tsv``, one ``path<TAB>token<TAB>JSON`` line per task;
5. ``usccs.txt``: a random sample of the loaded targets' USCCs.

It prints one JSON line: counts and each step's seconds.
"""
from __future__ import annotations

import json
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import object_session

from bench import draw_steps
from gateway.codes.checkins import NON_SITE_METHODS
from gateway.config import Settings
from gateway.core import Gateway
from gateway.demo.codes import confirm_arrival
from gateway.demo.draw import demo_plan_body, ensure_demo_draw
from gateway.directory.models import Inspector, Target
from gateway.results import service
from gateway.results.clock import china_today
from gateway.results.models import InspectionResult
from gateway.results.validation import allowed_methods
from gateway.security import accounts
from gateway.security.principal import SYSTEM, Principal
from gateway.tasks.models import Task
from gateway.testing.world import checklist_values

SECRET = "bench-load"
USCC_SAMPLE = 20_000
SIGNED = {"status": "signed", "signer_name": "周建华", "signer_title": "负责人"}


def bench_gateway(url: str, instance: str) -> Gateway:
    """The gateway the setup writes with: the same settings the served gateway reads."""
    gateway = Gateway.create(Settings(instance_path=Path(instance), database_url=url, secret_key=SECRET))
    gateway.sync_registry()
    return gateway


def free_tasks(gateway: Gateway, year: int) -> list[int]:
    """This year's demo plan's drawn tasks that have no result yet, shuffled (fixed seed)."""
    title = demo_plan_body(gateway, year)["title"]
    from gateway.planning.models import Plan

    with gateway.read() as session:
        plan_id = session.scalar(select(Plan.id).where(Plan.title == title, Plan.status == "published"))
        done = select(InspectionResult.task_id)
        ids = list(session.scalars(select(Task.id).where(Task.plan_id == plan_id, Task.draw_id.is_not(None),
                                                         Task.id.not_in(done)).order_by(Task.id)))
    random.Random(410823).shuffle(ids)
    return ids


class Bodies:
    """Valid result bodies and the team leader of drawn tasks (checklists computed once per matter)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.checklists: dict[str, dict] = {}
        self.arrivals = 0

    def team_leader(self, task: Task) -> Principal:
        member = sorted(task.team, key=lambda m: (m.role != "lead", m.id))[0]
        return Principal(role="inspector", name="检查人员", department_code=member.department_code,
                         inspector_id=member.inspector_id)

    def body(self, task: Task, completed) -> dict:
        """A result with no problem found; a desk method when the matters allow one, else the team's
        arrival is confirmed first (a site-visit result of a drawn task needs it)."""
        methods = allowed_methods(self.gateway, object_session(task), task)
        desk = [m for m in methods if m in NON_SITE_METHODS]
        if not desk:
            confirm_arrival(self.gateway, task.id, today=completed)
            self.arrivals += 1
        for code in task.matter_codes:
            if code not in self.checklists:
                self.checklists[code] = checklist_values(self.gateway, code)
        return {"checklists": {code: dict(self.checklists[code]) for code in task.matter_codes},
                "result_codes": ["1"], "methods": (desk or methods)[:1], "completed_on": completed.isoformat(),
                "signature": dict(SIGNED), "remarks": ""}


def publish(gateway: Gateway, bodies: Bodies, task_ids: list[int], today) -> int:
    """Record, review and publish one result per task, past the enterprise's statement window."""
    completed = today - timedelta(days=14)
    published = 0
    for start in range(0, len(task_ids), 50):
        with gateway.read() as session:
            work = [(task.id, bodies.team_leader(task), task.lead_department, bodies.body(task, completed))
                    for task in (session.get(Task, t) for t in task_ids[start:start + 50])]
        with gateway.write() as session:
            for task_id, recorder, lead, body in work:
                head = Principal(role="department_head", name="负责人", department_code=lead)
                result = service.record_result(gateway, session, recorder, task_id, body, today=today)
                service.review_result(gateway, session, head, result.id, True, "")
                service.publish_result(gateway, session, head, result.id, today=today)
                published += 1
    return published


def submissions(gateway: Gateway, bodies: Bodies, task_ids: list[int], today, path: Path) -> int:
    """``path<TAB>token<TAB>body`` per task: the team leader's token, a fresh key, base '' (no result yet)."""
    tokens: dict[int, str] = {}
    lines = []
    with gateway.read() as session:
        work = []
        for task_id in task_ids:
            task = session.get(Task, task_id)
            work.append((task_id, bodies.team_leader(task).inspector_id,
                         bodies.body(task, today - timedelta(days=1))))
    with gateway.write() as session:
        for inspector_id in sorted({w[1] for w in work}):
            _, tokens[inspector_id] = accounts.issue_token(session, SYSTEM, f"bench-load-{inspector_id}", "inspector",
                                                           inspector_id=inspector_id, days=1)
    for n, (task_id, inspector_id, body) in enumerate(work):
        submission = {"key": f"bench-load-{task_id}-{n:06d}", "base": "", "result": body}
        text = json.dumps(submission, ensure_ascii=False, separators=(",", ":"))
        lines.append(f"/api/v1/tasks/{task_id}/result-submissions\t{tokens[inspector_id]}\t{text}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return len(lines)


def setup(url: str, instance: str, folder: str, targets: int, per_department: int, published: int,
          submitted: int) -> dict:
    out = Path(folder)
    timings: dict[str, float] = {}
    loaded = draw_steps.load(url, targets, per_department) if targets else {"seconds": 0.0}
    timings["load"] = loaded.pop("seconds")
    gateway = bench_gateway(url, instance)
    today = china_today()
    start = time.perf_counter()
    drawn = ensure_demo_draw(gateway, today=today)
    timings["draws"] = time.perf_counter() - start
    start = time.perf_counter()
    free = free_tasks(gateway, today.year)
    bodies = Bodies(gateway)
    done = publish(gateway, bodies, free[:published], today)
    timings["publish"] = time.perf_counter() - start
    start = time.perf_counter()
    lines = submissions(gateway, bodies, free[published:published + submitted], today, out / "submit.tsv")
    timings["submissions"] = time.perf_counter() - start
    with gateway.read() as session:
        usccs = list(session.scalars(select(Target.uscc).order_by(func.random()).limit(USCC_SAMPLE)))
        results = session.scalar(select(func.count(InspectionResult.id)).where(InspectionResult.status == "published"))
        if not targets:
            loaded = {"targets": session.scalar(select(func.count(Target.id))),
                      "inspectors": session.scalar(select(func.count(Inspector.id)))}
    (out / "usccs.txt").write_text("".join(u + "\n" for u in usccs), encoding="utf-8")
    if gateway.engine.dialect.name == "postgresql":
        with gateway.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    gateway.dispose()
    return {**loaded, "timings": timings, "tasks": drawn["tasks"], "past_tasks": drawn["past_tasks"],
            "published": done, "published_results": results,
            "submissions": lines, "free_tasks": len(free), "arrivals_confirmed": bodies.arrivals,
            "usccs": len(usccs)}


if __name__ == "__main__":
    step, *args = sys.argv[1:]
    if step != "setup":
        raise SystemExit(__doc__)
    print(json.dumps(setup(args[0], args[1], args[2], int(args[3]), int(args[4]), int(args[5]), int(args[6]))))
