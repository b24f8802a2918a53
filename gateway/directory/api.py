"""The directories' API: inspectors, targets, declared conflicts and bulk import."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from gateway.api.errors import ApiError
from gateway.api.session import db, get_gateway
from gateway.directory import service
from gateway.directory.importing import import_file
from gateway.directory.importing.importer import ImportFileError
from gateway.directory.importing.labels import department_labels
from gateway.directory.models import Conflict
from gateway.directory.queries import inspector_search, paginate, target_search
from schemas.common import PageArgsSchema
from schemas.directory import (
    ConflictPageSchema,
    ConflictSchema,
    ImportReportSchema,
    InspectorPageSchema,
    InspectorQuerySchema,
    InspectorSchema,
    InspectorUpdateSchema,
    TargetPageSchema,
    TargetQuerySchema,
    TargetSchema,
    TargetUpdateSchema,
)
from sqlalchemy import select

inspectors_blp = Blueprint("inspectors", __name__, url_prefix="/inspectors", description="执法检查人员名录")
targets_blp = Blueprint("targets", __name__, url_prefix="/targets", description="检查对象名录")
conflicts_blp = Blueprint("conflicts", __name__, url_prefix="/conflicts", description="回避关系")
imports_blp = Blueprint("imports", __name__, url_prefix="/imports", description="批量导入")


def _page(items, total, args):
    return {"items": items, "total": total, "page": args["page"], "page_size": args["page_size"]}


@inspectors_blp.route("")
class Inspectors(MethodView):
    @inspectors_blp.arguments(InspectorQuerySchema, location="query")
    @inspectors_blp.response(200, InspectorPageSchema)
    def get(self, args):
        """Search inspectors (phone and certificate numbers masked in listings)."""
        items, total = paginate(db(), inspector_search(args), args["page"], args["page_size"])
        return _page([service.inspector_dict(i, masked=True) for i in items], total, args)

    @inspectors_blp.arguments(InspectorSchema)
    @inspectors_blp.response(201, InspectorSchema)
    def post(self, data):
        """Add an inspector to a department's directory."""
        with get_gateway().write() as session:
            return service.inspector_dict(service.create_inspector(session, data))


@inspectors_blp.route("/<int:inspector_id>")
class InspectorById(MethodView):
    @inspectors_blp.response(200, InspectorSchema)
    def get(self, inspector_id):
        """One inspector."""
        return service.inspector_dict(service.get_inspector(db(), inspector_id))

    @inspectors_blp.arguments(InspectorUpdateSchema)
    @inspectors_blp.response(200, InspectorSchema)
    def patch(self, data, inspector_id):
        """Change an inspector's record."""
        with get_gateway().write() as session:
            return service.inspector_dict(service.update_inspector(session, inspector_id, data))


@inspectors_blp.route("/<int:inspector_id>/deactivate")
class InspectorDeactivate(MethodView):
    @inspectors_blp.response(200, InspectorSchema)
    def post(self, inspector_id):
        """Take an inspector out of future draws (records stay)."""
        with get_gateway().write() as session:
            return service.inspector_dict(service.update_inspector(session, inspector_id, {"active": False}))


@targets_blp.route("")
class Targets(MethodView):
    @targets_blp.arguments(TargetQuerySchema, location="query")
    @targets_blp.response(200, TargetPageSchema)
    def get(self, args):
        """Search targets by township, level, type, business scope, licence, risk class, lists."""
        items, total = paginate(db(), target_search(args), args["page"], args["page_size"])
        return _page([service.target_dict(t) for t in items], total, args)

    @targets_blp.arguments(TargetSchema)
    @targets_blp.response(201, TargetSchema)
    def post(self, data):
        """Add a target to the directory."""
        with get_gateway().write() as session:
            return service.target_dict(service.create_target(session, data))


@targets_blp.route("/<string:uscc>")
class TargetByUscc(MethodView):
    @targets_blp.response(200, TargetSchema)
    def get(self, uscc):
        """One target by its USCC."""
        return service.target_dict(service.get_target(db(), uscc))

    @targets_blp.arguments(TargetUpdateSchema)
    @targets_blp.response(200, TargetSchema)
    def patch(self, data, uscc):
        """Change a target's record."""
        with get_gateway().write() as session:
            return service.target_dict(service.update_target(session, uscc, data))


@targets_blp.route("/<string:uscc>/deactivate")
class TargetDeactivate(MethodView):
    @targets_blp.response(200, TargetSchema)
    def post(self, uscc):
        """Take a target out of the directory's active population (records stay)."""
        with get_gateway().write() as session:
            return service.target_dict(service.update_target(session, uscc, {"active": False}))


@conflicts_blp.route("")
class Conflicts(MethodView):
    @conflicts_blp.arguments(PageArgsSchema, location="query")
    @conflicts_blp.response(200, ConflictPageSchema)
    def get(self, args):
        """Declared conflicts of interest."""
        items, total = paginate(db(), select(Conflict).order_by(Conflict.id), args["page"], args["page_size"])
        return _page([service.conflict_dict(c) for c in items], total, args)

    @conflicts_blp.arguments(ConflictSchema)
    @conflicts_blp.response(201, ConflictSchema)
    def post(self, data):
        """Declare that an inspector must not inspect a target (article 14 recusal)."""
        with get_gateway().write() as session:
            return service.conflict_dict(service.declare_conflict(session, data))


class ImportArgsSchema(Schema):
    partial = fields.Boolean(load_default=False, metadata={"description": "keep the good rows"})


class ImportFileSchema(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)


def _run_import(kind: str, args):
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(422, "validation_error", "提交的数据未通过校验。", {"file": ["请上传 CSV 或 XLSX 文件。"]})
    gateway = get_gateway()
    with gateway.engine.connect() as conn:
        conn = conn.execution_options(sqlite_immediate=True)
        with conn.begin() as tx:
            try:
                report = import_file(
                    conn, kind, upload.stream, upload.filename,
                    partial=args["partial"], departments=department_labels(gateway.registry),
                )
            except ImportFileError as exc:
                tx.rollback()
                raise ApiError(422, "import_file_invalid", str(exc)) from None
            if not report.committed:
                tx.rollback()
                raise ApiError(
                    422, "import_rows_invalid",
                    f"共 {report.error_count} 处错误，未导入任何数据。", report.as_dict()["errors"],
                    report=report.as_dict(),
                )
    return report.as_dict()


@imports_blp.route("/targets")
class ImportTargets(MethodView):
    @imports_blp.arguments(ImportArgsSchema, location="query")
    @imports_blp.arguments(ImportFileSchema, location="files")
    @imports_blp.response(200, ImportReportSchema)
    def post(self, args, _files):
        """Import targets from a CSV or XLSX file (Chinese or English headers)."""
        return _run_import("targets", args)


@imports_blp.route("/inspectors")
class ImportInspectors(MethodView):
    @imports_blp.arguments(ImportArgsSchema, location="query")
    @imports_blp.arguments(ImportFileSchema, location="files")
    @imports_blp.response(200, ImportReportSchema)
    def post(self, args, _files):
        """Import inspectors from a CSV or XLSX file (Chinese or English headers)."""
        return _run_import("inspectors", args)
