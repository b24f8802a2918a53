"""Per-request access to the gateway object and a database session."""
from __future__ import annotations

from typing import Any, Callable, TypeVar

from flask import current_app, g
from marshmallow import Schema
from sqlalchemy.orm import Session

from gateway.core import Gateway
from schemas.common import python_values


def get_gateway() -> Gateway:
    return current_app.extensions["shuangsui"]


def db() -> Session:
    """The request's read session (closed at teardown)."""
    if "db_session" not in g:
        g.db_session = get_gateway().sessions()
    return g.db_session


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
