"""The draw record's parts (format shuangsui.draw/2): one row per stratum part and per tasks part

Issue 20: the public record is split into a small index (kept in draws.record_gzip, its format in
draws.record_format) and parts that can be fetched one at a time. Records of version 1 stay as
they are (record_format NULL).
"""
import gzip

import sqlalchemy as sa
from alembic import op

from gateway.migrations import helpers as h

revision = "0026_draw_record_parts"
down_revision = "0025_import_jobs"


def upgrade() -> None:
    h.add_columns("draws", *h.strings(nullable=True, record_format=32), batch=False)
    h.create_table(
        "draw_record_parts",
        h.ref("draw_id", "draws.id", ondelete="CASCADE"),
        *h.strings(kind=16),
        *h.integers("number"),
        *h.strings(sha256=64),
        *h.integers("size"),
        *h.blobs("body_gzip"),
        key=["draw_id", "kind", "number"],
    )
    h.store_external("draw_record_parts", "body_gzip")


def downgrade() -> None:
    # Version 2 records become whole again (record_gzip holds the whole text, which hashes to
    # record_sha256): the layout of gateway.draw.record_v2.whole_record_chunks, as of this revision.
    bind = op.get_bind()
    drawn = bind.execute(sa.text("SELECT id, record_gzip FROM draws WHERE record_format IS NOT NULL")).all()
    for draw_id, index in drawn:
        pieces = [b'{"strata":[']
        for kind in ("stratum", "tasks"):
            if kind == "tasks":
                pieces.append(b'\n],"tasks":[')
            rows = bind.execute(sa.text(
                "SELECT body_gzip FROM draw_record_parts WHERE draw_id = :id AND kind = :kind ORDER BY number"),
                {"id": draw_id, "kind": kind}).all()
            for position, (body,) in enumerate(rows):
                text = gzip.decompress(body)
                pieces.append((b",\n" if position else b"\n") + (text[1:-1] if kind == "tasks" else text))
        pieces.append(b"\n],")
        pieces.append(gzip.decompress(index)[1:])
        whole = gzip.compress(b"".join(pieces), compresslevel=1, mtime=0)
        bind.execute(sa.text("UPDATE draws SET record_gzip = :packed WHERE id = :id"), {"packed": whole, "id": draw_id})
    h.drop_tables("draw_record_parts")
    h.drop_columns("draws", "record_format", batch=False)
