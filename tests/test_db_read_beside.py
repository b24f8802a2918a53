"""gateway.db.read_beside: a read of committed rows beside a session's transaction (the freeze
reads the caps' counts so while it builds the strata)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.db import read_beside
from gateway.directory.models import Department


def _seen(session) -> tuple[int | None, int]:
    backend = (session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
               if session.get_bind().dialect.name == "postgresql" else None)
    return backend, session.scalar(select(func.count()).select_from(Department).where(Department.code == "beside"))


def test_a_read_beside_sees_only_committed_rows_on_a_connection_of_its_own_on_postgresql(gateway):
    with gateway.write() as session:
        session.add(Department(code="beside", name="旁读测试", level="county"))
        session.flush()
        own = _seen(session)
        apart = read_beside(session, _seen)()
        if gateway.engine.dialect.name == "postgresql":
            assert apart[0] != own[0] and (own[1], apart[1]) == (1, 0)
        else:  # SQLite: at once, on the session itself (its one writer's transaction)
            assert apart == own == (None, 1)
        session.rollback()


def test_a_session_bound_to_a_connection_reads_on_it(gateway):
    with gateway.engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection) as session:
            session.add(Department(code="beside", name="旁读测试", level="county"))
            session.flush()
            assert read_beside(session, _seen)() == _seen(session)
            assert _seen(session)[1] == 1
        transaction.rollback()


def test_an_error_in_the_read_reaches_the_caller(gateway):
    def failing(_session):
        raise LookupError("没有")

    with gateway.write() as session:
        with pytest.raises(LookupError, match="没有"):
            read_beside(session, failing)()
        session.rollback()
