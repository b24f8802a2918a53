"""Before a visit: the repeat-visit warning as a page (another department's inspection of the target
within ``repeat_visit_days``), and joining that department's open task (issue 16 item 3)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from gateway.api.session import db, get_gateway
from gateway.errors import Invalid
from gateway.ledger.joining import join_task
from gateway.ledger.warnings import repeat_visits
from gateway.results.clock import china_today
from gateway.security.policy import permission
from gateway.security.principal import current_principal
from gateway.web.base import make_blueprint, run_action
from schemas.visits import RepeatVisitQuerySchema, TaskJoinSchema

bp = make_blueprint("web_visits", "/console/visits")


@bp.route("")
@permission("visits.read")
def check():
    """The form (target, department, day) and, once sent, the warnings with a join form for each
    joinable task."""
    principal = current_principal()
    args = {"uscc": request.args.get("uscc", ""), "department": request.args.get("department")
            or principal.department_code or "", "on": request.args.get("on") or china_today().isoformat()}
    warnings, errors = None, {}
    if request.args.get("uscc"):
        try:
            query = RepeatVisitQuerySchema().load(args)
        except ValidationError as exc:
            errors = exc.messages
        else:
            warnings = repeat_visits(db(), query["uscc"], query["department"], query["on"],
                                     get_gateway().settings.repeat_visit_days, today=china_today())
            if warnings:
                flash(f"重复检查预警：{len(warnings)} 次其他部门的检查与本次相隔不到 "
                      f"{get_gateway().settings.repeat_visit_days} 天。", "info")
    matters = [(code, m.name) for code, m in get_gateway().registry.matters.items()
               if m.department_code == args["department"]]
    return render_template("office/visits.html", args=args, warnings=warnings, errors=errors, matters=matters,
                           days=get_gateway().settings.repeat_visit_days)


@bp.route("/joins", methods=["POST"])
@permission("visits.join")
def join():
    gateway = get_gateway()
    form = request.form

    def act():
        try:
            data = TaskJoinSchema().load({
                "task_id": int(form.get("task_id") or 0), "matter_code": form.get("matter_code") or "",
                "inspector_ids": [int(v) for v in form.get("inspector_ids", "").replace("，", ",").split(",") if v.strip()],
                "reason": (form.get("reason") or "").strip()})
        except (ValidationError, ValueError) as exc:
            raise Invalid("validation_error", "提交的数据未通过校验。",
                          getattr(exc, "messages", {"inspector_ids": ["检查人员编号应为数字，以逗号分隔。"]})) from None
        with gateway.write() as session:
            return join_task(session, current_principal(), data["task_id"], data, china_today()).id

    task_id, error = run_action(act, "已并入该检查任务：一次检查，两个部门的检查表。")
    if error is None:
        return redirect(url_for("web_tasks.detail", task_id=task_id))
    return redirect(url_for("web_visits.check", **{k: form.get(k, "") for k in ("uscc", "department", "on")}))
