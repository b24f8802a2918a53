"""The freeze reads the targets at a cap from the counts' ``(year, n)`` indexes alone on
PostgreSQL (they carry the codes: migration 0037), through them on SQLite."""
from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite

from gateway.ledger.models import InspectionCaps, LedgerDepartmentCount, LedgerTargetCount
from gateway.ledger.queries import at_cap_rows
from tests.drawdb import YEAR
from tests.query_plans import prefer_indexes, query_plan


def test_the_targets_at_a_cap_are_read_from_the_counts_indexes(gateway):
    with gateway.write() as session:
        session.execute(insert(LedgerTargetCount), [
            {"year": YEAR, "uscc": f"91410822MA{n:08d}", "n": n % 5} for n in range(200)])
        session.execute(insert(LedgerDepartmentCount), [
            {"year": YEAR, "uscc": f"91410822MA{n:08d}", "department_code": department, "n": n % 3}
            for n in range(200) for department in ("market", "farm")])
    with gateway.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # the visibility map, as autovacuum keeps it: an index-only read skips the pages all visible
        conn.exec_driver_sql("ANALYZE" if conn.dialect.name == "sqlite"
                             else "VACUUM ANALYZE ledger_target_counts, ledger_department_counts")
        prefer_indexes(conn)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_bitmapscan = off")
        stmt = at_cap_rows(YEAR, InspectionCaps(year=YEAR, per_department=2, total=4), ["farm", "market"])
        dialect = postgresql.dialect() if conn.dialect.name == "postgresql" else sqlite.dialect()
        plan = query_plan(conn, str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True})))
    for index in ("ix_ledger_target_counts_year_n", "ix_ledger_department_counts_year_n"):
        if conn.dialect.name == "postgresql":
            assert f"Index Only Scan using {index}" in plan, plan
        else:
            assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan, plan
