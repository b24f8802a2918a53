"""Store the draw's public record gzip-compressed (record_gzip) instead of as text (record)

The record of a draw at a million targets is 26 MB of JSON; gzip at level 1 makes it about 5.5 MB
in a tenth of a second, off the database's share of the draw. The database then stores and logs a
fifth of the bytes (PostgreSQL is told not to try compressing them again), and the record's URL
serves the stored bytes as they are to any client that accepts gzip. The text, and therefore
record_sha256, is unchanged: existing records are compressed here.
"""
import gzip

import sqlalchemy as sa
from alembic import op

from gateway.migrations import helpers as h

revision = "0011_draw_record_gzip"
down_revision = "0010_drop_tasks_plan_index"

draws = sa.table("draws", sa.column("id", sa.Integer), sa.column("record", sa.Text),
                 sa.column("record_gzip", sa.LargeBinary))


def upgrade() -> None:
    h.add_columns("draws", *h.blobs("record_gzip", nullable=True), batch=False)
    h.store_external("draws", "record_gzip")
    bind = op.get_bind()
    rows = bind.execute(sa.select(draws.c.id, draws.c.record).where(draws.c.record.is_not(None))).all()
    for draw_id, text in rows:
        packed = gzip.compress(text.encode("utf-8"), compresslevel=1, mtime=0)
        bind.execute(draws.update().where(draws.c.id == draw_id).values(record_gzip=packed))
    h.drop_columns("draws", "record")


def downgrade() -> None:
    h.add_columns("draws", *h.texts("record", nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.select(draws.c.id, draws.c.record_gzip).where(draws.c.record_gzip.is_not(None))).all()
    for draw_id, packed in rows:
        bind.execute(draws.update().where(draws.c.id == draw_id).values(
            record=gzip.decompress(packed).decode("utf-8")))
    h.drop_columns("draws", "record_gzip")
    if h.lz4_available():  # as 0009 left it
        op.execute('ALTER TABLE draws ALTER COLUMN "record" SET COMPRESSION lz4')
