"""A finished, witnessed draw for the demo: one published joint plan with every installed matter,
frozen, committed, seeded and drawn, so a newcomer sees a complete draw right away.

Idempotent: a second run finds the plan and the draw and only finishes what is missing.
"""
from __future__ import annotations

import random
from datetime import date
from typing import Any

from sqlalchemy import select

from gateway.core import Gateway
from gateway.db import utcnow
from gateway.directory import eligibility
from gateway.directory.models import Target
from gateway.directory.queries import criteria_clause
from gateway.draw import service as draws
from gateway.draw.commitment import commitment
from gateway.draw.models import Draw
from gateway.planning import service as plans
from gateway.planning.filing import file_plan
from gateway.planning.models import Plan
from gateway.security.principal import Principal

DEMO_RATIOS = {"A": "0.03", "B": "0.05", "C": "0.1", "D": "0.2"}
# Who takes part in the demo's draw ceremony (article 16), with made-up names.
# (role, name, unit or witness category, identity: made-up staff card numbers, never published)
DEMO_PEOPLE = (
    ("organiser", "张建华", "县双随机办", "WZ-SSB-0001"),
    ("operator", "李明", "县政务服务中心", "WZ-ZWFW-0002"),
    ("supervisor", "王丽", "县纪委监委派驻组", "WZ-JW-0003"),
    ("witness", "赵磊", "市场主体代表", ""),
)
DEMO_WITNESSES = ({"name": "刘洋", "category": "新闻媒体代表"},)


def demo_principal() -> Principal:
    return Principal(role="county_office", name="演示数据")


def demo_lead_department(gateway: Gateway) -> str:
    """The department taking part in most of the matters (leading or cooperating); ties by code."""
    registry = gateway.registry
    counts: dict[str, int] = {}
    for code, matter in registry.matters.items():
        for dept in {matter.department_code, *registry.cooperating_departments(code)}:
            counts[dept] = counts.get(dept, 0) + 1
    return min(counts, key=lambda d: (-counts[d], d))


def demo_plan_body(gateway: Gateway, year: int) -> dict[str, Any]:
    county = gateway.settings.county_name
    return {
        "kind": "joint",
        "year": year,
        "title": f"{year}年度{county}跨部门联合“双随机、一公开”抽查计划（演示）",
        "lead_department": demo_lead_department(gateway),
        "matters": list(gateway.registry.matters),
        "scope": {},
        "ratios": dict(DEMO_RATIOS),
        "key_rule": {},
        "frequency": "每年1次",
        "window_start": date(year, 4, 1),
        "window_end": date(year, 12, 20),
        "description": "演示数据：覆盖首批跨部门联合抽查事项清单的全部事项。",
    }


def demo_pre_freeze_change(session, gateway: Gateway) -> str | None:
    """Between the plan's publication and the freeze, the registration authority records one target
    of the first matter that has any as closed (reason 经核实已停业或歇业): the public draw record then
    shows the target leaving its stratum, with the reason. Returns its USCC."""
    authority = eligibility.registration_authority(session)
    actor = (Principal(role="department_head", name="演示数据", department_code=authority) if authority
             else demo_principal())
    for matter in gateway.registry.matters.values():
        target = session.scalar(select(Target).where(
            criteria_clause(matter.criteria), Target.active.is_(True), Target.status == "operating")
            .order_by(Target.uscc).limit(1))
        if target is not None:
            eligibility.change(session, actor, target, {"status": "closed"}, "business_closed", "page")
            return target.uscc
    return None


def demo_past_plan_body(gateway: Gateway, year: int) -> dict[str, Any]:
    """Last year's annual plan of the demo's lead department (its own matters only): its window has
    ended, and the demo leaves its tasks unrecorded, so they show as overdue never recorded."""
    matters = gateway.registry.matters
    lead = demo_lead_department(gateway)
    if not any(m.department_code == lead for m in matters.values()):
        lead = min(m.department_code for m in matters.values())
    county = gateway.settings.county_name
    return {
        "kind": "annual",
        "year": year - 1,
        "title": f"{year - 1}年度{county}“双随机、一公开”抽查计划（演示：窗口期已结束）",
        "lead_department": lead,
        "matters": [code for code, m in matters.items() if m.department_code == lead],
        "scope": {},
        "ratios": dict(DEMO_RATIOS),
        "key_rule": {},
        "frequency": "每年1次",
        "window_start": date(year - 1, 9, 1),
        "window_end": date(year - 1, 11, 30),
        "description": "演示数据：检查期限已结束，部分任务未录入检查结果，逾期清单和统计中显示为逾期未录入。",
    }


def ensure_demo_draw(gateway: Gateway, today: date | None = None, seed: int = 410823) -> dict[str, Any]:
    """Make sure the demo's joint plan is published and its draw completed; return a summary.

    First (so that the current plan's tasks come last) the same for last year's plan, whose window
    has ended and whose tasks stay unrecorded (``past_*`` in the summary)."""
    today = today or date.today()
    past = _ensure_drawn(gateway, demo_past_plan_body(gateway, today.year), random.Random(f"{seed}-{today.year - 1}"))
    done = _ensure_drawn(gateway, demo_plan_body(gateway, today.year), random.Random(f"{seed}-{today.year}"),
                         pre_freeze=demo_pre_freeze_change)
    return {**done, "past_plan_number": past["plan_number"], "past_draw_id": past["draw_id"],
            "past_tasks": past["tasks"]}


def _ensure_drawn(gateway: Gateway, body: dict[str, Any], rng: random.Random, pre_freeze=None) -> dict[str, Any]:
    """The plan ``body`` describes (found by title and kind, else created) published, frozen,
    committed, seeded and drawn; ``pre_freeze(session, gateway)`` runs once, just before the freeze."""
    principal = demo_principal()
    with gateway.write() as session:
        plan = session.scalar(select(Plan).where(
            Plan.title == body["title"], Plan.kind == body["kind"], Plan.status != "superseded").order_by(Plan.id.desc()))
        if plan is None:
            plan = plans.create_plan(session, principal, body, gateway.settings)
        if plan.status == "draft":
            plan, _ = plans.publish_plan(session, principal, plan.id, gateway.settings)
        if plan.filed_on is None:  # the demo plan is filed with the justice bureau, as a draw needs
            file_plan(session, principal, plan.id, {"filing_number": f"武司行检备〔{plan.year}〕1号",
                                                    "filed_on": plans.local_date(utcnow())})
        plan_id = plan.id
    reveals = [
        {"role": role, "name": name, "digits": "".join(rng.choice("0123456789") for _ in range(8)),
         "salt": "demo-" + "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(12))}
        for role, name, _, _ in DEMO_PEOPLE
    ]
    who = {name: ({"category": unit} if role == "witness" else {"unit": unit, "identity": identity})
           for role, name, unit, identity in DEMO_PEOPLE}
    with gateway.write() as session:
        draw = session.scalar(select(Draw).where(Draw.active_plan_id == plan_id))
        if draw is None:
            if pre_freeze is not None:
                pre_freeze(session, gateway)
            draw = draws.freeze(session, principal, plan_id, secret=gateway.settings.secret_key)
        if draw.status == "frozen":
            draws.commit(session, principal, draw.id, [
                {"role": r["role"], "name": r["name"], "commitment": commitment(r["digits"], r["salt"]), **who[r["name"]]}
                for r in reveals
            ], secret=gateway.settings.secret_key)
        if draw.status == "committed":
            draws.reveal_seed(session, principal, draw.id, reveals, list(DEMO_WITNESSES))
        draw_id, status = draw.id, draw.status
    if status == "seeded":
        draws.run_and_record_failure(gateway, principal, draw_id)
    with gateway.read() as session:
        draw = draws.get_draw(session, draw_id)
        return {"plan_id": plan_id, "plan_number": draw.plan.number, "draw_id": draw.id, "status": draw.status,
                "tasks": draw.task_count, "population_sha256": draw.population_sha256}
