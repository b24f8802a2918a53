"""The application factory."""
from __future__ import annotations

import logging
from typing import Iterable

from flask import Flask, Response
from flask_smorest import Api
from werkzeug.routing import IntegerConverter

from gateway import __version__
from gateway.api.blueprints import register_blueprints
from gateway.api.errors import register_error_handlers
from gateway.api.session import close_session
from gateway.config import Settings
from gateway.core import Gateway
from gateway.security import web
from gateway.web import install as install_web
from schemas.common import ErrorSchema


class BoundedIntConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class GatewayApi(Api):
    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = "Error"

    def init_app(self, app: Flask, *args, **kwargs) -> None:
        super().init_app(app, *args, **kwargs)
        # flask-smorest registers its default error response as "DEFAULT_ERROR" whatever the name
        # above says; register ours on the spec so every operation's "default" reference resolves.
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, {
            "description": "错误（统一格式：code、message、errors）",
            "content": {self.DEFAULT_RESPONSE_CONTENT_TYPE: {"schema": self.ERROR_SCHEMA}},
        }, lazy=True)


def api_spec_config() -> dict:
    return {
        "API_TITLE": "Shuangsui Gateway API",
        "API_VERSION": __version__,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "info": {"description": "双随机、一公开 跨部门联合抽查网关 API。错误响应统一为 {code, message, errors}。"},
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer",
                                   "description": "API token (shuangsui token create); shown once, revocable."},
                    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "shuangsui_session",
                                      "description": "page session from POST /api/v1/auth/sign-in; "
                                                     "changes also need the X-CSRF-Token header."},
                },
            },
            # Anonymous access ({}) is what the public gets; each operation's x-permission says who may.
            "security": [{"bearerAuth": []}, {"sessionCookie": []}, {}],
        },
    }


HEALTH_PATH = "/healthz"


def healthz() -> Response:
    """``GET /healthz``: 200 ``ok`` while the process serves requests, for load balancers' health
    checks (docs/deploy.md). It reads nothing from the database, so it is also the framework's own
    floor in ``bench/load.py``: every request hook runs, no query does. The public rate limit
    leaves it alone, so that a flood from the balancer's address never takes a gateway out of rotation."""
    return Response("ok\n", mimetype="text/plain", headers={"Cache-Control": "no-store"})


def create_app(
    settings: Settings | None = None,
    gateway: Gateway | None = None,
    extra_plugins: Iterable[tuple[str, object]] = (),
) -> Flask:
    """Build the WSGI application. Pass ``gateway`` to share one with the caller (tests, CLI)."""
    if gateway is None:
        gateway = Gateway.create(settings, extra_plugins=extra_plugins)
        gateway.sync_registry_at_start()
    settings = gateway.settings
    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=True)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        JSON_AS_ASCII=False,
        **api_spec_config(),
    )
    app.json.ensure_ascii = False
    # Path integers beyond a database INTEGER cannot name anything: such URLs match no route (404).
    app.url_map.converters["int"] = BoundedIntConverter
    app.extensions["shuangsui"] = gateway
    app.teardown_appcontext(close_session)
    api = GatewayApi(app)
    register_error_handlers(app)  # after the Api, so ours replace flask-smorest's handlers

    register_blueprints(api)

    web.install(app)
    app.add_url_rule(HEALTH_PATH, "healthz", healthz)

    install_web(app)  # the pages in Chinese; "/" is the public home page

    logging.getLogger("gateway").setLevel(logging.INFO)
    return app
