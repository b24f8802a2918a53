"""The targets' credit-code index carries their ids: uq_targets_uscc UNIQUE (uscc) INCLUDE (id) (PostgreSQL)

Issue 20: the draw looks up each stratum's drawn targets by credit code while it draws the next
strata (gateway.draw.bulk.target_ids with ``probe``), one index probe per code. With the id in the
index those probes never read the table's pages (an index-only scan): at a million targets 80,000
of them took 0.26 s instead of 0.47 s, no more than the one scan of the whole table the draw used
to wait for at its end. SQLite's index on ``uscc`` already holds the row's id (its rowid).
"""
from alembic import op

from gateway.migrations import helpers as h

revision = "0035_targets_uscc_include"
down_revision = "0034_targets_delete_guard"


def upgrade() -> None:
    if h.on_postgresql():
        op.execute("ALTER TABLE targets DROP CONSTRAINT uq_targets_uscc, "
                   "ADD CONSTRAINT uq_targets_uscc UNIQUE (uscc) INCLUDE (id)")


def downgrade() -> None:
    if h.on_postgresql():
        op.execute("ALTER TABLE targets DROP CONSTRAINT uq_targets_uscc, ADD CONSTRAINT uq_targets_uscc UNIQUE (uscc)")
