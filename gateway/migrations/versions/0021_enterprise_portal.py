"""The inspected enterprise's side (issue 17): access codes, portal sessions, notices, statements,
recusal requests, ratings and rectification evidence

Revision ID: 0021_enterprise_portal
Revises: 0016_listing_and_contributions
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0021_enterprise_portal"
down_revision = "0016_listing_and_contributions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enterprise_access_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("locator", sa.String(length=8), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("checked_in_at", sa.DateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_at", sa.DateTime(), nullable=True),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.Column("rotated_from_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["rotated_from_id"], ["enterprise_access_codes.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    with op.batch_alter_table("enterprise_access_codes") as batch:
        batch.create_index(batch.f("ix_enterprise_access_codes_task_id"), ["task_id"], unique=False)
        batch.create_index(batch.f("ix_enterprise_access_codes_uscc"), ["uscc"], unique=False)
    op.create_table(
        "enterprise_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_sha256", sa.String(length=64), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("access_code_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["access_code_id"], ["enterprise_access_codes.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_sha256"),
    )
    with op.batch_alter_table("enterprise_sessions") as batch:
        batch.create_index(batch.f("ix_enterprise_sessions_uscc"), ["uscc"], unique=False)
    op.create_table(
        "inspection_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("generated_at", sa.DateTime(), nullable=False),
        sa.Column("generated_by", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("access_code_id", sa.Integer(), nullable=True),
        sa.Column("delivery_method", sa.String(length=16), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_by", sa.String(length=200), nullable=True),
        sa.Column("delivery_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["access_code_id"], ["enterprise_access_codes.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id"),
    )
    op.create_table(
        "enterprise_statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachment_ids", sa.JSON(), nullable=False),
        sa.Column("filed_at", sa.DateTime(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=200), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["result_id"], ["inspection_results.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("enterprise_statements") as batch:
        batch.create_index(batch.f("ix_enterprise_statements_result_id"), ["result_id"], unique=False)
        batch.create_index(batch.f("ix_enterprise_statements_task_id"), ["task_id"], unique=False)
    op.create_table(
        "enterprise_recusal_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("reassignment_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["task_members.id"]),
        sa.ForeignKeyConstraint(["reassignment_id"], ["reassignments.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("enterprise_recusal_requests") as batch:
        batch.create_index(batch.f("ix_enterprise_recusal_requests_task_id"), ["task_id"], unique=False)
    op.create_table(
        "inspection_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id"),
    )
    with op.batch_alter_table("inspection_ratings") as batch:
        batch.create_index(batch.f("ix_inspection_ratings_department_code"), ["department_code"], unique=False)
    op.create_table(
        "enterprise_rectification_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["attachment_id"], ["attachments.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("enterprise_rectification_evidence") as batch:
        batch.create_index(batch.f("ix_enterprise_rectification_evidence_task_id"), ["task_id"], unique=False)


def downgrade() -> None:
    for table in ("enterprise_rectification_evidence", "inspection_ratings", "enterprise_recusal_requests",
                  "enterprise_statements", "inspection_notices", "enterprise_sessions"):
        op.drop_table(table)
    with op.batch_alter_table("enterprise_access_codes") as batch:
        batch.drop_index(batch.f("ix_enterprise_access_codes_uscc"))
        batch.drop_index(batch.f("ix_enterprise_access_codes_task_id"))
    op.drop_table("enterprise_access_codes")
