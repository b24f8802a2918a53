"""A small joint plan with three drawn tasks, built through the models, for the results tests.

Tasks are normally created by the draw; here Plan, Task and TaskMember rows are written directly:

- ``oil``:  a filling station, matter ``refined_oil`` (lead commerce; market brings items), team
  commerce inspector c1 (lead) + market inspector m1;
- ``lab``:  a testing body, matter ``testing_bodies`` (lead market; environment brings items),
  team market inspector m2 (lead) + environment inspector e1;
- ``seed``: a seed company, matter ``crop_seed`` (lead agriculture), team a1 (lead) + m1.

The plan window is 2026-04-01 … 2026-10-31; tests pass ``today`` explicitly (never the wall clock).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from gateway.core import Gateway
from gateway.demo.generate import make_uscc
from gateway.directory.matters import current_matter_versions
from gateway.directory.models import Inspector, Target, join_licences
from gateway.planning.models import Plan, PlanMatter
from gateway.results import followups, service
from gateway.security.principal import Principal
from gateway.tasks.models import Task, TaskMember
from gateway.testing.world import checklist_values

TODAY = date(2026, 10, 20)
WINDOW = (date(2026, 4, 1), date(2026, 10, 31))
PLAN_NUMBER = "武陟联抽〔2026〕3号"

OIL_VALUES = {
    "oil_licence": "compliant",
    "oil_operating_conditions": "compliant",
    "oil_certificate_transfer": "compliant",
    "oil_unlicensed_construction": "compliant",
    "oil_invoices_records": "compliant",
    "oil_internal_rules": "compliant",
    "oil_fuel_upgrade": "compliant",
    "oil_business_type": "零售",
    "mkt_oil_registration": "compliant",
    "mkt_oil_publicity": "compliant",
    "mkt_oil_quality": "compliant",
    "mkt_oil_metering": "compliant",
}
SIGNED = {"status": "signed", "signer_name": "周建华", "signer_title": "站长"}


def sample_values(gateway: Gateway, matter_code: str) -> dict[str, Any]:
    """A valid, all-compliant checklist for any matter, from its merged checklist's fields."""
    if matter_code == "refined_oil":
        return dict(OIL_VALUES)
    return checklist_values(gateway, matter_code)


@dataclass
class World:
    gateway: Gateway
    plan_id: int
    tasks: dict[str, int]
    inspectors: dict[str, int]
    targets: dict[str, str]
    names: dict[str, str] = field(default_factory=dict)

    # --- principals -------------------------------------------------------------------------
    def inspector(self, key: str) -> Principal:
        with self.gateway.read() as session:
            row = session.get(Inspector, self.inspectors[key])
            return Principal(role="inspector", name=row.name, department_code=row.department_code, inspector_id=row.id)

    @staticmethod
    def head(department: str) -> Principal:
        return Principal(role="department_head", name=f"{department}负责人", department_code=department)

    @staticmethod
    def operator(department: str) -> Principal:
        return Principal(role="department_operator", name=f"{department}操作员", department_code=department)

    today = TODAY
    window = WINDOW
    plan_number = PLAN_NUMBER
    oil_values = OIL_VALUES
    office = Principal(role="county_office", name="县双随机办")
    supervisor = Principal(role="supervisor", name="监督员")

    # --- bodies -------------------------------------------------------------------------------
    def body(self, task_key: str, **overrides) -> dict[str, Any]:
        with self.gateway.read() as session:
            task = session.get(Task, self.tasks[task_key])
            matters = list(task.matter_codes)
        body = {
            "checklists": {m: sample_values(self.gateway, m) for m in matters},
            "result_codes": ["1"],
            "methods": ["实地核查", "书面检查"],
            "completed_on": "2026-09-30",
            "signature": dict(SIGNED),
            "remarks": "",
        }
        body.update(overrides)
        return body

    # --- the workflow ---------------------------------------------------------------------------
    def record(self, task_key: str, body: dict | None = None, by: str | None = None, today: date = TODAY):
        lead_member = {"oil": "c1", "lab": "m2", "seed": "a1"}[task_key]
        principal = self.inspector(by or lead_member)
        with self.gateway.write() as session:
            result = service.record_result(self.gateway, session, principal, self.tasks[task_key],
                                           body or self.body(task_key), today=today)
            return result.id

    def review(self, result_id: int, department: str, approve: bool = True, note: str = ""):
        with self.gateway.write() as session:
            return service.review_result(self.gateway, session, self.head(department), result_id, approve, note).id

    def publish(self, result_id: int, department: str, today: date = TODAY):
        with self.gateway.write() as session:
            return service.publish_result(self.gateway, session, self.head(department), result_id, today=today).id

    def published(self, task_key: str, body: dict | None = None, today: date = TODAY) -> int:
        lead = {"oil": "commerce", "lab": "market", "seed": "agriculture"}[task_key]
        result_id = self.record(task_key, body, today=today)
        self.review(result_id, lead)
        self.publish(result_id, lead, today=today)
        return result_id

    def dispose(self, result_id: int, department: str, body: dict, today: date = TODAY, publish: bool = True) -> int:
        with self.gateway.write() as session:
            d = followups.record_disposition(self.gateway, session, self.operator(department), result_id, body, today=today)
            disposition_id = d.id
        if publish:
            with self.gateway.write() as session:
                followups.publish_disposition(self.gateway, session, self.head(department), disposition_id, today=today)
        return disposition_id


def build_world(gateway: Gateway) -> World:
    """Targets, inspectors, one published joint plan and three tasks with their teams."""
    with gateway.write() as session:
        targets = {
            "oil": Target(uscc=make_uscc("enterprise", 7001), name="武陟县沁河加油站有限公司", type="enterprise",
                          township="木城街道", business_scope="成品油零售",
                          licences=join_licences(["成品油零售经营批准证书"]), risk_class="B"),
            "lab": Target(uscc=make_uscc("enterprise", 7002), name="焦作覃怀检测技术有限公司", type="enterprise",
                          township="龙源街道", business_scope="环境检测；检验检测服务",
                          licences=join_licences(["检验检测机构资质认定证书"]), risk_class="A"),
            "seed": Target(uscc=make_uscc("enterprise", 7003), name="武陟县丰源种业有限公司", type="enterprise",
                           township="大封镇", business_scope="农作物种子生产、经营", risk_class="B"),
        }
        session.add_all(targets.values())
        people = {
            "c1": ("commerce", "商建军"), "c2": ("commerce", "商丽娟"),
            "m1": ("market", "马志强"), "m2": ("market", "马秀英"),
            "e1": ("environment", "环海燕"), "a1": ("agriculture", "农振华"),
        }
        inspectors = {}
        for n, (key, (dept, name)) in enumerate(people.items(), start=1):
            inspectors[key] = Inspector(
                department_code=dept, name=name, gender="male", certificate_no=f"41082326{n:05d}",
                phone=f"1390391{n:04d}", unit=dept,
            )
        session.add_all(inspectors.values())
        session.flush()
        versions = current_matter_versions(session)
        plan = Plan(
            number=PLAN_NUMBER, version=1, year=2026, kind="joint", title="2026年度武陟县跨部门联合双随机抽查计划",
            lead_department="commerce", status="published", window_start=WINDOW[0], window_end=WINDOW[1],
            ratios={"A": "0.03", "B": "0.05", "C": "0.1", "D": "0.2"}, frequency="每年1次",
        )
        for code in ("refined_oil", "testing_bodies", "crop_seed"):
            plan.matters.append(PlanMatter(matter_code=code, matter_version_id=versions[code].id,
                                           department_code=versions[code].department_code))
        session.add(plan)
        session.flush()
        layout = {
            "oil": ("refined_oil", "commerce", ("c1", "m1")),
            "lab": ("testing_bodies", "market", ("m2", "e1")),
            "seed": ("crop_seed", "agriculture", ("a1", "m1")),
        }
        tasks = {}
        for n, (key, (matter, lead, team)) in enumerate(layout.items(), start=1):
            task = Task(
                number=f"{PLAN_NUMBER}-{n:04d}", plan_id=plan.id, draw_id=None, target_id=targets[key].id,
                lead_department=lead, matter_codes=[matter], window_start=WINDOW[0], window_end=WINDOW[1],
            )
            for i, member in enumerate(team):
                task.members.append(TaskMember(inspector_id=inspectors[member].id,
                                               department_code=inspectors[member].department_code,
                                               role="lead" if i == 0 else "member"))
            session.add(task)
            tasks[key] = task
        session.flush()
        return World(
            gateway=gateway, plan_id=plan.id, tasks={k: t.id for k, t in tasks.items()},
            inspectors={k: i.id for k, i in inspectors.items()}, targets={k: t.uscc for k, t in targets.items()},
            names={k: i.name for k, i in inspectors.items()},
        )


@pytest.fixture
def world(gateway) -> World:
    return build_world(gateway)


@pytest.fixture
def build_world_fn():
    return build_world
