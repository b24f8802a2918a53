"""The application pieces behind the test fixtures, as plain functions: the ``shuangsui_*`` fixtures
of :mod:`gateway.testing.pytest_plugin` and the core's own ``tests/conftest.py`` are thin wrappers
around them, so that both get the same gateway, application, tokens and clients."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from flask import Flask
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.config import Settings
from gateway.core import Gateway
from gateway.security import accounts
from gateway.security.principal import Principal

# Roles that act for a department: without one named, the factory's default department.
DEPARTMENT_ROLES = ("department_operator", "department_head")


@contextmanager
def synced_gateway(settings: Settings) -> Iterator[Gateway]:
    """The gateway with the plugins ``settings`` allow, on its database with the plugins synced;
    disposed of on leaving."""
    gateway = Gateway.create(settings)
    gateway.sync_registry()
    try:
        yield gateway
    finally:
        gateway.dispose()


def app_for_tests(gateway: Gateway) -> Flask:
    app = create_app(gateway=gateway)
    app.config["TESTING"] = True
    return app


def token_headers(gateway: Gateway, default_department: str | None = None) -> Callable[..., dict[str, str]]:
    """Factory: ``make(role, department=None, inspector_id=None)`` -> the request headers
    ``{"Authorization": "Bearer …"}`` of a real token for that role, valid one day (``"public"``:
    ``{}``). A department role without a department gets ``default_department``; an inspector's
    token takes the inspector's department. Tokens are made once per scope."""
    made: dict[tuple, dict[str, str]] = {}

    def make(role: str, department: str | None = None, inspector_id: int | None = None) -> dict[str, str]:
        if role == "public":
            return {}
        if role in DEPARTMENT_ROLES and department is None:
            department = default_department
        key = (role, department, inspector_id)
        if key not in made:
            with gateway.write() as session:
                _, plaintext = accounts.issue_token(
                    session, Principal(role="system", name="pytest"), f"pytest-{role}", role,
                    department_code=department, inspector_id=inspector_id, days=1,
                )
            made[key] = {"Authorization": f"Bearer {plaintext}"}
        return dict(made[key])

    return make


def clients_as(app: Flask, headers: Callable[..., dict[str, str]]) -> Callable[..., FlaskClient]:
    """Factory: ``make(role, department=None, inspector_id=None)`` -> a test client that sends the
    ``headers`` of that role with every request."""

    def make(role: str, department: str | None = None, inspector_id: int | None = None) -> FlaskClient:
        client = app.test_client()
        for name, value in headers(role, department, inspector_id).items():
            client.environ_base["HTTP_" + name.upper().replace("-", "_")] = value
        return client

    return make
