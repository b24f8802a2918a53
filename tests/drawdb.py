"""Builders shared by the plan, draw and task tests: small real directories, plans and witnessed draws.

Everything goes through the real services on a real database (the ``gateway`` fixture). The
directory is built from what the installed plugins' matters look for (their criteria), so nothing
here names a department except as the plugins do.
"""
from __future__ import annotations

import random
from datetime import date
from typing import Any

from gateway.demo.generate import make_uscc
from gateway.directory.models import Conflict, Inspector, Target
from gateway.draw import service as draws
from gateway.planning import service as plans
from gateway.security.principal import Principal
from gateway.testing import world as kit
from gateway.testing.world import (  # noqa: F401 (shared)
    PEOPLE,
    REVEALS,
    WITNESSES,
    add_target,
    commitments_for,
    matter_target,
    person,
    publish_filed,
)

COUNTY = Principal(role="county_office", name="测试办公室")
SUPERVISOR = Principal(role="supervisor", name="监督员")
YEAR = date.today().year + 1  # a plan published now for next year is on time
RATIOS = {"A": "0.3", "B": "0.3", "C": "0.5", "D": "1"}


def add_inspectors(session, registry, per_department: int = 4, today: date | None = None) -> dict[str, list[Inspector]]:
    """``per_department`` certified, active inspectors in every department, plus one expired and one
    inactive (never drawn)."""
    return kit.add_inspectors(session, registry.departments, per_department, today)


def build_directory(gateway, per_matter: int = 12, per_department: int = 4, seed: int = 7) -> dict[str, Any]:
    """``per_matter`` targets meeting each matter's criteria, over all risk classes, a few of them
    closed; inspectors in every department; and returns what it made."""
    rng = random.Random(seed)
    targets: dict[str, list[str]] = {}
    serial = 100
    with gateway.write() as session:
        for code in gateway.registry.matters:
            targets[code] = []
            for n in range(per_matter):
                serial += 1
                risk = "ABCD"[n % 4]
                target = add_target(session, matter_target(gateway.registry, code, serial, risk,
                                                           abnormal_list=rng.random() < 0.1))
                targets[code].append(target.uscc)
        # Targets under two matters at once: one joint task covers both ("one visit, many matters").
        codes = list(gateway.registry.matters)
        targets["joint"] = []
        for n in range(min(4, len(codes) - 1) if len(codes) > 1 else 0):
            serial += 1
            first, second = gateway.registry.matters[codes[n]], gateway.registry.matters[codes[n + 1]]
            data = matter_target(gateway.registry, codes[n], serial, "ABCD"[n % 4])
            data["type"] = next((t for t in first.criteria.target_types if not second.criteria.target_types
                                 or t in second.criteria.target_types), data["type"])
            data["uscc"] = make_uscc(data["type"], serial)
            data["licences"] = [*first.criteria.required_licences[:1], *second.criteria.required_licences[:1]]
            data["business_scope"] = "；".join([*first.criteria.scope_keywords[:1], *second.criteria.scope_keywords[:1]])
            target = add_target(session, data)
            targets["joint"].append(target.uscc)
        inspectors = add_inspectors(session, gateway.registry, per_department)
        ids = {code: [i.id for i in people] for code, people in inspectors.items()}
    return {"targets": targets, "inspectors": ids}


def plan_body(gateway, kind: str = "joint", year: int = YEAR, matters: list[str] | None = None,
              lead: str | None = None, **overrides) -> dict[str, Any]:
    registry = gateway.registry
    matters = matters or list(registry.matters)
    if lead is None:
        first = registry.matters.get(matters[0])
        lead = first.department_code if first else sorted(registry.departments)[0]
    body = {
        "kind": kind, "year": year, "title": f"{year}年度测试{'联合' if kind == 'joint' else '年度'}抽查计划",
        "lead_department": lead, "matters": matters, "scope": {}, "ratios": dict(RATIOS), "key_rule": {},
        "frequency": "每年1次", "window_start": date(year, 4, 1), "window_end": date(year, 11, 30),
        "description": "",
    }
    body.update(overrides)
    return body


def published_plan(gateway, **kwargs) -> int:
    with gateway.write() as session:
        plan = plans.create_plan(session, COUNTY, plan_body(gateway, **kwargs), gateway.settings)
        publish_filed(session, COUNTY, plan.id, gateway.settings)
        return plan.id


def freeze_and_seed(gateway, plan_id: int, reveals=REVEALS) -> int:
    with gateway.write() as session:
        draw = draws.freeze(session, COUNTY, plan_id)
        draws.commit(session, COUNTY, draw.id, commitments_for(reveals))
        draws.reveal_seed(session, COUNTY, draw.id, reveals, WITNESSES)
        return draw.id


def complete_draw(gateway, plan_id: int, reveals=REVEALS) -> int:
    draw_id = freeze_and_seed(gateway, plan_id, reveals)
    draws.run_and_record_failure(gateway, COUNTY, draw_id)
    return draw_id


def drawn_directory(gateway) -> int:
    """A small directory (6 targets a matter, 5 inspectors a department) and a published joint plan
    drawn into tasks: the draw's id."""
    build_directory(gateway, per_matter=6, per_department=5)
    return complete_draw(gateway, published_plan(gateway))


def declare_conflict(gateway, inspector_id: int, uscc: str, reason: str = "近亲属在该单位任职") -> None:
    from sqlalchemy import select

    with gateway.write() as session:
        target_id = session.scalar(select(Target.id).where(Target.uscc == uscc))
        session.add(Conflict(inspector_id=inspector_id, target_id=target_id, reason=reason))


def bulk_directory(gateway) -> dict[str, Any]:
    """For the bulk writer's tests: a published plan, its lead department, three targets' ids by
    USCC and one inspector of the lead department."""
    from gateway.draw import bulk
    from gateway.planning.models import Plan

    found = build_directory(gateway, per_matter=3, per_department=2)
    plan_id = published_plan(gateway)
    usccs = sorted(uscc for targets in found["targets"].values() for uscc in targets)[:3]
    with gateway.read() as session:
        lead = session.get(Plan, plan_id).lead_department
        target_ids = bulk.target_ids(session.connection(), usccs)
    return {"plan": plan_id, "lead": lead, "targets": target_ids, "inspector": found["inspectors"][lead][0]}


def bulk_rows(session, directory: dict[str, Any], when, inspector_id: int | None = None):
    """Fresh task ids, one task row per target of :func:`bulk_directory` and one lead member each,
    in the columns of ``gateway.draw.service.TASK_COLUMNS`` and ``MEMBER_COLUMNS``."""
    from gateway.draw import bulk

    ids = bulk.reserve_ids(session.connection(), "tasks", len(directory["targets"]))
    tasks = [(task_id, f"TEST-{n}", directory["plan"], None, target_id, directory["lead"], '["crop_seed"]', n == 0,
              date(2027, 4, 1), date(2027, 11, 30), "assigned", when)
             for n, (task_id, target_id) in enumerate(zip(ids, directory["targets"].values()))]
    members = [(task_id, inspector_id or directory["inspector"], directory["lead"], "lead", True, when, "draw")
               for task_id in ids]
    return ids, tasks, members
