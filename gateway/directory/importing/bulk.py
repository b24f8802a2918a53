"""Fast upserts keyed on a unique column, one path per database.

SQLite: the driver's ``executemany`` of one INSERT … ON CONFLICT DO UPDATE.
PostgreSQL: ``COPY`` into a temporary staging table, then one INSERT … SELECT … ON CONFLICT.
Both run inside the caller's transaction, so the caller decides commit or rollback.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from sqlalchemy.engine import Connection


def _quote(name: str) -> str:
    return '"' + name + '"'


class Upserter:
    """Collects rows (tuples in ``columns`` order) and writes them in batches."""

    def __init__(self, conn: Connection, table: str, key: str, columns: Sequence[str],
                 update_columns: Sequence[str], batch_size: int = 5000):
        self.conn = conn
        self.table = table
        self.key = key
        self.columns = list(columns)
        self.update_columns = [c for c in update_columns if c != key]
        self.batch_size = batch_size
        self.dialect = conn.dialect.name
        self.pending: list[tuple] = []
        self.written = 0
        self.created = 0
        self._count_before: int | None = None
        self._copy_started = False
        self._staging = f"staging_{table}"
        if self.dialect == "sqlite":
            self._count_before = self._count()

    def _count(self) -> int:
        return self.conn.exec_driver_sql(f"SELECT count(*) FROM {_quote(self.table)}").scalar_one()

    def add(self, row: tuple) -> None:
        self.pending.append(row)
        if len(self.pending) >= self.batch_size:
            self.flush()

    def add_many(self, rows: Iterable[tuple]) -> None:
        for row in rows:
            self.add(row)

    def flush(self) -> None:
        if not self.pending:
            return
        if self.dialect == "sqlite":
            self._flush_sqlite()
        else:
            self._flush_postgresql()
        self.written += len(self.pending)
        self.pending = []

    def _flush_sqlite(self) -> None:
        cols = ", ".join(_quote(c) for c in self.columns)
        marks = ", ".join("?" for _ in self.columns)
        if self.update_columns:
            updates = ", ".join(f"{_quote(c)}=excluded.{_quote(c)}" for c in self.update_columns)
            conflict = f"ON CONFLICT({_quote(self.key)}) DO UPDATE SET {updates}"
        else:
            conflict = f"ON CONFLICT({_quote(self.key)}) DO NOTHING"
        sql = f"INSERT INTO {_quote(self.table)} ({cols}) VALUES ({marks}) {conflict}"
        self.conn.exec_driver_sql(sql, self.pending)

    def _flush_postgresql(self) -> None:
        raw = self.conn.connection.dbapi_connection
        with raw.cursor() as cur:
            if not self._copy_started:
                cur.execute(
                    f"CREATE TEMP TABLE {self._staging} ON COMMIT DROP AS "
                    f"SELECT {', '.join(_quote(c) for c in self.columns)} FROM {_quote(self.table)} WITH NO DATA"
                )
                self._copy_started = True
            cols = ", ".join(_quote(c) for c in self.columns)
            with cur.copy(f"COPY {self._staging} ({cols}) FROM STDIN") as copy:
                for row in self.pending:
                    copy.write_row(row)

    def finish(self) -> tuple[int, int]:
        """Write what is left; return (created, updated)."""
        self.flush()
        if self.dialect == "sqlite":
            self.created = self._count() - (self._count_before or 0)
            return self.created, self.written - self.created
        if not self._copy_started:
            return 0, 0
        cols = ", ".join(_quote(c) for c in self.columns)
        if self.update_columns:
            updates = ", ".join(f"{_quote(c)}=EXCLUDED.{_quote(c)}" for c in self.update_columns)
            conflict = f"ON CONFLICT ({_quote(self.key)}) DO UPDATE SET {updates}"
        else:
            conflict = f"ON CONFLICT ({_quote(self.key)}) DO NOTHING"
        sql = (
            f"WITH ins AS (INSERT INTO {_quote(self.table)} ({cols}) SELECT {cols} FROM {self._staging} "
            f"{conflict} RETURNING (xmax = 0) AS created) "
            "SELECT count(*) FILTER (WHERE created), count(*) FROM ins"
        )
        created, total = self.conn.exec_driver_sql(sql).one()
        self.conn.exec_driver_sql(f"DROP TABLE {self._staging}")
        self.created = created
        return created, total - created
