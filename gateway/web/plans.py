"""Plans (articles 11, 12): list, create, edit a draft, publish, amend a published plan.

The form is read into the API's body shape and checked with the same wire schemas
(``schemas.planning``); the rules (numbering, pinned matter versions, joint-plan composition,
late publication, amendments) are ``gateway.planning.service``'s.
"""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from gateway.api.session import db, get_gateway
from gateway.directory.models import RISK_CLASSES, Target
from gateway.errors import DomainError, Invalid
from gateway.planning import service
from gateway.planning.filing import file_plan
from gateway.results.clock import china_today
from gateway.security.policy import allows, permission
from gateway.security.principal import current_principal
from gateway.web.base import errors_of, flat_errors, make_blueprint, paged, refusal_status, run_action
from gateway.web.forms import errors_by_name
from schemas.planning import PlanAmendSchema, PlanCreateSchema, PlanFilingSchema, PlanUpdateSchema

bp = make_blueprint("web_plans", "/console/plans")

KIND_OPTIONS = (("joint", "跨部门联合抽查计划"), ("annual", "部门年度抽查计划"))
STATUS_LABELS = {"draft": "草稿", "published": "已发布", "superseded": "已被新版本替代"}
TYPE_OPTIONS = (("enterprise", "企业"), ("individual_business", "个体工商户"), ("farmer_cooperative", "农民专业合作社"),
                ("other_unit", "其他单位"))
DEFAULT_RATIOS = {"A": "0.03", "B": "0.05", "C": "0.1", "D": "0.2"}
LABELS = {
    "kind": "计划类型", "year": "年度", "title": "计划名称", "lead_department": "牵头部门",
    "cooperating_departments": "配合部门", "matters": "抽查事项", "frequency": "抽查频次",
    "window_start": "检查开始日期", "window_end": "检查结束日期", "description": "说明",
    "ratios": "抽查比例", "scope.townships": "乡镇范围", "scope.target_types": "主体类型",
    "key_rule.min_complaints": "投诉举报次数", "reason": "修订原因",
    **{f"ratios.{rc}": f"{rc} 类抽查比例" for rc in RISK_CLASSES},
}


@bp.route("")
@permission("plans.read")
def index():
    session, principal = db(), current_principal()
    args = {k: v for k, v in {"status": request.args.get("status") or None,
                              "year": request.args.get("year", type=int)}.items() if v}
    page = paged(session, service.plans_query(principal, args), lambda p: service.plan_dict(session, p))
    return render_template("plans/index.html", page=page, args=args, status_labels=STATUS_LABELS,
                           can_write=_can_write_any(), kind_labels=dict(KIND_OPTIONS))


def _can_write_any() -> bool:
    principal = current_principal()
    return allows(principal, "plans.write", departments=[principal.department_code or ""]) or \
        allows(principal, "plans.write", departments=list(get_gateway().registry.departments))


@bp.route("/<int:plan_id>")
@permission("plans.read")
def detail(plan_id: int):
    session, principal = db(), current_principal()
    plan = service.read_plan(session, principal, plan_id)
    data = service.plan_dict(session, plan)
    can_write = allows(principal, "plans.write", departments=[plan.lead_department])
    return render_template("plans/detail.html", plan=data, status_labels=STATUS_LABELS,
                           kind_labels=dict(KIND_OPTIONS), can_write=can_write,
                           can_draw=allows(principal, "draws.run"), can_file=allows(principal, "plans.file"),
                           type_labels=dict(TYPE_OPTIONS))


# --------------------------------------------------------------------------------------- the form

def _options() -> dict[str, Any]:
    gateway = get_gateway()
    registry = gateway.registry
    departments = [(code, d.name) for code, d in registry.departments.items()]
    names = dict(departments)
    matters = [{"code": code, "name": m.name, "field": m.field, "lead": names.get(m.department_code, m.department_code),
                "cooperating": [names.get(d, d) for d in registry.cooperating_departments(code)],
                "min_ratio": str(m.min_ratio), "county_default": "min_ratio" in m.county_defaults,
                "non_site_methods": list(m.non_site_methods)}
               for code, m in registry.matters.items()]
    townships = [t for t in db().scalars(select(Target.township).distinct().order_by(Target.township)) if t]
    return {"departments": departments, "matters": matters, "townships": townships[:200],
            "kind_options": KIND_OPTIONS, "type_options": TYPE_OPTIONS, "risk_classes": RISK_CLASSES,
            "risk_options": [(rc, f"{rc} 类") for rc in RISK_CLASSES]}


def _form_body(include: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The submitted form in the API's body shape (strings; the schema converts)."""
    form = request.form
    body: dict[str, Any] = {
        "kind": form.get("kind") or "",
        "year": _int(form.get("year")),
        "title": (form.get("title") or "").strip(),
        "lead_department": form.get("lead_department") or "",
        "cooperating_departments": [v for v in form.getlist("cooperating_departments") if v],
        "matters": [v for v in form.getlist("matters") if v],
        "ratios": {rc: (form.get(f"ratios.{rc}") or "").strip() for rc in RISK_CLASSES},
        "min_ratios": _min_ratios(form),
        "scope": {"townships": [v for v in form.getlist("scope.townships") if v],
                  "target_types": [v for v in form.getlist("scope.target_types") if v], "levels": []},
        "key_rule": {"risk_classes": [v for v in form.getlist("key_rule.risk_classes") if v],
                     "abnormal_list": form.get("key_rule.abnormal_list") == "1",
                     "serious_violation_list": form.get("key_rule.serious_violation_list") == "1",
                     "min_complaints": _int(form.get("key_rule.min_complaints"))},
        "frequency": (form.get("frequency") or "").strip(),
        "window_start": form.get("window_start") or "",
        "window_end": form.get("window_end") or "",
        "description": (form.get("description") or "").strip(),
        "site_visit_reasons": _site_visit_reasons(),
    }
    if "reason" in form:
        body["reason"] = (form.get("reason") or "").strip()
    body = {k: v for k, v in body.items() if v not in ("", None) or k in ("matters",)}
    if include is not None:
        body = {k: v for k, v in body.items() if k in include}
    return body


def _min_ratios(form) -> dict[str, str]:
    """The plan's adjustments of county-default minimum ratios: ``min_ratios.<matter>`` fields left
    empty keep the default."""
    return {key.split(".", 1)[1]: value.strip() for key, value in form.items()
            if key.startswith("min_ratios.") and value.strip()}


def _site_visit_reasons() -> dict[str, str]:
    """The reasons given for site visits, by matter (``site_visit_reasons.<code>`` fields left empty
    choose the written check or data comparison)."""
    prefix = "site_visit_reasons."
    return {name[len(prefix):]: value.strip() for name, value in request.form.items()
            if name.startswith(prefix) and value.strip()}


def _int(value: Any) -> Any:
    text = (value or "").strip() if isinstance(value, str) else value
    if text in ("", None):
        return None
    try:
        return int(text)
    except (TypeError, ValueError):
        return text


def _state_from_plan(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": data["kind"], "year": data["year"], "title": data["title"], "lead_department": data["lead_department"],
        "cooperating_departments": data["cooperating_departments"], "matters": [m["code"] for m in data["matters"]],
        "ratios": data["ratios"], "scope": data["scope"], "key_rule": data["key_rule"], "frequency": data["frequency"],
        "min_ratios": data.get("min_ratios") or {},
        "window_start": data["window_start"].isoformat(), "window_end": data["window_end"].isoformat(),
        "description": data["description"], "reason": "", "site_visit_reasons": dict(data["site_visit_reasons"]),
    }


def _state_from_form() -> dict[str, Any]:
    form = request.form
    return {
        "kind": form.get("kind", ""), "year": form.get("year", ""), "title": form.get("title", ""),
        "lead_department": form.get("lead_department", ""),
        "cooperating_departments": form.getlist("cooperating_departments"), "matters": form.getlist("matters"),
        "ratios": {rc: form.get(f"ratios.{rc}", "") for rc in RISK_CLASSES},
        "min_ratios": _min_ratios(form),
        "scope": {"townships": form.getlist("scope.townships"), "target_types": form.getlist("scope.target_types")},
        "key_rule": {"risk_classes": form.getlist("key_rule.risk_classes"),
                     "abnormal_list": form.get("key_rule.abnormal_list") == "1",
                     "serious_violation_list": form.get("key_rule.serious_violation_list") == "1",
                     "min_complaints": form.get("key_rule.min_complaints", "")},
        "frequency": form.get("frequency", ""), "window_start": form.get("window_start", ""),
        "window_end": form.get("window_end", ""), "description": form.get("description", ""),
        "reason": form.get("reason", ""), "site_visit_reasons": _site_visit_reasons(),
    }


def _blank_state() -> dict[str, Any]:
    year = china_today().year
    principal = current_principal()
    return {
        "kind": "joint", "year": year, "title": f"{year} 年度武陟县跨部门联合“双随机、一公开”抽查计划",
        "lead_department": principal.department_code or "", "cooperating_departments": [], "matters": [],
        "ratios": dict(DEFAULT_RATIOS), "min_ratios": {}, "scope": {"townships": [], "target_types": []},
        "key_rule": {"risk_classes": ["D"], "abnormal_list": True, "serious_violation_list": True, "min_complaints": 3},
        "frequency": "每年一次", "window_start": f"{year}-04-01", "window_end": f"{year}-10-31", "description": "",
        "reason": "", "site_visit_reasons": {},
    }


def _render(mode: str, state: dict[str, Any], errors: dict[str, list[str]], plan: dict | None = None, status: int = 200):
    return render_template("plans/form.html", mode=mode, state=state, errors=errors, plan=plan, labels=LABELS,
                           **_options()), status


def _load(schema, body: dict[str, Any]) -> dict[str, Any]:
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise Invalid("validation_error", "提交的数据未通过校验。", exc.messages) from None


def _web_errors(exc: DomainError) -> dict[str, list[str]]:
    errors = errors_by_name(flat_errors(errors_of(exc)))
    if "matters" in errors and not [v for v in request.form.getlist("matters") if v]:
        errors["matters"] = ["请至少选择一个抽查事项。"]
    return errors


@bp.route("/new", methods=["GET", "POST"])
@permission("plans.write")
def new():
    if request.method == "GET":
        return _render("new", _blank_state(), {})
    gateway = get_gateway()
    try:
        data = _load(PlanCreateSchema(), _form_body())
        with gateway.write() as session:
            plan = service.create_plan(session, current_principal(), data, gateway.settings)
            plan_id, number = plan.id, plan.number
    except DomainError as exc:
        status = refusal_status(exc)
        return _render("new", _state_from_form(), _web_errors(exc), status=status)
    flash(f"计划草稿已保存，计划文号 {number}。发布前可继续修改。", "success")
    return redirect(url_for("web_plans.detail", plan_id=plan_id))


@bp.route("/<int:plan_id>/edit", methods=["GET", "POST"])
@permission("plans.write")
def edit(plan_id: int):
    def update(session, principal, plan_id: int, changes) -> int:
        service.update_plan(session, principal, plan_id, changes)
        return plan_id

    return _change_plan("edit", plan_id, PlanUpdateSchema(), ("reason",), update, "计划草稿已更新。")


@bp.route("/<int:plan_id>/amend", methods=["GET", "POST"])
@permission("plans.write")
def amend(plan_id: int):
    return _change_plan("amend", plan_id, PlanAmendSchema(), ("kind", "year", "lead_department"),
                        lambda *args: service.amend_plan(*args).id, "修订稿已保存为新版本草稿；发布后取代原版本。")


def _change_plan(page: str, plan_id: int, schema, ignored: tuple[str, ...], change, message: str):
    """The edit and amend forms: GET shows the plan's values; POST loads the form (without the
    ``ignored`` fields) with ``schema`` and applies ``change(session, principal, plan_id, changes)``,
    which gives the plan to show next, or shows the form again with the refusal's errors."""
    session, principal = db(), current_principal()
    data = service.plan_dict(session, service.read_plan(session, principal, plan_id))
    if request.method == "GET":
        return _render(page, _state_from_plan(data), {}, plan=data)
    try:
        body = _form_body()
        for name in ignored:
            body.pop(name, None)
        changes = _load(schema, body)
        with get_gateway().write() as write:
            shown = change(write, principal, plan_id, changes)
    except DomainError as exc:
        return _render(page, _state_from_form(), _web_errors(exc), plan=data, status=refusal_status(exc))
    flash(message, "success")
    return redirect(url_for("web_plans.detail", plan_id=shown))


@bp.route("/<int:plan_id>/publish", methods=["POST"])
@permission("plans.write")
def publish(plan_id: int):
    gateway = get_gateway()

    def act():
        with gateway.write() as session:
            _, warnings = service.publish_plan(session, current_principal(), plan_id, gateway.settings)
            return warnings

    warnings, error = run_action(act, "计划已发布，公众可以查询；发布后不可修改，如需调整请修订。")
    for warning in warnings or []:
        flash(warning, "info")
    return redirect(url_for("web_plans.detail", plan_id=plan_id))


@bp.route("/<int:plan_id>/filing", methods=["POST"])
@permission("plans.file")
def file(plan_id: int):
    """The county office records the plan's filing with the justice bureau (number and date)."""
    gateway = get_gateway()

    def act():
        body = {"filing_number": (request.form.get("filing_number") or "").strip(),
                "filed_on": request.form.get("filed_on") or ""}
        data = _load(PlanFilingSchema(), body)
        with gateway.write() as session:
            file_plan(session, current_principal(), plan_id, data)

    run_action(act, "备案信息已保存，并在计划公开页面显示。")
    return redirect(url_for("web_plans.detail", plan_id=plan_id))
