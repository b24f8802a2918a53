"""Fixtures shared by the core's tests: a migrated database on SQLite and on PostgreSQL."""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.config import Settings
from gateway.core import Gateway
from gateway.migrate import upgrade

PG_ADMIN_URL = os.environ.get("SHUANGSUI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_SKIP_MESSAGE = (
    "PostgreSQL is not reachable at {url}: the PostgreSQL leg of the suite was SKIPPED. "
    "Start PostgreSQL 15 (trust auth, database 'test') to run it."
)


def _pg_available() -> bool:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def pytest_report_header(config):
    if not _pg_available():
        return "WARNING: " + PG_SKIP_MESSAGE.format(url=PG_ADMIN_URL)
    return f"PostgreSQL leg: {PG_ADMIN_URL}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database_url():
    """A fresh, migrated PostgreSQL database for this test session (one per xdist worker)."""
    if not _pg_available():
        message = PG_SKIP_MESSAGE.format(url=PG_ADMIN_URL)
        if os.environ.get("CI"):
            pytest.fail("CI requires PostgreSQL. " + message)
        pytest.skip(message)
    name = f"shuangsui_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        # A test database need not survive a crash; commits need not wait for the disk.
        conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    admin.dispose()


_CLEANERS: dict[str, tuple[sa.engine.Engine, str]] = {}


def _empty_all(url: str) -> None:
    """Empty every table and restart every sequence, in one transaction on a cached engine.

    DELETE is much cheaper than TRUNCATE for the handful of rows a test leaves behind.
    """
    from gateway.models import metadata

    if url not in _CLEANERS:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            sequences = [r[0] for r in conn.exec_driver_sql(
                "SELECT quote_ident(sequence_schema) || '.' || quote_ident(sequence_name) FROM information_schema.sequences"
            )]
        statements = [f'DELETE FROM "{t.name}"' for t in reversed(metadata.sorted_tables)]
        statements += [f"ALTER SEQUENCE {seq} RESTART" for seq in sequences]
        _CLEANERS[url] = (engine, ";\n".join(statements))
    engine, sql = _CLEANERS[url]
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A migrated, empty database: a copy of the SQLite template, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "gateway.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_database_url")
    _empty_all(url)
    return url


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(instance_path=tmp_path / "instance", database_url=database_url, secret_key="test-secret")


@pytest.fixture
def gateway(settings):
    """The gateway with every installed plugin, on a migrated database with plugins synced."""
    gw = Gateway.create(settings)
    gw.sync_registry()
    yield gw
    gw.dispose()


@pytest.fixture
def app(gateway):
    from gateway.app import create_app

    application = create_app(gateway=gateway)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def client(app):
    return app.test_client()


# ------------------------------------------------------------------------------ authentication
# Department roles default to this department when a test does not name one.
DEFAULT_TEST_DEPARTMENT = "market"


@pytest.fixture
def auth_headers(gateway):
    """Factory: ``auth_headers(role, department=None, inspector_id=None) -> dict`` of request headers.

    Creates a real API token in the test database (scoped to the role, department and inspector,
    valid one day) and returns ``{"Authorization": "Bearer <token>"}``; ``"public"`` returns ``{}``.
    Department roles default to ``market``; an inspector token needs ``inspector_id`` (its
    department is the inspector's own). Tokens are cached per scope within a test.
    """
    from gateway.security import accounts
    from gateway.security.principal import Principal

    made: dict[tuple, dict[str, str]] = {}

    def make(role: str, department: str | None = None, inspector_id: int | None = None) -> dict[str, str]:
        if role == "public":
            return {}
        if role in ("department_operator", "department_head") and department is None:
            department = DEFAULT_TEST_DEPARTMENT
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


@pytest.fixture
def client_as(app, auth_headers):
    """Factory: ``client_as(role, department=None, inspector_id=None)`` -> a Flask test client that
    sends that role's token with every request (same arguments as ``auth_headers``)."""

    def make(role: str, department: str | None = None, inspector_id: int | None = None):
        test_client = app.test_client()
        for name, value in auth_headers(role, department, inspector_id).items():
            test_client.environ_base["HTTP_" + name.upper().replace("-", "_")] = value
        return test_client

    return make
