"""PostgreSQL: compress the draws' large columns with lz4 instead of pglz

A draw at a million targets writes about 20 MB of frozen strata and exclusions and a 26 MB public
record; pglz compresses them at tens of MB/s (about 1 s of the draw), lz4 several times faster.
Storage only: the values, and the record's bytes, are unchanged. SQLite, and a PostgreSQL built
without lz4 (or older than 14), are left as they are.
"""
from alembic import op

from gateway.migrations import helpers as h

revision = "0009_draw_lz4"
down_revision = "0008_merge"

COLUMNS = ("strata", "exclusions", "record", "team_inputs")


def _compress(method: str) -> None:
    if h.lz4_available():
        for column in COLUMNS:
            op.execute(f'ALTER TABLE draws ALTER COLUMN "{column}" SET COMPRESSION {method}')


def upgrade() -> None:
    _compress("lz4")


def downgrade() -> None:
    _compress("pglz")
