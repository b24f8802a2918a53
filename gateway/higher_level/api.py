"""Higher-level inspections: the import that drives the draw's exclusion, and a listing."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from gateway.api.imports import ImportArgsSchema, ImportFileSchema, import_upload, import_view
from gateway.api.pagination import query_page
from gateway.api.session import db
from gateway.db import where_equal
from gateway.higher_level.models import HigherLevelInspection
from gateway.security.policy import authorize, permission
from gateway.security.principal import current_principal
from schemas.common import PageQuerySchema, YearArg, page_schema

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
    year = YearArg()
    uscc = fields.String(validate=validate.Length(max=18))


# Their own names keep the OpenAPI document's component names.
class HigherLevelImportArgsSchema(ImportArgsSchema):
    pass


class HigherLevelImportFileSchema(ImportFileSchema):
    pass


HigherLevelPageSchema = page_schema(HigherLevelInspectionSchema, "HigherLevelInspectionPage")


@higher_level_blp.route("")
class HigherLevelInspections(MethodView):
    @permission("targets.read")
    @higher_level_blp.arguments(HigherLevelQuerySchema, location="query")
    @higher_level_blp.response(200, HigherLevelPageSchema)
    def get(self, args):
        """Inspections by city, provincial or national authorities, by year and USCC."""
        stmt = where_equal(select(HigherLevelInspection), args, {"year": HigherLevelInspection.year})
        if args.get("uscc"):
            stmt = stmt.where(HigherLevelInspection.uscc == args["uscc"].strip().upper())
        return query_page(db(), stmt.order_by(HigherLevelInspection.id), args)


@higher_level_blp.route("/import")
class HigherLevelImport(MethodView):
    @permission("inspections.import")
    @import_view(higher_level_blp, HigherLevelImportArgsSchema, HigherLevelImportFileSchema)
    def post(self, args, _files):
        """Import higher-level inspection records from CSV or XLSX (统一社会信用代码, 检查机关, 检查机关层级,
        检查日期, and optionally 对口部门, 抽查事项, 检查编号). Any bad row refuses the whole file
        unless ``partial``; every error names its row and column."""
        principal = current_principal()
        authorize(principal, "inspections.import")
        return import_upload(principal, "inspections", args["partial"])
