"""Higher-level inspections: the import that drives the draw's exclusion, and a listing."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from gateway.api.pagination import query_page
from gateway.api.session import db, get_gateway
from gateway.directory.importing.importer import ImportFileError
from gateway.directory.importing.run import run_import
from gateway.errors import Invalid
from gateway.higher_level.models import HigherLevelInspection
from gateway.security.policy import authorize, permission
from gateway.security.principal import current_principal
from schemas.common import PageQuerySchema, page_schema
from schemas.directory import ImportReportSchema

higher_level_blp = Blueprint("higher_level", __name__, url_prefix="/higher-level-inspections",
                             description="上级部门检查记录（第十五条：本年度已被上级部门抽查的对象予以排除）")


class HigherLevelInspectionSchema(Schema):
    id = fields.Integer()
    uscc = fields.String()
    authority = fields.String()
    level = fields.String(metadata={"enum": ["city", "province", "national"]})
    department_code = fields.String()
    matter_code = fields.String()
    inspected_on = fields.Date()
    year = fields.Integer()
    reference = fields.String()
    source = fields.String()


class HigherLevelQuerySchema(PageQuerySchema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))
    uscc = fields.String(validate=validate.Length(max=18))


class HigherLevelImportArgsSchema(Schema):
    partial = fields.Boolean(load_default=False, metadata={"description": "keep the good rows"})


class HigherLevelImportFileSchema(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)


HigherLevelPageSchema = page_schema(HigherLevelInspectionSchema, "HigherLevelInspectionPage")


@higher_level_blp.route("")
class HigherLevelInspections(MethodView):
    @permission("targets.read")
    @higher_level_blp.arguments(HigherLevelQuerySchema, location="query")
    @higher_level_blp.response(200, HigherLevelPageSchema)
    def get(self, args):
        """Inspections by city, provincial or national authorities, by year and USCC."""
        stmt = select(HigherLevelInspection)
        if args.get("year"):
            stmt = stmt.where(HigherLevelInspection.year == args["year"])
        if args.get("uscc"):
            stmt = stmt.where(HigherLevelInspection.uscc == args["uscc"].strip().upper())
        return query_page(db(), stmt.order_by(HigherLevelInspection.id), args)


@higher_level_blp.route("/import")
class HigherLevelImport(MethodView):
    @permission("inspections.import")
    @higher_level_blp.arguments(HigherLevelImportArgsSchema, location="query")
    @higher_level_blp.arguments(HigherLevelImportFileSchema, location="files")
    @higher_level_blp.response(200, ImportReportSchema)
    def post(self, args, _files):
        """Import higher-level inspection records from CSV or XLSX (统一社会信用代码, 检查机关, 检查机关层级,
        检查日期, and optionally 对口部门, 抽查事项, 检查编号). Any bad row refuses the whole file
        unless ``partial``; every error names its row and column."""
        principal = current_principal()
        authorize(principal, "inspections.import")
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise Invalid("validation_error", "提交的数据未通过校验。", {"file": ["请上传 CSV 或 XLSX 文件。"]})
        try:
            report = run_import(get_gateway(), principal, "inspections", upload.stream, upload.filename,
                                partial=args["partial"])
        except ImportFileError as exc:
            raise Invalid("import_file_invalid", str(exc)) from None
        if not report.committed:
            raise Invalid("import_rows_invalid", f"共 {report.error_count} 处错误，未导入任何数据。",
                          report.as_dict()["errors"])
        return report.as_dict()
