"""Writing a draw's tasks and team members in bulk, inside the draw's own transaction.

A draw of a large county writes tens of thousands of tasks and team members at once; these
helpers go through the driver (SQLite ``json_each``, PostgreSQL ``COPY``) instead of the ORM,
and hand out the new tasks' ids up front so that nothing has to be read back.
"""
from __future__ import annotations

import json
import threading
from datetime import date, datetime
from contextlib import contextmanager
from typing import Iterator, Sequence

from sqlalchemy.orm import Session



def reserve_ids(session: Session, table: str, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table``'s integer ``id``.

    PostgreSQL draws them from the column's sequence, as a plain INSERT would. SQLite allows one
    writer at a time and the caller's transaction already holds the write lock (the draw has
    updated its own row), so the ids after the current largest are free until it commits.
    """
    if count <= 0:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        rows = connection.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence(%(table)s, 'id')) FROM generate_series(1, %(count)s)",
            {"table": table, "count": count},
        )
        return [value for (value,) in rows]
    largest = connection.exec_driver_sql(f'SELECT coalesce(max(id), 0) FROM "{table}"').scalar_one()
    return list(range(largest + 1, largest + 1 + count))


def target_ids(session: Session, usccs: Sequence[str]) -> dict[str, int]:
    """USCC -> target id for the given USCCs, in one query whatever their number."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        rows = connection.exec_driver_sql("SELECT uscc, id FROM targets WHERE uscc = ANY(%s)", (list(usccs),))
    else:
        rows = connection.exec_driver_sql(
            "SELECT uscc, id FROM targets WHERE uscc IN (SELECT value FROM json_each(?))", (json.dumps(list(usccs)),)
        )
    return dict(rows.all())


def _copy(dbapi_connection, table: str, columns: tuple[str, ...], rows: Sequence[tuple]) -> None:
    names = ", ".join(f'"{n}"' for n in columns)
    with dbapi_connection.cursor() as cursor:
        with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)


def _sqlite_value(value):
    """Dates and times as SQLAlchemy stores them in SQLite, for :func:`_insert_from_json`."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a bulk insert")


def _insert_from_json(dbapi_connection, table: str, columns: tuple[str, ...], rows: Sequence[tuple]) -> None:
    """One INSERT … SELECT over ``json_each`` of all the rows: a single statement step, during
    which SQLite runs without the GIL (``executemany`` would take it back after every row)."""
    names = ", ".join(f'"{n}"' for n in columns)
    values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
    text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"), default=_sqlite_value)
    dbapi_connection.execute(f'INSERT INTO "{table}" ({names}) SELECT {values} FROM json_each(?)', (text,))


Batch = tuple[str, tuple[str, ...], Sequence[tuple]]


@contextmanager
def inserting(session: Session, batches: Sequence[Batch]) -> Iterator[None]:
    """Insert the batches (table, columns, rows; in order) while the body runs.

    A worker thread writes them through the session's own connection, in its transaction, so
    that the database checks and indexes the rows while the caller goes on: PostgreSQL in its
    own process, SQLite with the GIL released inside each statement step. The body must not use
    the session or its connection. Leaving the block waits for the worker and re-raises its
    error, if any, so the caller's transaction never commits half the rows.
    """
    connection = session.connection()
    dbapi_connection = connection.connection.dbapi_connection
    postgresql = connection.dialect.name == "postgresql"
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for table, columns, rows in batches:
                if not rows:
                    continue
                if postgresql:
                    _copy(dbapi_connection, table, columns, rows)
                else:
                    _insert_from_json(dbapi_connection, table, columns, rows)
        except BaseException as exc:  # handed to the caller's thread below
            failures.append(exc)

    worker = threading.Thread(target=work, name="draw-bulk-insert", daemon=True)
    worker.start()
    try:
        yield
    finally:
        worker.join()
    if failures:
        raise failures[0]
