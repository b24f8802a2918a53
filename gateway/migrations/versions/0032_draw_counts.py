"""A draw's counts toward the yearly caps, appended: ledger_count_additions

Issue 20: a draw added its tasks to the maintained counts (migration 0023) with one upsert per
table, which at a million targets rewrote nearly every page of both tables and of their
``(year, n)`` indexes (no update can be HOT: ``n`` is indexed) and was the run's last and longest
job. A draw now appends its counts to this table instead, which the counts' readers add in; a
recount folds a target's additions into its counts (gateway.ledger.counts).
"""
import sqlalchemy as sa

from gateway.migrations import helpers as h

revision = "0032_draw_counts"
down_revision = "0031_published_order"


def upgrade() -> None:
    h.create_table(
        "ledger_count_additions",
        *h.integers("year"),
        h.uscc(),
        h.department_code(),
        # The draw's id without a foreign key: a draw is never deleted, and the append checks nothing.
        sa.Column("draw_id", sa.Integer(), nullable=False),
        *h.integers("n"),
        key=["year", "uscc", "department_code", "draw_id"],
    )


def downgrade() -> None:
    h.drop_tables("ledger_count_additions")
