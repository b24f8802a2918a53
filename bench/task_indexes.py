"""Benchmark: what each index of ``tasks`` (or ``task_members``) adds to writing a draw's rows, on PostgreSQL.

    python bench/task_indexes.py URL [--table tasks|task_members] [--repeat 2]

URL names a PostgreSQL database holding drawn tasks: for instance a copy (``CREATE DATABASE x
TEMPLATE y``) of one that ``bench.draw_steps`` loaded and drew. In transactions that are rolled
back, the rows already there are inserted again (ids, and of tasks the numbers and plan ids, shifted
past the existing ones; the per-row triggers off, as the draw's set-checked ``COPY`` has them) with every
index; with the primary key alone; with the primary key and each other index in turn; and into a
temporary table without any (the rows' own cost). It prints each time, the best of ``--repeat``.
Nothing is left changed. The figures inform a schema decision (docs/plans-and-draws.md, "What
writing a task costs"); they are not an aim.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Index name -> the constraint it backs (dropped as a constraint), for the table's indexes other
# than the primary key.
_INDEXES = """
SELECT i.relname, c.conname FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
WHERE x.indrelid = '{table}'::regclass AND NOT x.indisprimary ORDER BY i.relname
"""


def _reinsert(conn, table: str) -> str:
    """The statement inserting every row of ``table`` again under new ids (tasks: numbers and plan
    ids too, as a new plan's draw would write them)."""
    columns = conn.exec_driver_sql(
        f"SELECT attname FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum").scalars().all()
    shifted = {"id": f"id + {conn.exec_driver_sql(f'SELECT max(id) FROM {table}').scalar_one()}"}
    if table == "tasks":
        plan_shift = conn.exec_driver_sql("SELECT max(plan_id) FROM tasks").scalar_one()
        shifted |= {"number": "number || '#'", "plan_id": f"plan_id + {plan_shift}"}
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(shifted.get(c, f'"{c}"') for c in columns)
    return f"INSERT INTO {{into}} ({names}) SELECT {values} FROM {table}"


def _timed(engine, statements: list[str], insert: str) -> float:
    """Seconds ``insert`` took after ``statements``, all in one transaction rolled back."""
    with engine.connect() as conn:
        with conn.begin() as transaction:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for statement in statements:
                conn.exec_driver_sql(statement)
            start = time.perf_counter()
            conn.exec_driver_sql(insert)
            seconds = time.perf_counter() - start
            transaction.rollback()
    return seconds


def _drop(table: str, index: str, constraint: str | None) -> str:
    return f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"' if constraint else f'DROP INDEX "{index}"'


def measure(url: str, table: str, repeat: int) -> list[tuple[str, float]]:
    """(configuration, best seconds) for each set of indexes of ``table``."""
    engine = sa.create_engine(url)
    if engine.dialect.name != "postgresql":
        raise SystemExit(f"{url}: not a PostgreSQL database (the indexes measured are PostgreSQL's)")
    with engine.connect() as conn:
        if conn.exec_driver_sql(f"SELECT to_regclass('{table}')").scalar_one() is None:
            raise SystemExit(f"{url}: no {table} table (apply the migrations, load a directory and draw first)")
        indexes = conn.exec_driver_sql(_INDEXES.format(table=table)).all()
        insert = _reinsert(conn, table)
        rows = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
    if not rows:
        raise SystemExit(f"{url}: no {table} rows to insert again (draw first: python -m bench.draw_steps draw URL RECORD)")
    drop_all = [_drop(table, index, constraint) for index, constraint in indexes]
    cases = [("all indexes", [], table), ("primary key alone", drop_all, table),
             ("no index (a temporary table)", [f"CREATE TEMP TABLE copy (LIKE {table})"], "copy")]
    cases += [(f"primary key and {index}", [d for (other, _), d in zip(indexes, drop_all) if other != index], table)
              for index, _ in indexes]
    print(f"{rows:,} rows of {table} inserted again, best of {repeat}")
    return [(label, min(_timed(engine, statements, insert.format(into=into)) for _ in range(repeat)))
            for label, statements, into in cases]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="postgresql+psycopg://… of a database holding drawn tasks")
    parser.add_argument("--table", choices=("tasks", "task_members"), default="tasks")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    for label, seconds in measure(args.url, args.table, args.repeat):
        print(f"  {label:55s} {seconds:7.3f} s")


if __name__ == "__main__":
    main()
