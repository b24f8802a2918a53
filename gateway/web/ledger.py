"""The ledger's pages (issue 16): register an inspection outside the draw (phone-first), a target's
ledger against the caps, the office's overview with the over-cap registrations and the caps form,
and the public page of the published caps.

Registration goes through :func:`gateway.ledger.service.register` (the API's rules) with the form
checked by the API's schema, so a bad value gets the same Chinese message beside its field.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from gateway.api.session import db, get_gateway
from gateway.errors import DomainError, Invalid
from gateway.ledger import service
from gateway.ledger.channels import CHANNELS, DEFAULT_EXEMPT, REGISTERED_CHANNELS
from gateway.ledger.models import RegisteredInspection
from gateway.ledger.queries import current_caps
from gateway.ledger.views import target_ledger
from gateway.ledger.warnings import registration_warnings
from gateway.results.clock import china_today
from gateway.security.policy import allows, authorize, permission, scope_of
from gateway.security.principal import current_principal
from gateway.web.base import department_choices, flat_errors, make_blueprint, paged, refusal_status, run_action
from schemas.ledger import CapsPublishSchema, RegistrationSchema

bp = make_blueprint("web_ledger", "/console/ledger")
public_bp = make_blueprint("web_ledger_public", "")

LABELS = {"uscc": "统一社会信用代码", "department_code": "检查部门", "channel": "检查渠道",
          "legal_reason_code": "法定事由代码", "legal_basis": "法律依据", "inspected_on": "检查日期",
          "reference": "检查编号", "over_cap_reason": "超过上限的法定理由",
          "year": "年度", "per_department": "同一部门每年上限", "total": "各部门合计每年上限",
          "exempt_channels": "不计入上限的渠道", "key_targets_exempt": "重点抽查对象不受上限排除", "basis": "依据文件"}
REASON_CODES = (("special_campaign", "专项整治部署"), ("complaint", "投诉举报"), ("referral", "上级交办或其他机关移送"),
                ("case", "案件办理"), ("routine", "日常监管"), ("law", "法律法规规定"))


def _year() -> int:
    return request.args.get("year", type=int) or date.today().year


def _registration_departments(principal) -> list[tuple[str, str]]:
    choices = department_choices()
    if scope_of(principal, "ledger.register") == "any":
        return choices
    return [(code, label) for code, label in choices if code == principal.department_code]


def _form_body() -> dict[str, Any]:
    body = {key: (request.form.get(key) or "").strip() for key in
            ("uscc", "department_code", "channel", "legal_reason_code", "legal_basis", "inspected_on", "reference",
             "over_cap_reason")}
    return {key: value for key, value in body.items() if value or key in ("uscc", "channel", "inspected_on")}


def _register_page(state: dict[str, Any], errors: dict[str, list[str]] | None = None, status: int = 200):
    principal = current_principal()
    return render_template("ledger/register.html", state=state, errors=errors or {}, labels=LABELS,
                           departments=_registration_departments(principal),
                           channels=[(code, CHANNELS[code]) for code in REGISTERED_CHANNELS],
                           reason_codes=REASON_CODES, today=date.today().isoformat()), status


@bp.route("/register")
@permission("ledger.register")
def register_form():
    principal = current_principal()
    state = {"uscc": request.args.get("uscc", ""), "department_code": principal.department_code or "",
             "inspected_on": date.today().isoformat()}
    return _register_page(state)


@bp.route("/register", methods=["POST"])
@permission("ledger.register")
def register():
    state = _form_body()
    try:
        try:
            data = RegistrationSchema().load(state)
        except ValidationError as exc:
            raise Invalid("validation_error", "提交的数据未通过校验。", exc.messages) from None
        with get_gateway().write() as session:
            row, check = service.register(session, current_principal(), data, source="page")
            uscc, over = row.uscc, check.over
            warnings = registration_warnings(session, row, get_gateway().settings.repeat_visit_days, china_today())
    except DomainError as exc:
        status = refusal_status(exc)
        return _register_page(state, flat_errors(exc.errors) or {"_schema": [exc.message]}, status)
    flash("检查已登记" + ("（超过年度上限，已记录法定理由，并在工作台标示）。" if over else "。"), "success")
    for warning in warnings:  # repeat-visit warnings; the 重复检查预警 page offers the join
        flash("重复检查预警：" + warning.message, "info")
    return redirect(url_for("web_ledger.target", uscc=uscc))


@bp.route("/targets/<string(maxlength=18):uscc>")
@permission("ledger.read")
def target(uscc: str):
    authorize(current_principal(), "ledger.read")
    year = _year()
    ledger = target_ledger(db(), uscc, year)
    return render_template("ledger/target.html", ledger=ledger, year=year, channels=CHANNELS,
                           can_register=allows(current_principal(), "ledger.register",
                                               departments=[current_principal().department_code or ""]))


@bp.route("")
@permission("ledger.read")
def index():
    principal = current_principal()
    authorize(principal, "ledger.read")
    year = _year()
    session = db()
    flagged = service.over_cap_registrations(session, year)
    page = paged(session, select(RegisteredInspection).where(RegisteredInspection.year == year)
                 .order_by(RegisteredInspection.id.desc()))
    return render_template("ledger/index.html", year=year, caps=current_caps(session, year), flagged=flagged,
                           page=page, channels=CHANNELS, labels=LABELS, errors={}, default_exempt=DEFAULT_EXEMPT,
                           can_publish=allows(principal, "caps.publish"),
                           can_register=allows(principal, "ledger.register",
                                               departments=[principal.department_code or ""]))


@bp.route("/caps", methods=["POST"])
@permission("caps.publish")
def publish_caps():
    body = {key: (request.form.get(key) or "").strip() for key in ("year", "per_department", "total", "basis")}

    def act():
        try:
            data = CapsPublishSchema().load({
                **{k: int(v) if v.isdigit() else v for k, v in body.items() if k != "basis"},
                "basis": body["basis"], "exempt_channels": request.form.getlist("exempt_channels"),
                "key_targets_exempt": request.form.get("key_targets_exempt") == "1"})
        except ValidationError as exc:
            raise Invalid("validation_error", "提交的数据未通过校验。", exc.messages) from None
        with get_gateway().write() as session:
            return service.publish_caps(session, current_principal(), **data).version

    version, _error = run_action(act)
    if version is not None:
        flash(f"{body['year']} 年度检查次数上限第 {version} 版已公布。", "success")
    return redirect(url_for("web_ledger.index", year=body["year"] if body["year"].isdigit() else None))


@public_bp.route("/caps")
@permission("caps.read")
def public_caps():
    """The published caps, every version, for the public."""
    authorize(current_principal(), "caps.read", published=True)
    return render_template("ledger/caps.html", versions=service.caps_versions(db()), channels=CHANNELS)
