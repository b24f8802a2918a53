"""The inspected enterprise's side (issue 17): access codes, portal sessions, notices, statements,
recusal requests, ratings and rectification evidence

Revision ID: 0021_enterprise_portal
Revises: 0019_eligibility_changes
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

from gateway.migrations.helpers import actor, at, create_table, department_code, drop_tables, ref, references, uscc

revision = "0021_enterprise_portal"
down_revision = "0019_eligibility_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "enterprise_access_codes",
        ref("task_id"),
        uscc(),
        sa.Column("locator", sa.String(length=8), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        at("issued_at"),
        actor("issued_by"),
        at("expires_at"),
        at("used_at", nullable=True),
        at("checked_in_at", nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        at("locked_at", nullable=True),
        at("superseded_at", nullable=True),
        ref("rotated_from_id", nullable=True),
        references("rotated_from_id", "enterprise_access_codes.id"),
        references("task_id", "tasks.id"),
        sa.UniqueConstraint("code_hash"),
        indexes=["task_id", "uscc"],
    )
    create_table(
        "enterprise_sessions",
        sa.Column("session_sha256", sa.String(length=64), nullable=False),
        uscc(),
        ref("access_code_id"),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        at("created_at"),
        at("expires_at"),
        at("revoked_at", nullable=True),
        references("access_code_id", "enterprise_access_codes.id"),
        sa.UniqueConstraint("session_sha256"),
        indexes=["uscc"],
    )
    create_table(
        "inspection_notices",
        ref("task_id"),
        at("generated_at"),
        actor("generated_by"),
        sa.Column("contact", sa.String(length=200), nullable=False),
        ref("access_code_id", nullable=True),
        sa.Column("delivery_method", sa.String(length=16), nullable=True),
        at("delivered_at", nullable=True),
        actor("delivered_by", nullable=True),
        sa.Column("delivery_note", sa.Text(), nullable=False),
        references("access_code_id", "enterprise_access_codes.id"),
        references("task_id", "tasks.id"),
        sa.UniqueConstraint("task_id"),
    )
    create_table(
        "enterprise_statements",
        ref("task_id"),
        ref("result_id"),
        uscc(),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachment_ids", sa.JSON(), nullable=False),
        at("filed_at"),
        sa.Column("answer", sa.Text(), nullable=True),
        actor("answered_by", nullable=True),
        at("answered_at", nullable=True),
        references("result_id", "inspection_results.id"),
        references("task_id", "tasks.id"),
        indexes=["result_id", "task_id"],
    )
    create_table(
        "enterprise_recusal_requests",
        ref("task_id"),
        ref("member_id"),
        sa.Column("reason", sa.Text(), nullable=False),
        at("requested_at"),
        ref("reassignment_id", nullable=True),
        references("member_id", "task_members.id"),
        references("reassignment_id", "reassignments.id"),
        references("task_id", "tasks.id"),
        indexes=["task_id"],
    )
    create_table(
        "inspection_ratings",
        ref("task_id"),
        department_code(),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        at("rated_at"),
        references("task_id", "tasks.id"),
        sa.UniqueConstraint("task_id"),
        indexes=["department_code"],
    )
    create_table(
        "enterprise_rectification_evidence",
        ref("task_id"),
        ref("attachment_id"),
        sa.Column("note", sa.Text(), nullable=False),
        at("uploaded_at"),
        references("attachment_id", "attachments.id"),
        references("task_id", "tasks.id"),
        indexes=["task_id"],
    )


def downgrade() -> None:
    for table in ("enterprise_rectification_evidence", "inspection_ratings", "enterprise_recusal_requests",
                  "enterprise_statements", "inspection_notices", "enterprise_sessions"):
        op.drop_table(table)
    drop_tables("enterprise_access_codes")
