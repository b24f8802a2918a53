"""The installed plugins, departments and the merged matter list (public: article 8 publishes it)."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from gateway.api.session import get_gateway
from gateway.plugins.describe import describe_plugins
from gateway.security.policy import permission

blp = Blueprint("plugins", __name__, url_prefix="", description="插件、部门与抽查事项清单")


class DepartmentSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    short_name = fields.String()
    level = fields.String()
    parent_code = fields.String(allow_none=True)


class MatterSchema(Schema):
    code = fields.String(required=True)
    field = fields.String()
    name = fields.String(required=True)
    department_code = fields.String()
    lead_department = fields.String()
    cooperating_departments = fields.List(fields.String())
    check_items = fields.List(fields.Dict())
    legal_basis = fields.List(fields.String())
    min_ratio = fields.String()
    frequency = fields.String()
    methods = fields.List(fields.String())
    criteria = fields.Dict()
    target_description = fields.String()
    version = fields.String()
    appendix_text = fields.String(metadata={"description": "联合抽查事项清单中该事项的原文"})
    county_defaults = fields.List(fields.String(), metadata={
        "description": "无规定依据、由本县设定的默认项（min_ratio、frequency、criteria），可在计划中调整"})
    guide_text = fields.String()


class CatalogueSchema(Schema):
    plugins = fields.List(fields.Dict())
    departments = fields.List(fields.Dict())
    matters = fields.List(fields.Dict())


@blp.route("/plugins")
@permission("catalogue.read")
@blp.response(200, CatalogueSchema)
def list_plugins():
    """Installed plugins with version, department, matters and check items."""
    return describe_plugins(get_gateway().registry)


@blp.route("/departments")
@permission("catalogue.read")
@blp.response(200, DepartmentSchema(many=True))
def list_departments():
    """Departments contributed by plugins."""
    return describe_plugins(get_gateway().registry)["departments"]


@blp.route("/matters")
@permission("catalogue.read")
@blp.response(200, MatterSchema(many=True))
def list_matters():
    """The joint matter list: each matter with lead, cooperating departments and all check items."""
    return describe_plugins(get_gateway().registry)["matters"]
