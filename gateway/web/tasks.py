"""Tasks: the lists (department, office, an inspector's own), one task with its team and history,
the printable task sheet and guide, and article 14 reassignments (request, decision, filing).

The rules are in ``gateway.tasks.service`` and ``gateway.tasks.reassign``."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import case, exists, select

from gateway.api.session import db, get_gateway
from gateway.codes import service as inspection_codes
from gateway.draw.models import Draw
from gateway.errors import NotFound
from gateway.planning.models import Plan
from gateway.results import service as results
from gateway.results.clock import china_today
from gateway.results.models import InspectionResult
from gateway.security import audit
from gateway.security.policy import TEAM, allows, permission, scope_of
from gateway.security.principal import current_principal
from gateway.tasks import reassign, service, sheets
from gateway.tasks.models import Reassignment, Task
from gateway.web.base import local_path, make_blueprint, paged, run_action
from gateway.web.notices import notice_panel

bp = make_blueprint("web_tasks", "/console")

TASK_STATUS_LABELS = {"assigned": "待检查", "recorded": "已录入结果", "reviewed": "已审核", "published": "已公示"}
REASON_OPTIONS = (("conflict_of_interest", "与检查对象有利害关系，依法回避"), ("other", "其他特殊原因"))


def _result_states(session, task_ids: list[int]) -> dict[int, dict]:
    """The latest result version of each task (status and label), for the lists."""
    out = {}
    for task_id in task_ids:
        latest = results.latest_version(session, task_id)
        if latest is not None:
            out[task_id] = {"id": latest.id, "status": latest.status}
    return out


MINE_FILTERS = (("returned", "已退回"), ("today", "今日到期"), ("due_soon", "即将到期"))
SOON_DAYS = 7  # calendar days ahead that count as 即将到期 on the inspector's list


def _list_args() -> dict:
    args = {}
    for name in ("status", "department", "uscc", "q"):
        value = (request.args.get(name) or "").strip()
        if value:
            args[name] = value
    for name in ("plan_id", "draw_id"):
        value = request.args.get(name, type=int)
        if value:
            args[name] = value
    return args


@bp.route("/tasks")
@permission("tasks.read")
def index():
    return _task_list(current_principal(), mine=False)


@bp.route("/my-tasks")
@permission("tasks.read")
def my_tasks():
    principal = current_principal()
    if scope_of(principal, "tasks.read") != TEAM:
        return redirect(url_for("web_tasks.index"))
    return _task_list(principal, mine=True)


def _returned():
    """SQL: the task has a result version sent back for correction."""
    return exists().where(InspectionResult.task_id == Task.id, InspectionResult.status == "returned")


def _mine_query(stmt, show: str):
    """The inspector's list: returned tasks first, then by due date; ``show`` narrows it to the
    returned ones, those due today, or those due within :data:`SOON_DAYS` and not yet recorded."""
    today = china_today()
    if show == "returned":
        stmt = stmt.where(_returned())
    elif show == "today":
        stmt = stmt.where(Task.window_end == today, Task.status == "assigned")
    elif show == "due_soon":
        stmt = stmt.where(Task.window_end >= today, Task.window_end <= today + timedelta(days=SOON_DAYS),
                          Task.status == "assigned")
    return stmt.order_by(None).order_by(case((_returned(), 0), else_=1), Task.window_end, Task.id)


def _task_list(principal, *, mine: bool):
    session, args = db(), _list_args()
    stmt = service.tasks_query(principal, args)
    show = request.args.get("show") or ""
    if mine:
        stmt = _mine_query(stmt, show)
    page = paged(session, stmt, lambda t: service.task_dict(session, t))
    states = _result_states(session, [t["id"] for t in page.items])
    choices = {} if mine else _filter_choices(session)
    return render_template("tasks/index.html", page=page, args=args, states=states, show=show,
                           status_labels=TASK_STATUS_LABELS, mine=mine, mine_filters=MINE_FILTERS, **choices)


def _filter_choices(session) -> dict:
    """The plans and draws the office list can be narrowed to (newest first)."""
    plans = session.execute(select(Plan.id, Plan.year, Plan.title).where(Plan.status != "draft")
                            .order_by(Plan.year.desc(), Plan.id.desc())).all()
    titles = {p.id: p.title for p in plans}
    draws = session.execute(select(Draw.id, Draw.plan_id).where(Draw.status == "drawn")
                            .order_by(Draw.id.desc())).all()
    return {"plan_choices": [(p.id, p.title) for p in plans],
            "draw_choices": [(d.id, f"第 {d.id} 次抽取 · {titles.get(d.plan_id, '')}") for d in draws]}


@bp.route("/tasks/number/<path:number>")
@permission("tasks.read")
def by_number(number: str):
    """A task by its number (the draw page and the team list link here)."""
    session = db()
    task = session.scalar(service.tasks_query(current_principal(), {}).where(Task.number == number))
    if task is None:
        raise NotFound.of("检查任务", number)
    return redirect(url_for("web_tasks.detail", task_id=task.id))


@bp.route("/tasks/<int:task_id>")
@permission("tasks.read")
def detail(task_id: int):
    principal = current_principal()
    gateway = get_gateway()
    with gateway.write() as session:  # the team by name is personal data: the read is audited
        task = service.read_task(session, principal, task_id)
        audit.record(session, principal, "tasks.read_team", "task", task.id, {"fields": ["inspector names"]})
        data = service.task_dict(session, task, with_team=True)
        history = service.history(session, task)
        enterprise = notice_panel(session, principal, task)
        versions = [{"id": v.id, "version": v.version, "status": v.status, "recorded_by": v.recorded_by,
                     "recorded_at": v.recorded_at, "published_on": v.published_on}
                    for v in results.versions_of(session, task.id)]
        reassignments = [reassign.reassignment_dict(r) for r in session.scalars(
            select(Reassignment).where(Reassignment.task_id == task.id).order_by(Reassignment.id))]
        resource = {"departments": service.task_departments(task), "team": service.task_team_ids(task)}
        code = inspection_codes.code_block(session, gateway.settings, task, request.host_url)
    can_record = allows(principal, "results.record", **resource)
    can_request = allows(principal, "reassignments.request", **resource) and data["status"] == "assigned"
    requestable = [m for m in data["team"]
                   if allows(principal, "reassignments.request", departments=[m["department"]], team=[m["inspector_id"]])]
    return render_template("tasks/detail.html", enterprise=enterprise, task=data, history=history, versions=versions,
                           reassignments=reassignments, can_record=can_record, can_request=can_request,
                           requestable=requestable, status_labels=TASK_STATUS_LABELS, reason_options=REASON_OPTIONS,
                           errors={}, code=code)


# A task's printable documents, by kind.
DOC_TITLES = {"sheet": "检查任务书", "guide": "检查指引书"}


@bp.route("/tasks/<int:task_id>/sheet")
@permission("tasks.read")
def sheet(task_id: int):
    return _printable(task_id, "sheet")


@bp.route("/tasks/<int:task_id>/guide")
@permission("tasks.read")
def guide(task_id: int):
    return _printable(task_id, "guide")


def _printable(task_id: int, kind: str):
    """The task sheet or guide, from the tasks part's content (``gateway.tasks.sheets``), in the
    site's layout (the CSP forbids the inline styles of the stand-alone version)."""
    principal = current_principal()
    gateway = get_gateway()
    context_of = sheets.sheet_context
    with gateway.write() as session:
        task = service.read_task(session, principal, task_id)
        if kind == "sheet":
            audit.record(session, principal, "tasks.read_sheet", "task", task.id, {"fields": ["inspector names"]})
        code = inspection_codes.code_block(session, gateway.settings, task, request.host_url) if kind == "sheet" else None
        context = context_of(session, task, gateway.hook, code)
        return render_template("tasks/document.html", kind=kind, doc_title=DOC_TITLES[kind], doc_titles=DOC_TITLES,
                               **context)


@bp.route("/draws/<int:draw_id>/documents/<string:kind>")
@permission("tasks.read")
def draw_documents(draw_id: int, kind: str):
    """Every task sheet (or guide) of a draw that the user may read, as one printable document."""
    if kind not in DOC_TITLES:
        raise NotFound.of("打印文件", kind)
    principal, gateway = current_principal(), get_gateway()
    with gateway.write() as session:
        tasks = list(session.scalars(service.tasks_query(principal, {"draw_id": draw_id})))
        if not tasks:
            raise NotFound.of("抽取的检查任务", draw_id)
        documents = []
        for task in tasks:
            if kind == "sheet":
                audit.record(session, principal, "tasks.read_sheet", "task", task.id, {"fields": ["inspector names"]})
            documents.append(sheets.sheet_context(session, task, gateway.hook))
        return render_template("tasks/draw_documents.html", documents=documents, kind=kind, draw_id=draw_id,
                               doc_title=DOC_TITLES[kind])


@bp.route("/tasks/<int:task_id>/reassignments", methods=["POST"])
@permission("reassignments.request")
def request_reassignment(task_id: int):
    inspector_id = request.form.get("inspector_id", type=int)
    data = {"inspector_id": inspector_id or 0, "reason_code": request.form.get("reason_code") or "",
            "reason": (request.form.get("reason") or "").strip()}
    if not data["reason"]:
        flash("请说明调整的具体原因。", "error")
        return redirect(url_for("web_tasks.detail", task_id=task_id, _anchor="reassign"))
    gateway = get_gateway()

    def act():
        with gateway.write() as session:
            reassign.request(session, current_principal(), task_id, data)

    run_action(act, "人员调整申请已提交，等待单位负责人审批。")
    return redirect(url_for("web_tasks.detail", task_id=task_id, _anchor="reassign"))


@bp.route("/reassignments")
@permission("tasks.read")
def reassignments():
    principal, session = current_principal(), db()
    status = request.args.get("status") or ""
    args = {"status": status if status in ("requested", "approved", "rejected") else None,
            "filing_status": "pending" if request.args.get("filing") == "pending" else None}
    # The same scope as the API's listing, newest first.
    stmt = reassign.reassignments_query(principal, args).order_by(None).order_by(Reassignment.id.desc())
    page = paged(session, stmt, reassign.reassignment_dict)
    can_decide = {r["id"]: allows(principal, "reassignments.approve", departments=[r["department"]]) for r in page.items}
    return render_template("tasks/reassignments.html", page=page, can_decide=can_decide,
                           can_file=allows(principal, "reassignments.file"), status=status,
                           filing=request.args.get("filing") or "",
                           status_labels=reassign.STATUS_LABELS)


@bp.route("/reassignments/<int:reassignment_id>/<string:decision>", methods=["POST"])
@permission("tasks.read")
def decide(reassignment_id: int, decision: str):
    """Approve or reject (the department head), or file (the county office); each service call
    authorizes its own action."""
    gateway = get_gateway()
    note = (request.form.get("note") or "").strip()
    principal = current_principal()
    if decision == "reject" and not note:
        flash("不予批准时必须填写理由。", "error")
        return redirect(url_for("web_tasks.reassignments"))

    def act():
        with gateway.write() as session:
            if decision == "approve":
                item = reassign.approve(session, principal, reassignment_id, note, settings=gateway.settings)
                return f"已批准：按抽取规则替换为 {reassign.reassignment_dict(item)['replacement_name']}，待县双随机办备案。"
            if decision == "reject":
                reassign.reject(session, principal, reassignment_id, note)
                return "已不予批准，检查组保持不变。"
            if decision == "file":
                item = reassign.file(session, principal, reassignment_id, gateway.settings, note)
                return f"已备案，备案号 {item.filing_number}。"
            abort(404)

    message, error = run_action(act)
    if error is None and message:
        flash(message, "success")
    return redirect(local_path(request.form.get("back") or url_for("web_tasks.reassignments")))
