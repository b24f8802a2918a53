"""Fixtures shared by the core's tests: a migrated database on SQLite and on PostgreSQL."""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.config import Settings
from gateway.migrate import upgrade
from gateway.testing.app import app_for_tests, clients_as, synced_gateway, token_headers

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


# The gateway, the application, tokens and clients are the plugin author's kit's
# (gateway.testing.app, behind the shuangsui_* fixtures), on the suite's databases.
@pytest.fixture
def gateway(settings):
    """The gateway with every installed plugin, on a migrated database with plugins synced."""
    with synced_gateway(settings) as gw:
        yield gw


@pytest.fixture
def app(gateway):
    return app_for_tests(gateway)


@pytest.fixture
def client(app):
    return app.test_client()


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
    return token_headers(gateway, DEFAULT_TEST_DEPARTMENT)


@pytest.fixture
def client_as(app, auth_headers):
    """Factory: ``client_as(role, department=None, inspector_id=None)`` -> a Flask test client that
    sends that role's token with every request (same arguments as ``auth_headers``)."""
    return clients_as(app, auth_headers)
