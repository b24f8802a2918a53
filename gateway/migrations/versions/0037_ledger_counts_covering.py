"""The ledger's counts by (year, n) carry the targets' codes: ix_ledger_target_counts_year_n
INCLUDE (uscc), ix_ledger_department_counts_year_n INCLUDE (uscc, department_code) (PostgreSQL)

Issue 20: the freeze joins its candidates to the targets at a cap (gateway.ledger.queries.at_cap_rows),
read through these indexes by each of the population query's parallel processes. Without the
codes in the index each process read every page of the table holding a target at a cap: at a
million targets, with a tenth of them at a department's cap, 15,828 pages and 130 ms per process;
with them the read is index-only, 54 ms. At ten million targets nearly every page of the counts
holds such a target. SQLite reads the counts once, in the one process, and is unchanged.

Building the indexes blocks writes to the counts (not reads): about a second per million rows.
"""
from alembic import op

from gateway.migrations import helpers as h

revision = "0037_ledger_counts_covering"
down_revision = "0036_tasks_target_plan"

INDEXES = (("ix_ledger_target_counts_year_n", "ledger_target_counts", "uscc"),
           ("ix_ledger_department_counts_year_n", "ledger_department_counts", "uscc, department_code"))


def upgrade() -> None:
    if h.on_postgresql():
        for name, table, included in INDEXES:
            op.execute(f"DROP INDEX {name}")
            op.execute(f"CREATE INDEX {name} ON {table} (year, n) INCLUDE ({included})")


def downgrade() -> None:
    if h.on_postgresql():
        for name, table, _ in INDEXES:
            op.execute(f"DROP INDEX {name}")
            op.execute(f"CREATE INDEX {name} ON {table} (year, n)")
