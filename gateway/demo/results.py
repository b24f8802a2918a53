"""Demo results: every state of the article 18–22 workflow on the demo draw's tasks.

``load_demo_results`` takes the tasks of the demo's published joint plan (the one
``gateway.demo.draw.ensure_demo_draw`` draws) and, through the real services (validation,
authorization, the clock, the outbox, the risk rules), leaves on them:

- a result **recorded** by the team, and one **returned** by the lead department for correction;
- a result **reviewed** by the lead department;
- a result **published** with no problem found, and one published with a **correction** pending;
- a result recorded long enough ago to be **overdue**, and one **due soon**;
- a result with problems, published, with a **follow-up** (an administrative penalty) published;
- a result published with code 6 (cannot be reached at the registered address): its **proposal**
  to list the target on the 经营异常名录 awaits market supervision's decision (article 24).

Only when the database holds no task at all (no demo draw yet) does it create a small plan and
its tasks itself, through the models, so that the results have something to rest on.

Dates are counted back from ``today`` (default: today in China) and must fall inside the tasks'
inspection window: a state whose completion date would fall before the window opens (e.g. an
overdue result early in the plan's window) is skipped and reported in ``skipped``.
Idempotent: when any demo task already has a result, nothing is added.
"""
from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any, Callable

from sqlalchemy import func, select

from gateway.codes.checkins import is_site_visit
from gateway.core import Gateway
from gateway.demo.codes import confirm_arrival
from gateway.directory.matters import current_matter_versions
from gateway.directory.models import INACTIVE_TARGET_STATUSES, Inspector, Target
from gateway.directory.queries import criteria_clause
from gateway.errors import DomainError
from gateway.planning.models import Plan, PlanMatter
from gateway.results import followups, service
from gateway.results.checklist import merged_checklist
from gateway.results.clock import china_today, compute_deadline
from gateway.results.deadline import DUE_SOON, due_status
from gateway.results.models import InspectionResult
from gateway.results.validation import allowed_methods
from gateway.security.principal import Principal
from gateway.tasks.models import Task, TaskMember

log = logging.getLogger(__name__)

STATES = ("recorded", "returned", "reviewed", "published", "corrected", "overdue", "due_soon", "followed_up",
          "listing_proposed")
STATE_LABELS = {
    "recorded": "已录入", "returned": "已退回修改", "reviewed": "已审核", "published": "已公示",
    "corrected": "已公示并提交更正", "overdue": "逾期未公示", "due_soon": "即将到期", "followed_up": "已公示后续处置",
    "listing_proposed": "已公示并提请列入经营异常名录",
}
FALLBACK_TITLE = "检查结果演示用联合抽查计划"
SIGNERS = (("王建设", "法定代表人"), ("李红梅", "负责人"), ("赵国强", "站长"), ("孙丽", "质量负责人"))


def _sample_values(gateway: Gateway, matter_code: str, problem: str | None) -> dict[str, Any]:
    """A complete checklist for ``matter_code``: every outcome 符合 (the first one 不符合 when
    ``problem`` is given, with ``problem`` in every free-text field), choices their first option."""
    values: dict[str, Any] = {}
    failed = False
    for f in merged_checklist(gateway.plugin_manager, gateway.registry, matter_code).describe()["fields"]:
        kind, code = f["kind"], f["code"]
        if kind == "outcome":
            values[code] = "non_compliant" if problem and not failed else "compliant"
            failed = True
        elif kind == "boolean":
            values[code] = True
        elif kind == "integer":
            values[code] = 3
        elif kind == "decimal":
            values[code] = "250"
        elif kind == "choice":
            values[code] = next(iter(f["choices"]))
        elif problem:
            values[code] = problem
        elif f["required"]:
            values[code] = "无"
    return values


def _body(gateway: Gateway, matters: list[str], methods: list[str], completed: date, n: int, codes: list[str],
          problem: str | None) -> dict[str, Any]:
    signer, title = SIGNERS[n % len(SIGNERS)]
    signature = (
        {"status": "refused", "refusal_note": "检查对象负责人拒绝在检查表上签字，两名检查人员在场见证并记录。"}
        if n % 5 == 4 else {"status": "signed", "signer_name": signer, "signer_title": title}
    )
    return {
        "checklists": {m: _sample_values(gateway, m, problem) for m in matters},
        "result_codes": codes,
        "methods": methods,
        "completed_on": completed.isoformat(),
        "signature": signature,
        "remarks": problem or "",
    }


def _team_principal(session, task: Task) -> Principal:
    member = sorted(task.team, key=lambda m: (m.role != "lead", m.id))[0]
    inspector = session.get(Inspector, member.inspector_id)
    return Principal(role="inspector", name=inspector.name, department_code=member.department_code,
                     inspector_id=member.inspector_id)


def _head(gateway: Gateway, department: str) -> Principal:
    dept = gateway.registry.departments.get(department)
    return Principal(role="department_head", name=f"{dept.short_name or dept.name if dept else department}负责人（演示）",
                     department_code=department)


def _operator(gateway: Gateway, department: str) -> Principal:
    dept = gateway.registry.departments.get(department)
    return Principal(role="department_operator", name=f"{dept.short_name or dept.name if dept else department}操作员（演示）",
                     department_code=department)


def _due_soon_completion(gateway: Gateway, today: date) -> date:
    """A completion day whose deadline is due soon (at most 3 working days left) on ``today``."""
    for back in range(20, 45):
        completed = today - timedelta(days=back)
        deadline = compute_deadline(gateway.settings, completed)
        if due_status(deadline.due, today, holidays_file=gateway.settings.holidays_file or None) == DUE_SOON:
            return completed
    return today - timedelta(days=27)


def demo_tasks(gateway: Gateway) -> list[int]:
    """The tasks of the newest published joint plan that has any, in task-number order."""
    with gateway.read() as session:
        plan_id = session.scalar(
            select(Task.plan_id).join(Plan, Plan.id == Task.plan_id)
            .where(Plan.status == "published").order_by((Plan.kind == "joint").desc(), Task.plan_id.desc()).limit(1)
        )
        if plan_id is None:
            return []
        return list(session.scalars(select(Task.id).where(Task.plan_id == plan_id).order_by(Task.number)))


def create_fallback_tasks(gateway: Gateway, today: date, per_matter: int = 3) -> list[int]:
    """A published joint plan with tasks, written through the models (only used without a draw).

    For each matter, the first eligible targets (by the matter's own criteria) get a task; the
    team is one certified, active inspector of the lead department and one of each cooperating
    department, taken in turn. Nothing here is random: it is scaffolding, not a draw."""
    registry = gateway.registry
    start = today - timedelta(days=120)
    with gateway.write() as session:
        versions = current_matter_versions(session)
        year = start.year
        number = f"{gateway.settings.county_name}结果演示〔{year}〕1号"
        plan = Plan(
            number=number, version=1, year=year, kind="joint", title=FALLBACK_TITLE,
            lead_department=next(iter(registry.matters.values())).department_code, status="published",
            window_start=start, window_end=today + timedelta(days=60), frequency="每年1次",
            ratios={"A": "0.03", "B": "0.05", "C": "0.1", "D": "0.2"},
            description="演示数据：数据库中尚无抽取生成的检查任务时，为演示检查结果而建立。",
            created_by="演示数据",
        )
        for code in registry.matters:
            plan.matters.append(PlanMatter(matter_code=code, matter_version_id=versions[code].id,
                                           department_code=registry.matters[code].department_code))
        session.add(plan)
        session.flush()
        inspectors: dict[str, list[int]] = {}
        for row in session.scalars(select(Inspector).where(Inspector.active.is_(True)).order_by(Inspector.id)):
            if row.is_certified_on(today):
                inspectors.setdefault(row.department_code, []).append(row.id)
        turn: dict[str, int] = {}
        used: set[int] = set()
        serial = 0
        for code, matter in registry.matters.items():
            departments = [matter.department_code, *registry.cooperating_departments(code)]
            if any(not inspectors.get(d) for d in departments):
                continue
            targets = session.scalars(
                select(Target).where(criteria_clause(matter.criteria), Target.active.is_(True),
                                     Target.status.notin_(INACTIVE_TARGET_STATUSES))
                .order_by(Target.id).limit(per_matter + len(used))
            )
            taken = 0
            for target in targets:
                if target.id in used or taken >= per_matter:
                    continue
                used.add(target.id)
                taken += 1
                serial += 1
                task = Task(number=f"{number}-{serial:04d}", plan_id=plan.id, target_id=target.id,
                            lead_department=matter.department_code, matter_codes=[code],
                            window_start=plan.window_start, window_end=plan.window_end)
                for i, dept in enumerate(departments):
                    pool = inspectors[dept]
                    inspector_id = pool[turn.get(dept, 0) % len(pool)]
                    turn[dept] = turn.get(dept, 0) + 1
                    task.members.append(TaskMember(inspector_id=inspector_id, department_code=dept,
                                                   role="lead" if i == 0 else "member"))
                session.add(task)
        session.flush()
        return list(session.scalars(select(Task.id).where(Task.plan_id == plan.id).order_by(Task.number)))


def load_demo_results(gateway: Gateway, today: date | None = None) -> dict[str, Any]:
    """Leave results in every state on the demo tasks; return what was done (see the module doc)."""
    today = today or china_today()
    task_ids = demo_tasks(gateway)
    created_tasks = False
    if not task_ids:
        with gateway.read() as session:
            any_task = session.scalar(select(func.count(Task.id)))
        if not any_task:
            task_ids = create_fallback_tasks(gateway, today)
            created_tasks = True
    # PostgreSQL takes at most 65,535 parameters in one statement: a province-sized draw has more tasks
    chunks = [task_ids[i:i + 10_000] for i in range(0, len(task_ids), 10_000)]
    with gateway.read() as session:
        if any(session.scalar(select(func.count(InspectionResult.id)).where(InspectionResult.task_id.in_(chunk)))
               for chunk in chunks):
            # loaded before: leave the demo's results as they are
            return {"today": today, "tasks": len(task_ids), "created_tasks": False, "states": {}, "skipped": []}
        loaded = {t.id: t for chunk in chunks for t in session.scalars(select(Task).where(Task.id.in_(chunk)))}
        tasks = [loaded[t] for t in task_ids]
        windows = {t.id: t.window_start for t in tasks}
        # take the lead departments in turn, so that each department has results to show
        by_department: dict[str, list[int]] = {}
        for task in tasks:
            by_department.setdefault(task.lead_department, []).append(task.id)
        queues = [by_department[d] for d in sorted(by_department)]
        free = [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]
    done: dict[str, int] = {}
    skipped: list[str] = []
    pending = list(STATES)
    n = 0
    for task_id in free:
        if not pending:
            break
        state = pending[0]
        completed = {
            "overdue": today - timedelta(days=45),
            "due_soon": _due_soon_completion(gateway, today),
            "published": today - timedelta(days=12),
            "corrected": today - timedelta(days=16),
            "followed_up": today - timedelta(days=20),
            # Published states lie past the enterprise's statement window (5 working days).
            "listing_proposed": today - timedelta(days=10),
        }.get(state, today - timedelta(days=2))
        if completed < windows[task_id]:
            skipped.append(state)
            pending.pop(0)
            continue
        try:
            _make(gateway, task_id, state, completed, today, n)
        except DomainError as exc:  # a plugin rule this generic checklist does not meet: next task
            log.warning("demo result for task %s (%s) not made: %s %s", task_id, state, exc.message, exc.errors)
            continue
        done[state] = task_id
        pending.pop(0)
        n += 1
    skipped.extend(pending)
    return {"today": today, "tasks": len(task_ids), "created_tasks": created_tasks, "states": done,
            "skipped": skipped}


def _make(gateway: Gateway, task_id: int, state: str, completed: date, today: date, n: int) -> None:
    problem = {"followed_up": "现场检查发现购销台账记录不全，已当场指出。",
               "listing_proposed": "按登记的住所两次前往均无法联系，现场已无经营迹象。"}.get(state)
    codes = {"followed_up": ["A", "D"], "listing_proposed": ["A", "6"]}.get(state, ["1"])

    def run(action: Callable, *args, **kwargs):
        with gateway.write() as session:
            return action(gateway, session, *args, **kwargs)

    with gateway.read() as session:
        task = session.get(Task, task_id)
        recorder = _team_principal(session, task)
        lead, drawn = task.lead_department, task.draw_id is not None
        matters, methods = list(task.matter_codes), allowed_methods(gateway, session, task)[:2]
    body = _body(gateway, matters, methods, completed, n, codes, problem)
    if is_site_visit(methods) and drawn:
        confirm_arrival(gateway, task_id, today=completed)  # the enterprise confirmed the team's arrival
    result = service.store_and_notify(
        gateway, recorder, today,
        lambda g, s, p, day: service.record_result(g, s, p, task_id, body, today=day),
    )
    result_id = result["id"]
    if state in ("recorded", "overdue", "due_soon"):
        return
    if state == "returned":
        run(service.review_result, _head(gateway, lead), result_id, False, "请补充签字人职务后重新提交。")
        return
    run(service.review_result, _head(gateway, lead), result_id, True, "")
    if state == "reviewed":
        return
    run(service.publish_result, _head(gateway, lead), result_id, today=today)
    if state == "corrected":
        found = "复核发现检查时已当场责令改正的问题漏记，予以更正。"
        correction = {**_body(gateway, matters, methods, completed, n, ["E"], found), "reason": "复核发现漏记已责令改正的问题，更正检查结果。"}
        service.store_and_notify(
            gateway, recorder, today,
            lambda g, s, p, day: service.correct_result(g, s, p, result_id, correction, today=day),
        )
    if state == "followed_up":
        dept = gateway.registry.departments.get(lead)
        short = (dept.short_name or dept.name).replace("县", "")[:2] if dept else lead
        disposition = run(followups.record_disposition, _operator(gateway, lead), result_id, {
            "kind": "administrative_penalty",
            "decision_number": f"武{short}罚决字〔{today.year}〕{n + 1}号",
            "decided_on": today.isoformat(),
            "description": "责令限期改正，并处警告。",
        }, today=today)
        run(followups.publish_disposition, _head(gateway, lead), disposition.id, today=today)
