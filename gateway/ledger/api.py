"""The ledger API: register an inspection outside the draw, read a target's ledger, the yearly
caps (published by the county office, public to read), and the annual release (public)."""
from __future__ import annotations

import io
from datetime import date

from flask import send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from gateway.api.pagination import query_page
from gateway.api.session import db, get_gateway, written_as
from gateway.ledger import service
from gateway.ledger.annual import annual_release, release_dict
from gateway.ledger.models import RegisteredInspection
from gateway.ledger.views import LEDGER_HEADERS, ledger_rows, registration_dict, target_ledger
from gateway.ledger.warnings import registration_warnings
from gateway.results.clock import china_today
from gateway.security import audit
from gateway.security.policy import authorize, permission, visible_departments
from gateway.security.principal import current_principal
from gateway.spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE, to_csv, to_xlsx
from schemas.ledger import (
    AnnualReleaseSchema,
    CapsListSchema,
    CapsPublishSchema,
    CapsQuerySchema,
    CapsSchema,
    LedgerExportSchema,
    RegisteredInspectionPageSchema,
    RegistrationQuerySchema,
    RegistrationResultSchema,
    RegistrationSchema,
    TargetLedgerQuerySchema,
    TargetLedgerSchema,
)

annual_blp = Blueprint("annual", __name__, url_prefix="/annual",
                       description="年度涉企行政检查数据公开（上一年度，按部门和检查渠道；公开）")

ledger_blp = Blueprint("ledger", __name__, url_prefix="/ledger",
                       description="检查台账：一户企业接受的全部检查（双随机抽查、上级部门检查、登记的其他检查）与年度检查次数上限")


@ledger_blp.route("/inspections")
class Registrations(MethodView):
    @permission("ledger.read")
    @ledger_blp.arguments(RegistrationQuerySchema, location="query")
    @ledger_blp.response(200, RegisteredInspectionPageSchema)
    def get(self, args):
        """Inspections registered outside the draw, by year, USCC, department; ``over_cap`` lists
        only those registered over a cap with a stated reason."""
        visible_departments(current_principal(), "ledger.read")
        stmt = select(RegisteredInspection)
        for key, column in (("year", RegisteredInspection.year), ("department", RegisteredInspection.department_code),
                            ("id", RegisteredInspection.id)):
            if args.get(key) is not None:
                stmt = stmt.where(column == args[key])
        if args.get("uscc"):
            stmt = stmt.where(RegisteredInspection.uscc == args["uscc"].strip().upper())
        if args.get("over_cap") is True:
            stmt = stmt.where(RegisteredInspection.over_cap_reason != "")
        elif args.get("over_cap") is False:
            stmt = stmt.where(RegisteredInspection.over_cap_reason == "")
        return query_page(db(), stmt.order_by(RegisteredInspection.id.desc()), args)

    @permission("ledger.register")
    @ledger_blp.arguments(RegistrationSchema)
    @ledger_blp.response(201, RegistrationResultSchema)
    def post(self, data):
        """Register an inspection outside the draw (专项检查, 投诉举报核查, 转办交办, 日常巡查, 案件办理).
        One that exceeds a cap needs ``over_cap_reason`` (else 422 naming the field)."""
        with get_gateway().write() as session:
            row, check = service.register(session, current_principal(), data, source="api")
            answer = registration_dict(row, check)
            answer["repeat_visits"] = registration_warnings(session, row, get_gateway().settings.repeat_visit_days,
                                                            china_today())
            return answer


@ledger_blp.route("/targets/<string:uscc>")
class TargetLedgerView(MethodView):
    @permission("ledger.read")
    @ledger_blp.arguments(TargetLedgerQuerySchema, location="query")
    @ledger_blp.response(200, TargetLedgerSchema)
    def get(self, args, uscc):
        """A target's ledger for a year (default: this year) with its counts against the caps."""
        authorize(current_principal(), "ledger.read")
        return target_ledger(db(), uscc[:18], args.get("year") or date.today().year)


@ledger_blp.route("/export")
@permission("ledger.read")
@ledger_blp.arguments(LedgerExportSchema, location="query")
@ledger_blp.doc(responses={"200": {"description": "The year's ledger (Excel or CSV, Chinese headers).", "content": {
    XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}},
    "text/csv": {"schema": {"type": "string", "format": "binary"}}}}})
def export_ledger(args):
    """The year's ledger of every inspection (检查台账), as Excel or CSV; audited."""
    principal = current_principal()
    authorize(principal, "ledger.read")
    with get_gateway().write() as session:
        rows = ledger_rows(session, args["year"], args.get("department"))
        audit.record(session, principal, "exports.ledger", "export", "ledger",
                     {"rows": len(rows), "year": args["year"], "department": args.get("department")})
    name = f"检查台账-{args['year']}"
    if args["format"] == "csv":
        content, mimetype, name = to_csv(LEDGER_HEADERS, rows), CSV_MIMETYPE, name + ".csv"
    else:
        content = to_xlsx(f"{args['year']} 年度涉企检查台账", LEDGER_HEADERS, rows, "检查台账")
        mimetype, name = XLSX_MIMETYPE, name + ".xlsx"
    return send_file(io.BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=name)


@ledger_blp.route("/caps")
class Caps(MethodView):
    @permission("caps.read")
    @ledger_blp.arguments(CapsQuerySchema, location="query")
    @ledger_blp.response(200, CapsListSchema)
    def get(self, args):
        """Every published version of the yearly caps (public), newest first."""
        authorize(current_principal(), "caps.read", published=True)
        return {"items": service.caps_versions(db(), args.get("year"))}

    @permission("caps.publish")
    @ledger_blp.arguments(CapsPublishSchema)
    @ledger_blp.response(201, CapsSchema)
    def post(self, data):
        """Publish a new version of a year's caps (the county office)."""
        return written_as(CapsSchema(), lambda session: service.publish_caps(session, current_principal(), **data))


@annual_blp.route("/<int:year>")
@permission("annual.read")
@annual_blp.response(200, AnnualReleaseSchema)
def annual_release_view(year: int):
    """The annual release of ``year`` (public once the year has ended; a year not ended answers 409
    ``annual_release_not_due``): the same figures as the page ``/annual/<year>`` and its CSV and XLSX."""
    authorize(current_principal(), "annual.read", published=True)
    return release_dict(annual_release(db(), year, china_today()))
