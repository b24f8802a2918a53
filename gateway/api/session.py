"""Per-request access to the gateway object and a database session."""
from __future__ import annotations

from typing import Any, Callable, TypeVar

from flask import current_app, g, request
from marshmallow import Schema
from sqlalchemy import event
from sqlalchemy.orm import Session

from gateway.core import Gateway
from schemas.common import python_values


def get_gateway() -> Gateway:
    return current_app.extensions["shuangsui"]


def db() -> Session:
    """The request's read session (closed at teardown)."""
    if "db_session" not in g:
        g.db_session = get_gateway().sessions()
        if _anonymous_read():
            _read_without_transaction(g.db_session)
    return g.db_session


def _anonymous_read() -> bool:
    """A GET that carries no credential at all (no Authorization header, no cookie): the public's.
    Decided from the request itself, because authentication reads through this session too."""
    return request.method in ("GET", "HEAD") and "Authorization" not in request.headers \
        and not request.cookies and get_gateway().engine.dialect.name == "postgresql"


def _read_without_transaction(session: Session) -> None:
    """The public's reads on PostgreSQL run each statement on its own (autocommit), as READ
    COMMITTED gives each statement its own snapshot anyway: no BEGIN before the first and no
    ROLLBACK at the end, two of the few round trips of a public page (issue 20). Nothing may be
    written through that session: a flush is refused rather than committed."""
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    event.listen(session, "before_flush", _refuse_flush)


def _refuse_flush(session: Session, _context, _instances) -> None:
    raise RuntimeError("the public's read session writes nothing: write in gateway.write()")


T = TypeVar("T")


def written(work: Callable[[Gateway, Session], T]) -> T:
    """``work(gateway, session)`` in one write transaction of the request's gateway; what it returns
    (the view's body, dumped while the session is open) is the view's."""
    gateway = get_gateway()
    with gateway.write() as session:
        return work(gateway, session)


def written_as(schema: Schema, work: Callable[[Session], Any]) -> dict[str, Any]:
    """What ``work(session)`` writes, in one write transaction, dumped by ``schema`` (``python_values``)."""
    return written(lambda _gateway, session: python_values(schema, work(session)))


def close_session(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
