"""Field capture: idempotent result submissions, resumable uploads, the handwritten signature

Issue 19: the inspector's phone works offline and submits when the network returns. A replayed
submission finds its idempotency key and stores nothing twice; photos and the signature are
uploaded in chunks that resume; the signature is an attachment whose SHA-256 is part of the result.

Revision ID: 0022_field_capture
Revises: 0020_inspection_codes
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

from gateway.migrations.helpers import actor, at, create_table, drop_tables, ref, references

revision = "0022_field_capture"
down_revision = "0020_inspection_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "result_submissions",
        sa.Column("key", sa.String(length=64), nullable=False),
        ref("task_id"),
        ref("result_id"),
        sa.Column("version", sa.Integer(), nullable=False),
        actor("submitted_by"),
        at("submitted_at"),
        references("result_id", "inspection_results.id"),
        references("task_id", "tasks.id"),
        sa.UniqueConstraint("key"),
        indexes=["task_id"],
    )
    create_table(
        "field_uploads",
        sa.Column("key", sa.String(length=64), nullable=False),
        ref("task_id"),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        ref("attachment_id", nullable=True),
        actor("created_by"),
        at("created_at"),
        references("attachment_id", "attachments.id"),
        references("task_id", "tasks.id"),
        sa.UniqueConstraint("key"),
        indexes=["task_id"],
    )
    with op.batch_alter_table("inspection_results") as batch:
        batch.add_column(sa.Column("signature_attachment_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("signature_sha256", sa.String(length=64), nullable=False, server_default=""))
        batch.create_foreign_key("fk_inspection_results_signature_attachment", "attachments",
                                 ["signature_attachment_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("inspection_results") as batch:
        batch.drop_constraint("fk_inspection_results_signature_attachment", type_="foreignkey")
        batch.drop_column("signature_sha256")
        batch.drop_column("signature_attachment_id")
    drop_tables("field_uploads", "result_submissions")
