"""Reading tasks (article 13): who sees which, what a task holds, its history."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from marshmallow import missing
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from gateway.directory.models import Department, MatterVersion, Target
from gateway.directory.queries import contains, target_match
from gateway.errors import NotFound
from gateway.planning.models import Plan, PlanMatter
from gateway.security.policy import ANY, OWN_DEPARTMENT, TEAM, authorize, scope_of
from gateway.security.principal import Principal
from gateway.tasks.models import Task, TaskEvent, TaskJoin, TaskMember
from schemas.common import RowView, python_values
from schemas.tasks import TaskSchema

EVENT_LABELS = {
    "created": "抽取生成任务",
    "reassignment_requested": "申请调整检查人员",
    "reassignment_approved": "单位负责人批准调整",
    "reassignment_rejected": "单位负责人不予批准",
    "member_replaced": "按抽取规则替换检查人员",
    "reassignment_filed": "县双随机办备案",
}


def get_task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound.of("检查任务", task_id)
    return task


def task_departments(task: Task) -> list[str]:
    departments = [task.lead_department]
    for member in task.members:
        if member.active and member.department_code not in departments:
            departments.append(member.department_code)
    return departments


def task_team_ids(task: Task) -> list[int]:
    return [m.inspector_id for m in task.members if m.active]


def read_task(session: Session, principal: Principal, task_id: int, action: str = "tasks.read") -> Task:
    task = get_task(session, task_id)
    authorize(principal, action, departments=task_departments(task), team=task_team_ids(task))
    return task


def tasks_query(principal: Principal, args: Mapping[str, Any]):
    """Tasks the principal may see: every task, its department's tasks, or its own team's."""
    stmt = select(Task)
    scope = scope_of(principal, "tasks.read")
    if scope == OWN_DEPARTMENT:
        dept = principal.department_code or ""
        stmt = stmt.where(or_(Task.lead_department == dept, exists().where(
            TaskMember.task_id == Task.id, TaskMember.active.is_(True), TaskMember.department_code == dept)))
    elif scope == TEAM:
        stmt = stmt.where(exists().where(
            TaskMember.task_id == Task.id, TaskMember.active.is_(True),
            TaskMember.inspector_id == (principal.inspector_id or -1)))
    elif scope != ANY:
        authorize(principal, "tasks.read")
    for name in ("plan_id", "draw_id", "status"):
        if args.get(name):
            stmt = stmt.where(getattr(Task, name) == args[name])
    if args.get("department"):
        dept = args["department"]
        stmt = stmt.where(or_(Task.lead_department == dept, exists().where(
            TaskMember.task_id == Task.id, TaskMember.active.is_(True), TaskMember.department_code == dept)))
    if args.get("uscc"):
        stmt = stmt.where(Task.target_id.in_(select(Target.id).where(Target.uscc == args["uscc"].strip().upper())))
    if args.get("key_inspection") is not None:
        stmt = stmt.where(Task.key_inspection.is_(args["key_inspection"]))
    if args.get("q"):
        stmt = stmt.where(search_clause(args["q"]))
    return stmt.order_by(Task.id)


def search_clause(text: str):
    """Tasks whose number contains ``text`` or whose target it names (``target_match``)."""
    return or_(contains(Task.number, text.strip()), Task.target_id.in_(select(Target.id).where(target_match(text))))


@dataclass(frozen=True)
class TaskMatter:
    code: str
    department: str
    version: MatterVersion


def task_matters(session: Session, task: Task) -> list[TaskMatter]:
    """The task's matters with the content of the version its plan pinned, in plan order."""
    return matters_of_tasks(session, [task])[task.id]


def matters_of_tasks(session: Session, tasks: list[Task]) -> dict[int, list[TaskMatter]]:
    """:func:`task_matters` of each task (by id): the plan's matters, then those another department
    joined into the task (:class:`TaskJoin`); two queries for all of them."""
    rows = session.execute(
        select(PlanMatter, MatterVersion).join(MatterVersion, MatterVersion.id == PlanMatter.matter_version_id)
        .where(PlanMatter.plan_id.in_({t.plan_id for t in tasks}),
               PlanMatter.matter_code.in_({c for t in tasks for c in t.matter_codes}))
        .order_by(PlanMatter.id)
    ).all()
    joined = session.execute(
        select(TaskJoin, MatterVersion).join(MatterVersion, MatterVersion.id == TaskJoin.matter_version_id)
        .where(TaskJoin.task_id.in_({t.id for t in tasks})).order_by(TaskJoin.id)
    ).all()
    out = {}
    for task in tasks:
        extra = [TaskMatter(j.matter_code, j.department_code, version) for j, version in joined if j.task_id == task.id]
        own = {m.code for m in extra}
        out[task.id] = [TaskMatter(pm.matter_code, pm.department_code, version) for pm, version in rows
                        if pm.plan_id == task.plan_id and pm.matter_code in task.matter_codes
                        and pm.matter_code not in own] + extra
    return out


def department_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Department.code, Department.name)).all())


def task_dict(session: Session, task: Task, with_team: bool = False) -> dict[str, Any]:
    """A task as the API shows it, with Python values (for the pages and the command line)."""
    return python_values(TaskSchema(), task_views(session, [task], with_team=with_team)[0])


def task_views(session: Session, tasks: list[Task], with_team: bool = False) -> list["TaskView"]:
    """What ``TaskSchema`` dumps for each task; plans, matters and department names are read once
    for all of them. The team is shown in a single task's view only (``with_team``)."""
    if not tasks:
        return []
    plans = {p.id: p for p in session.scalars(select(Plan).where(Plan.id.in_({t.plan_id for t in tasks})))}
    matters = matters_of_tasks(session, tasks)
    names = department_names(session) if with_team else None
    return [TaskView(t, plans[t.plan_id], matters[t.id], names) for t in tasks]


class TaskView(RowView):
    def __init__(self, task: Task, plan: Plan, matters: list[TaskMatter], names: dict[str, str] | None):
        self.row = task
        self.plan_number, self.plan_title = plan.number, plan.title
        self.uscc, self.target_name, self.township = task.target.uscc, task.target.name, task.target.township
        self.matters = [{"code": m.code, "name": m.version.name, "department": m.department} for m in matters]
        self.departments = sorted({m.department_code for m in task.members if m.active})
        self.team = missing if names is None else [
            {"member_id": m.id, "inspector_id": m.inspector_id, "name": m.inspector.name,
             "department": m.department_code, "department_name": names.get(m.department_code, m.department_code),
             "role": m.role, "source": m.source}
            for m in task.members if m.active
        ]


def history(session: Session, task: Task) -> list[dict[str, Any]]:
    """The task's history: its creation by the draw, then every reassignment step, oldest first."""
    entries = [{
        "at": task.created_at, "action": "created", "label": EVENT_LABELS["created"], "actor": "",
        "details": {"draw_id": task.draw_id,
                    "team": [m.inspector_id for m in task.members if m.source == "draw"]},
    }]
    events = session.scalars(select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id))
    for event in events:
        entries.append({"at": event.at, "action": event.action, "label": EVENT_LABELS.get(event.action, event.action),
                        "actor": event.actor, "details": event.details})
    return entries
