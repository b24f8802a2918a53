"""Helpers for tests that read a statement's query plan, on SQLite and PostgreSQL."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator


@contextmanager
def captured(engine) -> Iterator[list[tuple[str, Any]]]:
    """The (statement, parameters) of every statement ``engine`` executes in the block."""
    from sqlalchemy import event

    statements: list[tuple[str, Any]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def prefer_indexes(conn) -> None:
    """On PostgreSQL, plan as for a large table: a test's tables are small, a province's are not."""
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql("SET enable_seqscan = off")


def query_plan(conn, statement: str, parameters: Any = None) -> str:
    """The plan of ``statement`` as one string, a line per step: SQLite's ``EXPLAIN QUERY PLAN``
    details, PostgreSQL's ``EXPLAIN``."""
    explain = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
    return "\n".join(str(row[-1]) for row in conn.exec_driver_sql(explain + statement, parameters))
