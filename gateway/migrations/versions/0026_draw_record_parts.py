"""The draw record's parts (format shuangsui.draw/2): one row per stratum part and per tasks part

Issue 20: the public record is split into a small index (kept in draws.record_gzip, its format in
draws.record_format) and parts that can be fetched one at a time. Records of version 1 stay as
they are (record_format NULL).

Revision ID: 0026_draw_record_parts
Revises: 0025_import_jobs
Create Date: 2026-12-03
"""
import gzip

import sqlalchemy as sa
from alembic import op

revision = "0026_draw_record_parts"
down_revision = "0025_import_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("draws", sa.Column("record_format", sa.String(length=32), nullable=True))
    op.create_table(
        "draw_record_parts",
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("body_gzip", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["draw_id"], ["draws.id"], name=op.f("fk_draw_record_parts_draw_id_draws"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("draw_id", "kind", "number", name=op.f("pk_draw_record_parts")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Stored gzip-compressed already: PostgreSQL need not try again.
        op.execute("ALTER TABLE draw_record_parts ALTER COLUMN body_gzip SET STORAGE EXTERNAL")


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
    op.drop_table("draw_record_parts")
    op.drop_column("draws", "record_format")
