"""Platform records built from published entities (``schemas/platform.py`` is the contract).

One builder per outbox kind. A builder reads the published, immutable entity and what it refers to
(plan, task, target, departments, matters) and returns the record as plain JSON values. The sync
worker calls it once, when it first claims the row, and keeps the result in the row's ``payload``
so that every resend carries identical content; an operator may ask for a rebuild after correcting
the data a dead letter was rejected for.

A record's ``id`` is the outbox row's ``record_id`` (``<area>-<kind>-<entity id>``). The
platform's length limits are not quietly worked around: the only values shortened here are free
texts the platform treats as optional (remarks), so a record with, say, a plan name longer than the
platform allows is rejected there and lands in the dead-letter list with the platform's own reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.directory.models import Department, MatterVersion, Target
from gateway.draw.models import Draw
from gateway.planning.models import Plan
from gateway.results.models import Disposition, InspectionResult
from gateway.sync.outbox import platform_record_id
from gateway.tasks.models import Task, TaskMember
from schemas.common import CHINA_TZ

# Outbox kind -> the platform's URL segment (POST /api/v1/<segment>/batch).
PLATFORM_KINDS = {"plan": "plans", "draw": "draw-results", "result": "inspection-results", "disposition": "follow-ups"}
KIND_BY_PLATFORM = {segment: kind for kind, segment in PLATFORM_KINDS.items()}

PLAN_REMARKS_MAX = 500
RESULT_REMARKS_MAX = 1000


class BuildError(Exception):
    """The entity cannot be turned into a platform record (missing, or not published)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def as_field_errors(self) -> list[dict[str, Any]]:
        return [{"field": None, "code": self.code, "message": self.message}]


def china_date(moment: datetime | None) -> date | None:
    """The date in China (UTC+8) of a naive UTC time."""
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc).astimezone(CHINA_TZ).date()


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _clip(text: str | None, limit: int) -> str | None:
    """Optional free text: None when empty, shortened with an ellipsis when over the limit."""
    text = (text or "").strip()
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Names:
    """Department and matter names, read once per build."""

    def __init__(self, session: Session):
        self.session = session
        self._departments: dict[str, Department | None] = {}

    def department(self, code: str) -> Department | None:
        if code not in self._departments:
            self._departments[code] = self.session.get(Department, code)
        return self._departments[code]

    def department_name(self, code: str) -> str:
        department = self.department(code)
        return department.name if department is not None else code

    def department_level(self, code: str) -> str:
        department = self.department(code)
        return department.level if department is not None and department.level else "county"

    def plan_matters(self, plan: Plan) -> list[dict[str, str]]:
        ids = [m.matter_version_id for m in plan.matters]
        versions = {v.id: v for v in self.session.scalars(select(MatterVersion).where(MatterVersion.id.in_(ids)))}
        return [{"code": m.matter_code, "name": versions[m.matter_version_id].name if m.matter_version_id in versions
                 else m.matter_code} for m in plan.matters]


# ------------------------------------------------------------------------------------------ plan

def build_plan(session: Session, entity_id: int, record_id: str, settings: Settings) -> dict[str, Any]:
    plan = session.get(Plan, entity_id)
    if plan is None:
        raise BuildError("entity_missing", f"抽查计划 {entity_id} 不存在。")
    if plan.status not in ("published", "superseded") or plan.published_at is None:
        raise BuildError("entity_not_published", f"抽查计划 {plan.number} 尚未发布，不能推送。")
    names = _Names(session)
    departments = [names.department_name(plan.lead_department)]
    for code in plan.cooperating_departments or []:
        name = names.department_name(code)
        if name not in departments:
            departments.append(name)
    remarks = plan.description
    if plan.amends_id is not None and plan.amend_reason:
        remarks = f"第 {plan.version} 版修订：{plan.amend_reason}" + (f"；{plan.description}" if plan.description else "")
    return {
        "id": record_id,
        "plan_number": plan.number,
        "plan_name": plan.title,
        "plan_type": "joint" if plan.kind == "joint" else "department",
        "organiser": departments[0],
        "departments": departments,
        "year": plan.year,
        "start_date": _iso(plan.window_start),
        "end_date": _iso(plan.window_end),
        "published_on": _iso(china_date(plan.published_at)),
        "matters": names.plan_matters(plan),
        "remarks": _clip(remarks, PLAN_REMARKS_MAX),
    }


# ------------------------------------------------------------------------------------------ draw

def draw_task_number(plan: Plan, draw_id: int) -> str:
    """The platform's task number of a draw: the plan number and the draw's sequence."""
    return f"{plan.number}-抽取{draw_id}"


def build_draw(session: Session, entity_id: int, record_id: str, settings: Settings) -> dict[str, Any]:

    draw = session.get(Draw, entity_id)
    if draw is None:
        raise BuildError("entity_missing", f"抽取 {entity_id} 不存在。")
    if draw.status != "drawn" or draw.drawn_at is None:
        raise BuildError("entity_not_published", f"抽取 {entity_id} 尚未完成，不能推送。")
    plan = draw.plan
    names = _Names(session)
    tasks = session.execute(
        select(Task.matter_codes, Target.uscc, Target.name)
        .join(Target, Target.id == Task.target_id)
        .where(Task.plan_id == draw.plan_id, Task.draw_id == draw.id)  # the plan's index
        .order_by(Task.id)
    ).all()
    record = {
        "id": record_id,
        "plan_number": plan.number,
        "plan_name": plan.title,
        "task_number": draw_task_number(plan, draw.id),
        "task_name": f"{plan.title}随机抽取",
        "organiser": names.department_name(plan.lead_department),
        "drawn_on": _iso(china_date(draw.drawn_at)),
        "targets": [{"uscc": uscc, "name": name, "matters": list(matters or [])} for matters, uscc, name in tasks],
        "record_sha256": draw.record_sha256,
        "record_url": None,
    }
    if settings.public_base_url:
        record["record_url"] = f"{settings.public_base_url.rstrip('/')}/api/v1/draws/{draw.id}/record"
    return record


# ---------------------------------------------------------------------------------------- result

def _task_name(plan_matters: list[dict[str, str]], plan: Plan, matter_codes: Iterable[str]) -> str:
    by_code = {m["code"]: m["name"] for m in plan_matters}
    matters = [by_code.get(code, code) for code in matter_codes]
    if not matters:
        return plan.title
    joined = "、".join(matters) + "检查"
    return joined if len(joined) <= 200 else f"{matters[0]}等 {len(matters)} 项事项检查"


def build_results(session: Session, wanted: dict[int, str], settings: Settings) -> dict[int, dict[str, Any] | BuildError]:
    """Inspection-result records for many results at once (entity id -> record, or the reason there
    is none): a handful of queries for a whole batch instead of several per record."""

    ids = list(wanted)
    rows = session.execute(
        select(InspectionResult.id, InspectionResult.status, InspectionResult.supersedes_id,
               InspectionResult.correction_reason, InspectionResult.remarks, InspectionResult.completed_on,
               InspectionResult.result_codes, InspectionResult.public_target, Task.id.label("task_id"), Task.number, Task.plan_id,
               Task.lead_department, Task.matter_codes, Target.uscc, Target.name)
        .join(Task, Task.id == InspectionResult.task_id)
        .join(Target, Target.id == Task.target_id)
        .where(InspectionResult.id.in_(ids))
    ).all()
    teams: dict[int, set[str]] = {}
    for task_id, department in session.execute(
            select(TaskMember.task_id, TaskMember.department_code)
            .where(TaskMember.task_id.in_({r.task_id for r in rows}), TaskMember.active.is_(True))):
        teams.setdefault(task_id, set()).add(department)
    names = _Names(session)
    plans: dict[int, tuple[Plan, list[dict[str, str]]]] = {}
    out: dict[int, dict[str, Any] | BuildError] = {
        i: BuildError("entity_missing", f"检查结果 {i} 不存在。") for i in ids
    }
    for r in rows:
        if r.status != "published":
            out[r.id] = BuildError("entity_not_published", f"检查结果 {r.id} 尚未公示，不能推送。")
            continue
        if r.plan_id not in plans:
            plan = session.get(Plan, r.plan_id)
            plans[r.plan_id] = (plan, names.plan_matters(plan))
        plan, plan_matters = plans[r.plan_id]
        departments = teams.get(r.task_id, set()) | {r.lead_department}
        joint = plan.kind == "joint" or len(departments) > 1
        remarks = r.remarks or ""
        if r.supersedes_id is not None:
            corrected = platform_record_id(settings.area_code, "result", r.supersedes_id)
            note = f"更正记录 {corrected}" + (f"：{r.correction_reason}" if r.correction_reason else "")
            remarks = note + (f"；{remarks}" if remarks else "")
        out[r.id] = {
            "id": wanted[r.id],
            "plan_number": plan.number,
            "plan_name": plan.title,
            "task_number": r.number,
            "task_name": _task_name(plan_matters, plan, r.matter_codes),
            "inspection_type": "joint_random" if joint else "department_random",
            "authority": names.department_name(r.lead_department),
            "authority_level": names.department_level(r.lead_department),
            "completed_on": _iso(r.completed_on),
            "result_codes": list(r.result_codes),
            "remarks": _clip(remarks, RESULT_REMARKS_MAX),
            "uscc": r.uscc,
            "target_name": (r.public_target or {}).get("name") or r.name,  # the name as published
        }
    return out


def build_result(session: Session, entity_id: int, record_id: str, settings: Settings) -> dict[str, Any]:
    built = build_results(session, {entity_id: record_id}, settings)[entity_id]
    if isinstance(built, BuildError):
        raise built
    return built


# ----------------------------------------------------------------------------------- disposition

def build_disposition(session: Session, entity_id: int, record_id: str, settings: Settings) -> dict[str, Any]:

    disposition = session.get(Disposition, entity_id)
    if disposition is None:
        raise BuildError("entity_missing", f"后续处置 {entity_id} 不存在。")
    if disposition.status != "published":
        raise BuildError("entity_not_published", f"后续处置 {entity_id} 尚未公示，不能推送。")
    names = _Names(session)
    target = session.get(Target, disposition.target_id)
    description = disposition.description
    if disposition.receiving_authority:
        description = f"{description}（移送：{disposition.receiving_authority}）"
    return {
        "id": record_id,
        "inspection_result_id": platform_record_id(settings.area_code, "result", disposition.result_id),
        "uscc": target.uscc if target is not None else "",
        "disposition": disposition.kind,
        "authority": names.department_name(disposition.department_code),
        "decided_on": _iso(disposition.decided_on),
        "document_number": disposition.decision_number or None,
        "description": description,
    }


Builder = Callable[[Session, int, str, Settings], dict[str, Any]]
BUILDERS: dict[str, Builder] = {
    "plan": build_plan,
    "draw": build_draw,
    "result": build_result,
    "disposition": build_disposition,
}


def build_many(session: Session, kind: str, wanted: dict[int, str],
               settings: Settings) -> dict[int, dict[str, Any] | BuildError]:
    """Records for several entities of one kind: entity id -> record, or the :class:`BuildError`."""
    if kind == "result":
        return build_results(session, wanted, settings)
    out: dict[int, dict[str, Any] | BuildError] = {}
    for entity_id, record_id in wanted.items():
        try:
            out[entity_id] = build_record(session, kind, entity_id, record_id, settings)
        except BuildError as error:
            out[entity_id] = error
    return out


def build_record(session: Session, kind: str, entity_id: int, record_id: str, settings: Settings) -> dict[str, Any]:
    """The platform record of one published entity; :class:`BuildError` when there is none."""
    try:
        builder = BUILDERS[kind]
    except KeyError:
        raise BuildError("unknown_kind", f"未知的记录类型“{kind}”。") from None
    return builder(session, entity_id, record_id, settings)


# --------------------------------------------------------------------------- what was published

@dataclass(frozen=True)
class Published:
    """A published entity that should be on the platform."""

    kind: str
    entity_id: int
    department_code: str
    due_date: datetime | None = None


def published_entities(session: Session, kind: str) -> list[Published]:
    """Every published entity of ``kind`` (for reconciliation: each needs an outbox row)."""
    if kind == "plan":
        rows = session.execute(
            select(Plan.id, Plan.lead_department).where(Plan.status.in_(("published", "superseded")))
        ).all()
        return [Published("plan", pid, dept) for pid, dept in rows]
    if kind == "draw":

        rows = session.execute(
            select(Draw.id, Plan.lead_department).join(Plan, Plan.id == Draw.plan_id).where(Draw.status == "drawn")
        ).all()
        return [Published("draw", did, dept) for did, dept in rows]
    if kind == "result":

        rows = session.execute(
            select(InspectionResult.id, Task.lead_department, InspectionResult.deadline)
            .join(Task, Task.id == InspectionResult.task_id)
            .where(InspectionResult.status == "published")
        ).all()
        return [Published("result", rid, dept, _midnight(deadline)) for rid, dept, deadline in rows]
    if kind == "disposition":

        rows = session.execute(
            select(Disposition.id, Disposition.department_code, Disposition.deadline)
            .where(Disposition.status == "published")
        ).all()
        return [Published("disposition", did, dept, _midnight(deadline)) for did, dept, deadline in rows]
    raise ValueError(f"unknown record kind {kind!r}")


def _midnight(day: date | None) -> datetime | None:
    return datetime(day.year, day.month, day.day) if day is not None else None
