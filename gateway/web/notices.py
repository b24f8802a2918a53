"""The console's side of the enterprise (issue 17): generate the notice (检查通知书) with its access
code, record its delivery, and answer the enterprise's statements (陈述申辩). Shown on the task's
page; the rules are in ``gateway.enterprise``."""
from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from sqlalchemy.orm import Session

from gateway.api.session import get_gateway
from gateway.enterprise import notices, statements
from gateway.enterprise.models import DELIVERY_METHOD_LABELS
from gateway.security.policy import allows, permission
from gateway.security.principal import Principal, current_principal
from gateway.tasks import service
from gateway.tasks.api import printable_html
from gateway.tasks.models import Task
from gateway.web.base import make_blueprint, run_action

bp = make_blueprint("web_notices", "/console")


def notice_panel(session: Session, principal: Principal, task: Task) -> dict[str, Any]:
    """What the task's page shows of the notice and the statements, and what the reader may do."""
    shown = (statements.statements_of(session, principal, task)
             if allows(principal, "statements.read", departments=service.task_departments(task),
                       team=service.task_team_ids(task)) else [])
    return {
        "notice": notices.notice_of(session, task.id),
        "statements": shown,
        "can_send": allows(principal, "notices.send", departments=[task.lead_department]) and task.status != "published",
        "can_answer": allows(principal, "statements.answer", departments=[task.lead_department]),
        "delivery_methods": DELIVERY_METHOD_LABELS,
    }


def _back(task_id: int):
    return redirect(url_for("web_tasks.detail", task_id=task_id, _anchor="notice"))


@bp.post("/tasks/<int:task_id>/notice")
@permission("notices.send")
def generate(task_id: int):
    """Generate the notice and show it, printable, with the new access code (shown this once)."""
    gateway = get_gateway()

    def act():
        with gateway.write() as session:
            notice, code = notices.generate_notice(gateway, session, current_principal(), task_id,
                                                   request.form.get("contact", ""))
            return notices.render_notice(gateway, session, service.get_task(session, task_id), notice, code)

    page, error = run_action(act)
    return _back(task_id) if error is not None else printable_html(page)


@bp.get("/tasks/<int:task_id>/notice")
@permission("tasks.read")
def show(task_id: int):
    """The notice as generated, without the access code (the read is audited)."""
    principal, gateway = current_principal(), get_gateway()
    with gateway.write() as session:
        task = service.read_task(session, principal, task_id)
        return printable_html(notices.read_notice(gateway, session, principal, task))


@bp.post("/tasks/<int:task_id>/notice/delivery")
@permission("notices.send")
def deliver(task_id: int):
    def act():
        with get_gateway().write() as session:
            notices.record_delivery(session, current_principal(), task_id, request.form.get("method", ""),
                                    request.form.get("note", ""))

    run_action(act, "已记录检查通知书的送达。")
    return _back(task_id)


@bp.post("/statements/<int:statement_id>/answer")
@permission("statements.answer")
def answer(statement_id: int):
    task_id = request.form.get("task_id", type=int) or 0

    def act():
        with get_gateway().write() as session:
            statements.answer_statement(session, current_principal(), statement_id,
                                        (request.form.get("answer") or "").strip())

    run_action(act, "已答复陈述申辩。")
    return _back(task_id)
