"""Field capture: idempotent result submissions, resumable uploads, the handwritten signature

Issue 19: the inspector's phone works offline and submits when the network returns. A replayed
submission finds its idempotency key and stores nothing twice; photos and the signature are
uploaded in chunks that resume; the signature is an attachment whose SHA-256 is part of the result.
"""
import sqlalchemy as sa
from alembic import op

from gateway.migrations import helpers as h

revision = "0022_field_capture"
down_revision = "0020_inspection_codes"


def upgrade() -> None:
    h.create_table(
        "result_submissions",
        *h.strings(key=64),
        *h.refs(task_id="tasks.id", result_id="inspection_results.id"),
        *h.integers("version"),
        *h.by_at("submitted"),
        unique=["key"],
        indexes=["task_id"],
    )
    h.create_table(
        "field_uploads",
        *h.strings(key=64),
        h.ref("task_id", "tasks.id"),
        *h.strings(filename=255),
        *h.integers("size"),
        *h.strings(sha256=64),
        h.ref("attachment_id", "attachments.id", nullable=True),
        *h.by_at("created"),
        unique=["key"],
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
    h.drop_tables("field_uploads", "result_submissions")
