"""Every blueprint of the API, registered in one place."""
from __future__ import annotations

from flask_smorest import Api


def register_blueprints(api: Api) -> None:
    from gateway.api.plugins import blp as plugins_blp
    from gateway.directory.api import conflicts_blp, imports_blp, inspectors_blp, targets_blp
    from gateway.security.api import auth_blp

    for blp in (plugins_blp, auth_blp, inspectors_blp, targets_blp, conflicts_blp, imports_blp):
        api.register_blueprint(blp, url_prefix="/api/v1" + blp.url_prefix)
