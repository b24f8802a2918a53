"""Store the draw's public record gzip-compressed (record_gzip) instead of as text (record)

The record of a draw at a million targets is 26 MB of JSON; gzip at level 1 makes it about 5.5 MB
in a tenth of a second, off the database's share of the draw. The database then stores and logs a
fifth of the bytes (PostgreSQL is told not to try compressing them again), and the record's URL
serves the stored bytes as they are to any client that accepts gzip. The text, and therefore
record_sha256, is unchanged: existing records are compressed here.

Revision ID: 0011_draw_record_gzip
Revises: 0010_drop_tasks_plan_index
Create Date: 2026-11-27
"""
import gzip

import sqlalchemy as sa
from alembic import op

revision = "0011_draw_record_gzip"
down_revision = "0010_drop_tasks_plan_index"
branch_labels = None
depends_on = None

draws = sa.table("draws", sa.column("id", sa.Integer), sa.column("record", sa.Text),
                 sa.column("record_gzip", sa.LargeBinary))


def upgrade() -> None:
    op.add_column("draws", sa.Column("record_gzip", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE draws ALTER COLUMN record_gzip SET STORAGE EXTERNAL")
    rows = bind.execute(sa.select(draws.c.id, draws.c.record).where(draws.c.record.is_not(None))).all()
    for draw_id, text in rows:
        packed = gzip.compress(text.encode("utf-8"), compresslevel=1, mtime=0)
        bind.execute(draws.update().where(draws.c.id == draw_id).values(record_gzip=packed))
    with op.batch_alter_table("draws") as batch:
        batch.drop_column("record")


def downgrade() -> None:
    with op.batch_alter_table("draws") as batch:
        batch.add_column(sa.Column("record", sa.Text(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.select(draws.c.id, draws.c.record_gzip).where(draws.c.record_gzip.is_not(None))).all()
    for draw_id, packed in rows:
        bind.execute(draws.update().where(draws.c.id == draw_id).values(
            record=gzip.decompress(packed).decode("utf-8")))
    with op.batch_alter_table("draws") as batch:
        batch.drop_column("record_gzip")
    if bind.dialect.name == "postgresql" and bind.dialect.server_version_info >= (14,):
        values = bind.exec_driver_sql(
            "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'").scalar()
        if values and "lz4" in values:  # as 0009 left it
            op.execute('ALTER TABLE draws ALTER COLUMN "record" SET COMPRESSION lz4')
