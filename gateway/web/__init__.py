"""The web pages: server-rendered Jinja templates in Simplified Chinese, one blueprint per area.

Views here are thin. They call the service functions of each part of the workflow (directory,
planning, draw, tasks, results, sync) with the request's principal, and turn domain errors into
messages shown on the page (field errors beside their fields). Nothing here decides who may do
what: views declare their action with ``gateway.security.policy.permission`` and the services
call ``authorize``.

``install(app)`` mounts every blueprint, the template helpers and the static files.
"""
from __future__ import annotations

from flask import Flask

from gateway.web import (
    accounts,
    auth,
    base,
    codes,
    directory,
    draw,
    field,
    ledger,
    notices,
    office,
    plans,
    portal,
    public,
    results,
    tasks,
    visits,
)


def install(app: Flask) -> None:

    base.install_helpers(app)
    for module in (base, public, auth, office, plans, draw, directory, tasks, results, accounts, portal, notices, codes,
                   visits):
        app.register_blueprint(module.bp)
    app.register_blueprint(ledger.bp)
    app.register_blueprint(ledger.public_bp)
    app.register_blueprint(field.bp)
    app.register_blueprint(field.console_bp)
    app.register_error_handler(404, base.not_found_page)
