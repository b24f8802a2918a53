"""The directories' API: inspectors, targets, declared conflicts and bulk import."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from gateway.api.imports import import_upload, import_view
from gateway.api.pagination import query_page
from gateway.api.session import db, get_gateway
from gateway.directory import eligibility, service
from gateway.directory.models import Conflict, Inspector
from gateway.directory.queries import inspector_search, target_search
from gateway.security import audit
from gateway.security.policy import authorize, permission, visible_departments
from gateway.security.principal import current_principal
from gateway.spreadsheets import CSV_MIMETYPE, to_csv
from schemas.common import PageArgsSchema, python_values
from schemas.directory import (
    ConflictPageSchema,
    ConflictSchema,
    EligibilityChangePageSchema,
    EligibilityDecisionSchema,
    EligibilityProposalPageSchema,
    EligibilityProposalSchema,
    InspectorPageSchema,
    InspectorQuerySchema,
    InspectorSchema,
    InspectorUpdateSchema,
    ReasonArgsSchema,
    TargetPageSchema,
    TargetQuerySchema,
    TargetSchema,
    TargetUpdateSchema,
)

inspectors_blp = Blueprint("inspectors", __name__, url_prefix="/inspectors", description="执法检查人员名录")
targets_blp = Blueprint("targets", __name__, url_prefix="/targets", description="检查对象名录")
eligibility_blp = Blueprint("eligibility_proposals", __name__, url_prefix="/eligibility-proposals",
                            description="抽取资格变更提议")
conflicts_blp = Blueprint("conflicts", __name__, url_prefix="/conflicts", description="回避关系")
imports_blp = Blueprint("imports", __name__, url_prefix="/imports", description="批量导入")


@inspectors_blp.route("")
class Inspectors(MethodView):
    @permission("directory.read")
    @inspectors_blp.arguments(InspectorQuerySchema, location="query")
    @inspectors_blp.response(200, InspectorPageSchema)
    def get(self, args):
        """Search inspectors (phone and certificate numbers masked in listings).

        Department operators and heads see their own department's inspectors only."""
        departments = visible_departments(current_principal(), "directory.read")
        stmt = inspector_search(args, departments=departments)
        return query_page(db(), stmt, args).map(lambda i: service.InspectorView(i, masked=True))

    @permission("directory.write")
    @inspectors_blp.arguments(InspectorSchema)
    @inspectors_blp.response(201, InspectorSchema)
    def post(self, data):
        """Add an inspector to a department's directory."""
        principal = current_principal()
        authorize(principal, "directory.write", departments=[data["department_code"]])
        with get_gateway().write() as session:
            inspector = service.create_inspector(session, data)
            audit.record(session, principal, "inspectors.create", "inspector", inspector.id,
                         {"department": inspector.department_code})
            return service.inspector_dict(inspector)


class InspectorExportArgsSchema(Schema):
    department = fields.String(validate=validate.Length(min=1, max=64),
                               metadata={"description": "department code; defaults to the caller's own"})


EXPORT_COLUMNS = (
    ("id", "编号"), ("department_code", "部门"), ("name", "姓名"), ("gender", "性别"), ("unit", "单位"),
    ("position", "职务"), ("expertise", "专业特长"), ("certificate_no", "执法证号"),
    ("certificate_valid_until", "执法证有效期至"), ("phone", "联系电话"), ("active", "在岗"),
)


@inspectors_blp.route("/export")
class InspectorExport(MethodView):
    @permission("directory.export")
    @inspectors_blp.arguments(InspectorExportArgsSchema, location="query")
    @inspectors_blp.response(200, content_type="text/csv", description="CSV (UTF-8 with BOM), full personal data")
    def get(self, args):
        """Export one department's inspectors with phone and certificate numbers (own department
        only; every export is audited)."""
        principal = current_principal()
        department = args.get("department") or principal.department_code or ""
        authorize(principal, "directory.export", departments=[department])
        with get_gateway().write() as session:
            rows = list(session.scalars(inspector_search({}, departments=[department])))
            audit.record(session, principal, "inspectors.export", "department", department,
                         {"count": len(rows), "fields": ["phone", "certificate_no"]})
        content = to_csv([label for _, label in EXPORT_COLUMNS],
                         ([service.inspector_dict(i)[key] for key, _ in EXPORT_COLUMNS] for i in rows))
        response = Response(content, mimetype=CSV_MIMETYPE)
        response.headers["Content-Disposition"] = f'attachment; filename="inspectors-{department}.csv"'
        response.headers["Cache-Control"] = "no-store"
        return response


@inspectors_blp.route("/<int:inspector_id>")
class InspectorById(MethodView):
    @permission("directory.read")
    @inspectors_blp.response(200, InspectorSchema)
    def get(self, inspector_id):
        """One inspector's full record, phone and certificate number included (the read is audited)."""
        principal = current_principal()
        with get_gateway().write() as session:
            inspector = service.get_inspector(session, inspector_id)
            authorize(principal, "directory.read", departments=[inspector.department_code])
            audit.record(session, principal, "inspectors.read_personal", "inspector", inspector.id,
                         {"department": inspector.department_code, "fields": ["phone", "certificate_no"]})
            return service.inspector_dict(inspector)

    @permission("directory.write")
    @inspectors_blp.arguments(InspectorUpdateSchema)
    @inspectors_blp.response(200, InspectorSchema)
    def patch(self, data, inspector_id):
        """Change an inspector's record."""
        return _change_inspector(inspector_id, data, "inspectors.update")


@inspectors_blp.route("/<int:inspector_id>/deactivate")
class InspectorDeactivate(MethodView):
    @permission("directory.write")
    @inspectors_blp.response(200, InspectorSchema)
    def post(self, inspector_id):
        """Take an inspector out of future draws (records stay)."""
        return _change_inspector(inspector_id, {"active": False}, "inspectors.deactivate")


def _change_inspector(inspector_id: int, data: dict, action: str) -> dict:
    principal = current_principal()
    with get_gateway().write() as session:
        inspector = service.get_inspector(session, inspector_id)
        # Both the department it leaves and the one it joins must be the principal's to change.
        authorize(principal, "directory.write", departments=[inspector.department_code])
        if "department_code" in data:
            authorize(principal, "directory.write", departments=[data["department_code"]])
        before = inspector.department_code
        inspector = service.update_inspector(session, inspector_id, data)
        details = {"department": before, "fields": sorted(data)}
        if inspector.department_code != before:
            details["new_department"] = inspector.department_code
        audit.record(session, principal, action, "inspector", inspector.id, details)
        return service.inspector_dict(inspector)


@targets_blp.route("")
class Targets(MethodView):
    @permission("targets.read")
    @targets_blp.arguments(TargetQuerySchema, location="query")
    @targets_blp.response(200, TargetPageSchema)
    def get(self, args):
        """Search targets by township, level, type, business scope, licence, risk class, lists."""
        return query_page(db(), target_search(args), args).map(service.TargetView)

    @permission("targets.write")
    @targets_blp.arguments(TargetSchema)
    @targets_blp.response(201, TargetSchema)
    def post(self, data):
        """Add a target to the directory (county data shared by every department)."""
        principal = current_principal()
        authorize(principal, "targets.write")
        with get_gateway().write() as session:
            target = service.create_target(session, data, principal)
            audit.record(session, principal, "targets.create", "target", target.uscc, {})
            return service.target_dict(target)


@targets_blp.route("/<string:uscc>")
class TargetByUscc(MethodView):
    @permission("targets.read")
    @targets_blp.response(200, TargetSchema)
    def get(self, uscc):
        """One target by its USCC."""
        return service.TargetView(service.get_target(db(), uscc))

    @permission("targets.write")
    @targets_blp.arguments(TargetUpdateSchema)
    @targets_blp.response(200, TargetSchema)
    def patch(self, data, uscc):
        """Change a target's record."""
        return _change_target(uscc, data, "targets.update")


@targets_blp.route("/<string:uscc>/deactivate")
class TargetDeactivate(MethodView):
    @permission("targets.eligibility")
    @targets_blp.arguments(ReasonArgsSchema, location="query")
    @targets_blp.response(200, TargetSchema)
    def post(self, args, uscc):
        """Take a target out of the directory's active population (records stay): the registration
        authority or the county office, with a reason code (``?reason_code=``)."""
        return _change_target(uscc, {"active": False, "reason_code": args.get("reason_code")}, "targets.deactivate")


def _change_target(uscc: str, data: dict, action: str) -> dict:
    principal = current_principal()
    authorize(principal, "targets.write")
    with get_gateway().write() as session:
        target = service.update_target(session, uscc, data, principal)
        audit.record(session, principal, action, "target", target.uscc,
                     {"fields": sorted(k for k in data if k != "reason_code"), "reason": data.get("reason_code")})
        return service.target_dict(target)


@targets_blp.route("/<string:uscc>/eligibility-changes")
class TargetEligibilityChanges(MethodView):
    @permission("targets.read")
    @targets_blp.arguments(PageArgsSchema, location="query")
    @targets_blp.response(200, EligibilityChangePageSchema)
    def get(self, args, uscc):
        """Every logged change of the target's eligibility fields, newest first (append-only)."""
        service.get_target(db(), uscc)
        return query_page(db(), eligibility.changes_query(uscc), args).map(eligibility.ChangeView)


@targets_blp.route("/<string:uscc>/eligibility-proposals")
class TargetEligibilityProposals(MethodView):
    @permission("targets.write")
    @targets_blp.arguments(EligibilityProposalSchema)
    @targets_blp.response(201, EligibilityProposalSchema)
    def post(self, data, uscc):
        """Propose a change of one eligibility field; the registration authority or the county
        office decides."""
        principal = current_principal()
        with get_gateway().write() as session:
            proposal = eligibility.propose(session, principal, service.get_target(session, uscc), data)
            return python_values(EligibilityProposalSchema(), eligibility.ProposalView(proposal))


class ProposalQuerySchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(tuple(eligibility.PROPOSAL_STATUS_LABELS)))


@eligibility_blp.route("")
class EligibilityProposals(MethodView):
    @permission("targets.read")
    @eligibility_blp.arguments(ProposalQuerySchema, location="query")
    @eligibility_blp.response(200, EligibilityProposalPageSchema)
    def get(self, args):
        """Proposals to change targets' eligibility, newest first (``status``: pending, accepted, rejected)."""
        return query_page(db(), eligibility.proposals_query(args), args).map(eligibility.ProposalView)


@eligibility_blp.route("/<int:proposal_id>/decision")
class EligibilityDecision(MethodView):
    @permission("targets.eligibility")
    @eligibility_blp.arguments(EligibilityDecisionSchema)
    @eligibility_blp.response(200, EligibilityProposalSchema)
    def post(self, data, proposal_id):
        """The registration authority or the county office accepts (applies) or rejects a proposal."""
        with get_gateway().write() as session:
            proposal = eligibility.decide(session, current_principal(), proposal_id,
                                          accept=data["accept"], note=data["note"])
            return python_values(EligibilityProposalSchema(), eligibility.ProposalView(proposal))



@conflicts_blp.route("")
class Conflicts(MethodView):
    @permission("directory.read")
    @conflicts_blp.arguments(PageArgsSchema, location="query")
    @conflicts_blp.response(200, ConflictPageSchema)
    def get(self, args):
        """Declared conflicts of interest (a department sees its own inspectors' declarations)."""
        departments = visible_departments(current_principal(), "directory.read")
        stmt = select(Conflict).order_by(Conflict.id)
        if departments is not None:
            stmt = stmt.join(Inspector, Inspector.id == Conflict.inspector_id).where(
                Inspector.department_code.in_(departments))
        return query_page(db(), stmt, args).map(service.ConflictView)

    @permission("directory.write")
    @conflicts_blp.arguments(ConflictSchema)
    @conflicts_blp.response(201, ConflictSchema)
    def post(self, data):
        """Declare that an inspector must not inspect a target (article 14 recusal)."""
        principal = current_principal()
        with get_gateway().write() as session:
            inspector = service.get_inspector(session, data["inspector_id"])
            authorize(principal, "directory.write", departments=[inspector.department_code])
            conflict = service.declare_conflict(session, data)
            audit.record(session, principal, "conflicts.create", "conflict", conflict.id,
                         {"inspector_id": conflict.inspector_id, "uscc": conflict.target.uscc})
            return python_values(ConflictSchema(), service.ConflictView(conflict))


def _run_import(kind: str, args):
    principal = current_principal()
    action = "targets.write" if kind == "targets" else "directory.write"
    allowed = visible_departments(principal, action) if kind == "inspectors" else None
    return import_upload(principal, kind, args["partial"], allowed)


@imports_blp.route("/targets")
class ImportTargets(MethodView):
    @permission("targets.write")
    @import_view(imports_blp)
    def post(self, args, _files):
        """Import targets from a CSV or XLSX file (Chinese or English headers)."""
        return _run_import("targets", args)


@imports_blp.route("/inspectors")
class ImportInspectors(MethodView):
    @permission("directory.write")
    @import_view(imports_blp)
    def post(self, args, _files):
        """Import inspectors from a CSV or XLSX file (Chinese or English headers)."""
        return _run_import("inspectors", args)
