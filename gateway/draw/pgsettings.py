"""A PostgreSQL setting changed for one block of a transaction (``set_config(…, true)``)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection


@contextmanager
def local_setting(connection: Connection, name: str, value: str) -> Iterator[None]:
    """``name`` = ``value`` for the block, local to the transaction, then back to what it was. If
    the block raises, the transaction is lost and its rollback restores the setting with the rest.
    Nothing happens on other databases."""
    if connection.dialect.name != "postgresql":
        yield
        return
    previous = connection.exec_driver_sql("SELECT current_setting(%(name)s)", {"name": name}).scalar_one()
    connection.exec_driver_sql("SELECT set_config(%(name)s, %(value)s, true)", {"name": name, "value": value})
    yield
    connection.exec_driver_sql("SELECT set_config(%(name)s, %(value)s, true)", {"name": name, "value": previous})
