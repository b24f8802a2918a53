"""Real data for a test, through the real services: targets a matter applies to, certified
inspectors, and a published plan drawn into tasks ready for a result."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from gateway.core import Gateway
from gateway.db import utcnow
from gateway.demo.codes import confirm_arrival
from gateway.demo.generate import make_uscc
from gateway.directory.models import Inspector, Target, join_licences
from gateway.draw import service as draws
from gateway.draw.commitment import commitment
from gateway.planning import service as plans
from gateway.planning.filing import file_plan
from gateway.planning.models import Plan
from gateway.plugins.manager import Registry
from gateway.results.checklist import merged_checklist
from gateway.results.validation import allowed_methods
from gateway.security.principal import Principal
from gateway.tasks.models import Task

OFFICE = Principal(role="county_office", name="测试用县双随机办")
REVEALS = [
    {"role": "organiser", "name": "张三", "digits": "31415926535", "salt": "salt-organiser"},
    {"role": "operator", "name": "李四", "digits": "89793238", "salt": "salt-operator-1"},
    {"role": "supervisor", "name": "王五", "digits": "46264338", "salt": "salt-supervisor"},
    {"role": "witness", "name": "赵六", "digits": "3279", "salt": "salt-witness-01"},
]
SIGNED = {"status": "signed", "signer_name": "周建华", "signer_title": "负责人"}


def publish_filed(session, principal: Principal, plan_id: int, settings) -> tuple[Plan, list[str]]:
    """Publish a plan and record its filing (备案) with the justice bureau, as the county office: a
    draw needs both (setting ``draw_requires_filing``, on by default)."""
    plan, warnings = plans.publish_plan(session, principal, plan_id, settings)
    file_plan(session, OFFICE, plan.id, {"filing_number": f"武司备〔{plan.year}〕{plan.id}号",
                                         "filed_on": plans.local_date(utcnow())})
    return plan, warnings


def matter_target(registry: Registry, matter_code: str, serial: int, risk_class: str = "B", **overrides) -> dict[str, Any]:
    """The fields of a target that meets ``matter_code``'s criteria (type, licence, scope)."""
    criteria = registry.matters[matter_code].criteria
    kind = criteria.target_types[0] if criteria.target_types else "enterprise"
    data = {
        "uscc": make_uscc(kind, serial),
        "name": f"武陟县测试{serial}号单位",
        "type": kind,
        "township": "木城街道",
        "business_scope": "；".join(criteria.scope_keywords[:1]) or "综合经营",
        "licences": list(criteria.required_licences[:1]),
        "risk_class": risk_class,
        "status": "operating",
    }
    data.update(overrides)
    return data


def add_target(session, data: dict[str, Any]) -> Target:
    values = dict(data)
    licences = values.pop("licences", [])
    target = Target(**values, licences=join_licences(licences))
    session.add(target)
    session.flush()
    return target


def add_inspectors(session, departments, per_department: int = 4, today: date | None = None) -> dict[str, list[Inspector]]:
    """``per_department`` certified, active inspectors in each of ``departments`` (codes), plus one
    expired and one inactive (never drawn)."""
    today = today or date.today()
    out: dict[str, list[Inspector]] = {}
    staffed = session.scalar(select(func.count(func.distinct(Inspector.department_code))))
    for index, code in enumerate(sorted(departments), start=staffed + 1):  # certificate numbers stay unique
        people = []
        for serial in range(per_department + 2):
            inspector = Inspector(
                department_code=code, name=f"{code}检查员{serial}", gender="male",
                certificate_no=f"4108{index:02d}{serial:05d}", phone="13800000000",
                certificate_valid_until=today - timedelta(days=1) if serial == per_department else today + timedelta(days=900),
                active=serial != per_department + 1,
            )
            session.add(inspector)
            people.append(inspector)
        out[code] = people
    session.flush()
    return out


# Who the contributors are (article 16): organiser, operator and supervisor distinct persons, the
# supervisor from outside the organising office; a witness of a listed category.
PEOPLE = {
    "张三": {"unit": "县双随机办", "identity": "410822199001010011"},
    "李四": {"unit": "县政务服务中心", "identity": "410822199002020022"},
    "王五": {"unit": "县纪委监委派驻组", "identity": "410822199003030033"},
    "赵六": {"category": "市场主体代表"},
}
WITNESSES = [{"name": "钱七", "category": "新闻媒体代表"}]


def person(role: str, name: str) -> dict[str, str]:
    """The unit, identity or category of a contributor (made up for names not in PEOPLE)."""
    if name in PEOPLE:
        return PEOPLE[name]
    if role == "witness":
        return {"category": "行业协会代表"}
    return {"unit": f"{name}所在单位", "identity": f"ID-{role}-{name}"}


def commitments_for(reveals=REVEALS) -> list[dict[str, str]]:
    return [{"role": r["role"], "name": r["name"], "commitment": commitment(r["digits"], r["salt"]),
             **person(r["role"], r["name"])} for r in reveals]


def checklist_values(gateway: Gateway, matter_code: str) -> dict[str, Any]:
    """A complete, all-compliant checklist for ``matter_code`` (its merged checklist: lead and
    cooperating items), from each field's kind and the item's bounds."""
    checklist = merged_checklist(gateway.plugin_manager, gateway.registry, matter_code)
    items = {item.code: item for item in checklist.items}
    values: dict[str, Any] = {}
    for f in checklist.describe()["fields"]:
        kind = f["kind"]
        if kind == "outcome":
            values[f["code"]] = "compliant"
        elif kind == "boolean":
            values[f["code"]] = True
        elif kind in ("integer", "decimal"):
            values[f["code"]] = _number_within(items.get(f["code"]), kind)
        elif kind == "choice":
            values[f["code"]] = next(iter(f["choices"]))
        elif f["required"]:
            values[f["code"]] = "无"
    return values


def _number_within(item, kind: str) -> int | str:
    value = Decimal(3) if kind == "integer" else Decimal("120.5")
    low, high = getattr(item, "minimum", None), getattr(item, "maximum", None)
    if low is not None and value < low:
        value = low
    if high is not None and value > high:
        value = high
    return int(value) if kind == "integer" else str(value)


@dataclass(frozen=True)
class DrawnTask:
    """A drawn task of a published plan, ready for its team to record a result."""

    plan_id: int
    draw_id: int
    task_id: int
    matter_code: str
    inspector_id: int  # the team's leader, from the matter's lead department
    values: dict[str, Any]  # a complete, valid checklist for the matter
    methods: tuple[str, ...]

    def result_body(self, changes: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """The body of ``POST /api/v1/tasks/<id>/results``: the valid checklist with ``changes``
        applied, 未发现问题, signed today; ``fields`` replace top-level fields."""
        body = {
            "checklists": {self.matter_code: {**self.values, **(changes or {})}},
            "result_codes": ["1"],
            "methods": list(self.methods[:1]),
            "completed_on": date.today().isoformat(),
            "signature": dict(SIGNED),
            "remarks": "",
        }
        body.update(fields)
        return body


def draw_task_for(gateway: Gateway, matter_code: str, targets: int = 2, checked_in: bool = True,
                  site_visit_reason: str = "") -> DrawnTask:
    """Targets for ``matter_code``, inspectors in the departments it involves, a plan for this
    year (joint when other departments bring items, else the lead's annual plan) published,
    frozen, seeded and drawn; returns its first task, whose team has checked in on site unless
    ``checked_in`` is false (a site-visit result needs the check-in). ``site_visit_reason``: the plan
    chooses a site visit for a matter checkable off site, with that reason."""
    registry = gateway.registry
    matter = registry.matters[matter_code]
    departments = [matter.department_code, *registry.cooperating_departments(matter_code)]
    year = date.today().year
    with gateway.write() as session:
        first = 900_000 + session.scalar(select(func.count(Target.id)))
        for serial in range(first, first + targets):
            add_target(session, matter_target(registry, matter_code, serial, risk_class="D"))
        staffed = set(session.scalars(select(Inspector.department_code).where(Inspector.active.is_(True))))
        add_inspectors(session, [d for d in departments if d not in staffed], per_department=3)
        body = {
            "kind": "joint" if len(departments) > 1 else "annual", "year": year,
            "title": f"{year}年度{matter.name}测试计划", "lead_department": matter.department_code,
            "matters": [matter_code], "scope": {}, "ratios": dict.fromkeys("ABCD", "1"), "key_rule": {},
            "frequency": "每年1次", "window_start": date(year, 1, 1), "window_end": date(year, 12, 31),
            "description": "",
            "site_visit_reasons": {matter_code: site_visit_reason} if site_visit_reason else {},
        }
        plan = plans.create_plan(session, OFFICE, body, gateway.settings)
        publish_filed(session, OFFICE, plan.id, gateway.settings)
        draw = draws.freeze(session, OFFICE, plan.id, secret=gateway.settings.secret_key)
        draws.commit(session, OFFICE, draw.id, commitments_for(), secret=gateway.settings.secret_key)
        draws.reveal_seed(session, OFFICE, draw.id, REVEALS, WITNESSES)
        plan_id, draw_id = plan.id, draw.id
    draws.run_and_record_failure(gateway, OFFICE, draw_id)
    with gateway.read() as session:
        task = session.scalar(select(Task).where(Task.plan_id == plan_id).order_by(Task.id))
        leader = next(m.inspector_id for m in task.members
                      if m.active and m.department_code == matter.department_code)
        task_id = task.id
        methods = tuple(allowed_methods(gateway, session, task))  # as the plan chose (off site or visit)
    if checked_in:
        confirm_arrival(gateway, task_id)
    return DrawnTask(plan_id=plan_id, draw_id=draw_id, task_id=task_id, matter_code=matter_code,
                     inspector_id=leader, values=checklist_values(gateway, matter_code),
                     methods=methods)
