"""The installed plugins, departments and the merged matter list (public: article 8 publishes it)."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from gateway.api.session import get_gateway
from gateway.plugins.describe import describe_plugins
from gateway.security.policy import permission

blp = Blueprint("plugins", __name__, url_prefix="", description="插件、部门与抽查事项清单")


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
@blp.response(200, fields.List(fields.Dict()))
def list_departments():
    """Departments contributed by plugins."""
    return describe_plugins(get_gateway().registry)["departments"]


@blp.route("/matters")
@permission("catalogue.read")
@blp.response(200, fields.List(fields.Dict()))
def list_matters():
    """The joint matter list: each matter with lead, cooperating departments and all check items."""
    return describe_plugins(get_gateway().registry)["matters"]
