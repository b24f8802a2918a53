"""pytest fixtures for department plugin authors, installed with the gateway (entry point ``pytest11``).

Every fixture is named ``shuangsui_*``. The database is a throw-away one: a migrated SQLite file
in the test's temporary folder by default; with ``--shuangsui-postgresql URL`` (or the environment
variable ``SHUANGSUI_TEST_POSTGRESQL``), a new database created on that server for the test and
dropped afterwards, never the server's existing databases.
"""
from __future__ import annotations

import os
import shutil
import uuid
from typing import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from gateway.config import Settings
from gateway.migrate import upgrade
from gateway.testing.app import app_for_tests, clients_as, synced_gateway, token_headers
from gateway.testing.world import draw_task_for

POSTGRESQL_ENV = "SHUANGSUI_TEST_POSTGRESQL"


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--shuangsui-postgresql", default=os.environ.get(POSTGRESQL_ENV, ""), metavar="URL",
        help="run the shuangsui_* fixtures on PostgreSQL: a server URL (e.g. "
             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres) on which each test gets a new database",
    )


@pytest.fixture(scope="session")
def _shuangsui_template(request, tmp_path_factory):
    """A migrated, empty database the tests copy: a SQLite file, or a PostgreSQL template database."""

    server = request.config.getoption("--shuangsui-postgresql")
    if not server:
        path = tmp_path_factory.mktemp("shuangsui") / "template.sqlite"
        upgrade(f"sqlite:///{path}")
        yield ("sqlite", str(path))
        return
    name = f"shuangsui_tmpl_{uuid.uuid4().hex[:12]}"
    _admin(server, f'CREATE DATABASE "{name}"')
    try:
        upgrade(_on(server, name))
        yield ("postgresql", name)
    finally:
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _on(server: str, database: str) -> str:

    return make_url(server).set(database=database).render_as_string(hide_password=False)


def _admin(server: str, statement: str) -> None:

    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


@pytest.fixture
def shuangsui_database_url(request, tmp_path, _shuangsui_template) -> str:
    """The URL of a migrated, empty database for this test alone."""
    kind, template = _shuangsui_template
    if kind == "sqlite":
        path = tmp_path / "shuangsui.sqlite"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    server = request.config.getoption("--shuangsui-postgresql")
    name = f"shuangsui_test_{uuid.uuid4().hex[:12]}"
    _admin(server, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    request.addfinalizer(lambda: _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return _on(server, name)


@pytest.fixture
def shuangsui_plugins() -> tuple[str, ...] | None:
    """The entry-point names of the plugins to load (the allow-list); None loads every installed
    plugin. Override it in a conftest.py to test a combination."""
    return None


@pytest.fixture
def shuangsui_settings(tmp_path, shuangsui_database_url, shuangsui_plugins):

    return Settings(instance_path=tmp_path / "instance", database_url=shuangsui_database_url,
                    secret_key="shuangsui-test-secret", plugins=shuangsui_plugins)


@pytest.fixture
def shuangsui_gateway(shuangsui_settings):
    """The gateway with the installed plugins, on the test's database with the plugins synced."""
    with synced_gateway(shuangsui_settings) as gateway:
        yield gateway


@pytest.fixture
def shuangsui_app(shuangsui_gateway):
    return app_for_tests(shuangsui_gateway)


@pytest.fixture
def shuangsui_client(shuangsui_app):
    """A test client without credentials: what the public sees."""
    return shuangsui_app.test_client()


@pytest.fixture
def shuangsui_token(shuangsui_gateway) -> Callable[..., dict[str, str]]:
    """Factory: ``shuangsui_token(role, department=None, inspector_id=None)`` -> the request
    headers ``{"Authorization": "Bearer …"}`` of a real token for that role (``"public"``: ``{}``).
    Roles: county_office, department_head, department_operator (these two need ``department``),
    inspector (needs ``inspector_id``; takes the inspector's department), supervisor, system."""
    return token_headers(shuangsui_gateway)


@pytest.fixture
def shuangsui_client_as(shuangsui_app, shuangsui_token):
    """Factory: ``shuangsui_client_as(role, department=None, inspector_id=None)`` -> a test client
    that sends that role's token with every request."""
    return clients_as(shuangsui_app, shuangsui_token)


@pytest.fixture
def shuangsui_drawn_task(shuangsui_gateway):
    """Factory: ``shuangsui_drawn_task(matter_code)`` -> :class:`gateway.testing.DrawnTask`: targets
    the matter applies to, inspectors, a plan published, witnessed and drawn; the first task,
    its team leader and a valid result body (``task.result_body(changes)``)."""

    return lambda matter_code: draw_task_for(shuangsui_gateway, matter_code)
