"""PostgreSQL: compress the draws' large columns with lz4 instead of pglz

A draw at a million targets writes about 20 MB of frozen strata and exclusions and a 26 MB public
record; pglz compresses them at tens of MB/s (about 1 s of the draw), lz4 several times faster.
Storage only: the values, and the record's bytes, are unchanged. SQLite, and a PostgreSQL built
without lz4 (or older than 14), are left as they are.

Revision ID: 0009_draw_lz4
Revises: 0008_merge
Create Date: 2026-11-27
"""
from alembic import op

revision = "0009_draw_lz4"
down_revision = "0008_merge"
branch_labels = None
depends_on = None

COLUMNS = ("strata", "exclusions", "record", "team_inputs")


def _lz4_available(bind) -> bool:
    if bind.dialect.name != "postgresql" or bind.dialect.server_version_info < (14,):
        return False
    values = bind.exec_driver_sql(
        "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'").scalar()
    return bool(values) and "lz4" in values


def upgrade() -> None:
    bind = op.get_bind()
    if _lz4_available(bind):
        for column in COLUMNS:
            op.execute(f'ALTER TABLE draws ALTER COLUMN "{column}" SET COMPRESSION lz4')


def downgrade() -> None:
    bind = op.get_bind()
    if _lz4_available(bind):
        for column in COLUMNS:
            op.execute(f'ALTER TABLE draws ALTER COLUMN "{column}" SET COMPRESSION pglz')
