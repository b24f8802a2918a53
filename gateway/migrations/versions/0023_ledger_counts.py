"""The ledger's maintained counts: per year and target, the inspections counting toward the caps

Issue 16: the freeze reads the targets at a cap through an index instead of grouping the whole
ledger of the year. Two tables (in all, per department), backfilled here from the ledger under each
year's current caps; from now on kept exact by gateway.ledger.counts.
"""
import json

import sqlalchemy as sa
from alembic import op

from gateway.migrations import helpers as h

revision = "0023_ledger_counts"
down_revision = "0022_field_capture"

# The defaults of gateway.ledger.channels.DEFAULT_EXEMPT when this migration was written.
DEFAULT_EXEMPT = ("case", "complaint", "referral")

LEDGER = """
SELECT t.uscc AS uscc, k.lead_department AS department_code, 'drawn' AS channel
  FROM tasks k JOIN targets t ON t.id = k.target_id JOIN plans p ON p.id = k.plan_id WHERE p.year = :year
UNION ALL SELECT uscc, department_code, 'higher_level' FROM higher_level_inspections WHERE year = :year
UNION ALL SELECT uscc, department_code, channel FROM registered_inspections WHERE year = :year
"""


def upgrade() -> None:
    h.create_table(
        "ledger_target_counts",
        *h.integers("year"),
        h.uscc(),
        *h.integers("n"),
        key=["year", "uscc"],
        indexes=[("ix_ledger_target_counts_year_n", ["year", "n"])],
    )
    h.create_table(
        "ledger_department_counts",
        *h.integers("year"),
        h.uscc(),
        h.department_code(),
        *h.integers("n"),
        key=["year", "uscc", "department_code"],
        indexes=[("ix_ledger_department_counts_year_n", ["year", "n"])],
    )
    _backfill(op.get_bind())


def _backfill(bind) -> None:
    years = {y for (y,) in bind.execute(sa.text(
        "SELECT year FROM plans UNION SELECT year FROM higher_level_inspections "
        "UNION SELECT year FROM registered_inspections"))}
    for year in sorted(years):
        caps = bind.execute(sa.text(
            "SELECT exempt_channels FROM inspection_caps WHERE year = :year AND published_at IS NOT NULL "
            "ORDER BY version DESC LIMIT 1"), {"year": year}).first()
        exempt = DEFAULT_EXEMPT if caps is None else (
            json.loads(caps[0]) if isinstance(caps[0], str) else caps[0]) or ()
        where = "WHERE channel NOT IN :exempt" if exempt else ""
        stmt = sa.text(
            "INSERT INTO ledger_department_counts (year, uscc, department_code, n) "
            f"SELECT :year, uscc, coalesce(department_code, ''), count(*) FROM ({LEDGER}) AS e {where} "
            "GROUP BY uscc, coalesce(department_code, '')")
        if exempt:
            stmt = stmt.bindparams(sa.bindparam("exempt", expanding=True))
        bind.execute(stmt, {"year": year, **({"exempt": list(exempt)} if exempt else {})})
        bind.execute(sa.text(
            "INSERT INTO ledger_target_counts (year, uscc, n) SELECT year, uscc, sum(n) "
            "FROM ledger_department_counts WHERE year = :year GROUP BY year, uscc"), {"year": year})


def downgrade() -> None:
    h.drop_tables("ledger_department_counts", "ledger_target_counts")
