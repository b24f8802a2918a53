"""Published inspection results to sync, made through the real results workflow.

Targets, inspectors, a published joint plan and its tasks are written through the models (tasks are
normally the draw's output; the draw has its own tests). Each result is then recorded by the task's
team, reviewed and published by the lead department through ``gateway.results.service``, so each
publication writes its outbox row exactly as in production. Used by the sync tests and by
``bench/sync.py``.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable

from sqlalchemy import insert

from gateway.core import Gateway
from gateway.db import utcnow
from gateway.demo.generate import make_uscc
from gateway.directory.matters import current_matter_versions
from gateway.directory.models import Inspector, Target
from gateway.planning.models import Plan, PlanMatter
from gateway.results import service
from gateway.results.validation import allowed_methods
from gateway.security.principal import Principal
from gateway.tasks.models import Task, TaskMember
from gateway.testing.world import checklist_values

MATTER = "refined_oil"
SIGNED = {"status": "signed", "signer_name": "周建华", "signer_title": "站长"}


def sample_values(gateway: Gateway, matter_code: str) -> dict[str, Any]:
    """A complete, all-compliant checklist for ``matter_code`` from its merged checklist."""
    return checklist_values(gateway, matter_code)


@dataclass
class ResultsWorld:
    gateway: Gateway
    plan_id: int
    lead: str
    team: list[int]
    task_ids: list[int]
    today: date
    completed_on: date
    result_ids: list[int] = field(default_factory=list)
    usccs: dict[int, str] = field(default_factory=dict)

    def recorder(self) -> Principal:
        with self.gateway.read() as session:
            inspector = session.get(Inspector, self.team[0])
            return Principal(role="inspector", name=inspector.name, department_code=inspector.department_code,
                             inspector_id=inspector.id)

    def head(self) -> Principal:
        return Principal(role="department_head", name=f"{self.lead}负责人", department_code=self.lead)

    def body(self, task_id: int, problems: bool = False) -> dict[str, Any]:
        """A valid result body; ``problems``: a problem found (codes A and D) that needs a follow-up."""
        with self.gateway.read() as session:
            task = session.get(Task, task_id)
            methods = allowed_methods(self.gateway, session, task)[:1]
        checklist = sample_values(self.gateway, MATTER)
        if problems:
            checklist["oil_invoices_records"] = "non_compliant"
            checklist["oil_problem_description"] = "未建立购销台账，进货票据不全。"
        return {
            "checklists": {MATTER: checklist},
            "result_codes": ["A", "D"] if problems else ["1"], "methods": methods,
            "completed_on": self.completed_on.isoformat(), "signature": dict(SIGNED), "remarks": "",
        }

    def publish_disposition(self, result_id: int) -> int:
        """An administrative penalty on a published result with problems, recorded and published."""
        from gateway.results import followups

        body = {"kind": "administrative_penalty", "decision_number": "武商罚决字〔2026〕12号",
                "decided_on": (self.today - timedelta(days=1)).isoformat(),
                "description": "责令停业整顿并处罚款五万元。"}
        operator = Principal(role="department_operator", name="操作员", department_code=self.lead)
        with self.gateway.write() as session:
            disposition = followups.record_disposition(self.gateway, session, operator, result_id, body,
                                                       today=self.today)
            followups.publish_disposition(self.gateway, session, self.head(), disposition.id, today=self.today)
            return disposition.id

    def publish(self, task_ids: list[int] | None = None, per_transaction: int = 200,
                progress: Callable[[int], None] | None = None, problems: bool = False) -> list[int]:
        """Record, review and publish one result per task (each publication enqueues its row)."""
        task_ids = self.task_ids if task_ids is None else task_ids
        recorder, head = self.recorder(), self.head()
        body = self.body(task_ids[0], problems) if task_ids else {}
        published = []
        for start in range(0, len(task_ids), per_transaction):
            with self.gateway.write() as session:
                for task_id in task_ids[start:start + per_transaction]:
                    result = service.record_result(self.gateway, session, recorder, task_id, dict(body),
                                                   today=self.today)
                    service.review_result(self.gateway, session, head, result.id, True, "")
                    service.publish_result(self.gateway, session, head, result.id, today=self.today)
                    published.append(result.id)
            if progress is not None:
                progress(len(published))
        self.result_ids.extend(published)
        return published


def build_results_world(gateway: Gateway, n: int, *, today: date | None = None, first_serial: int = 50_000,
                        bad_uscc_every: int = 0) -> ResultsWorld:
    """``n`` targets and tasks under one published joint plan, ready for results.

    ``bad_uscc_every``: every k-th target gets a USCC with a wrong check character, as a legacy
    directory row might have (the platform rejects such a record)."""
    today = today or date.today()
    completed_on = today - timedelta(days=2)
    matter = gateway.registry.matters[MATTER]
    lead = matter.department_code
    cooperating = sorted({item.department_code for item in gateway.registry.check_items[MATTER]} - {lead})
    now = utcnow()
    with gateway.write() as session:
        version_id = current_matter_versions(session)[MATTER].id
        team = []
        for index, department in enumerate([lead, *cooperating[:1]]):
            inspector = Inspector(department_code=department, name=f"同步测试{index}", gender="male",
                                  certificate_no=f"4108239{first_serial % 100000:05d}{index}",
                                  phone="13800000000", unit=department)
            session.add(inspector)
            session.flush()
            team.append(inspector.id)
        plan = Plan(
            number=f"武陟联抽〔{today.year}〕{first_serial}号", version=1, year=today.year, kind="joint",
            title=f"{today.year}年度武陟县成品油市场跨部门联合抽查计划", lead_department=lead,
            cooperating_departments=cooperating, status="published",
            window_start=today - timedelta(days=60), window_end=today + timedelta(days=60),
            ratios={"A": "0.03", "B": "0.05", "C": "0.1", "D": "0.2"}, frequency="每年1次",
            published_at=now, published_by="县双随机办",
        )
        plan.matters.append(PlanMatter(matter_code=MATTER, matter_version_id=version_id,
                                       department_code=lead))
        session.add(plan)
        session.flush()
        usccs = []
        for k in range(n):
            uscc = make_uscc("enterprise", first_serial + k)
            if bad_uscc_every and (k + 1) % bad_uscc_every == 0:
                uscc = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
            usccs.append(uscc)
        target_ids = {uscc: target_id for uscc, target_id in session.execute(insert(Target).returning(Target.uscc, Target.id), [
            {"uscc": u, "name": f"武陟县同步测试{first_serial + k}号加油站有限公司", "type": "enterprise",
             "township": "木城街道", "business_scope": "成品油零售", "licences": "|成品油零售经营批准证书|",
             "risk_class": "B", "created_at": now, "updated_at": now}
            for k, u in enumerate(usccs)
        ])}
        tasks = {target_id: task_id for target_id, task_id in session.execute(insert(Task).returning(Task.target_id, Task.id), [
            {"number": f"{plan.number}-{k + 1:05d}", "plan_id": plan.id, "draw_id": None,
             "target_id": target_ids[u], "lead_department": lead, "matter_codes": [MATTER],
             "key_inspection": False, "window_start": plan.window_start, "window_end": plan.window_end,
             "status": "assigned", "created_at": now}
            for k, u in enumerate(usccs)
        ])}
        task_ids = [tasks[target_ids[u]] for u in usccs]
        session.execute(insert(TaskMember), [
            {"task_id": t, "inspector_id": inspector_id, "department_code": department,
             "role": "lead" if i == 0 else "member", "active": True, "source": "draw", "added_at": now}
            for t in task_ids
            for i, (inspector_id, department) in enumerate(zip(team, [lead, *cooperating[:1]]))
        ])
        world = ResultsWorld(gateway=gateway, plan_id=plan.id, lead=lead, team=team, task_ids=task_ids,
                             today=today, completed_on=completed_on)
        world.usccs = {t: u for t, u in zip(task_ids, usccs)}
    return world


def claim_without_waiting(worker, now):
    """``worker``'s claim of results while another worker holds row locks, made in a thread that
    must come back: the claim skips locked rows instead of waiting for them."""
    claimed: list = []
    thread = threading.Thread(target=lambda: claimed.append(worker.claim("result", now)))
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive(), "the second claim waited for the first worker's locks"
    [batch] = claimed
    return batch
