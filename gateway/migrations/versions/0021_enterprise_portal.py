"""The inspected enterprise's side (issue 17): access codes, portal sessions, notices, statements,
recusal requests, ratings and rectification evidence

Revision ID: 0021_enterprise_portal
Revises: 0016_listing_and_contributions
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

from gateway.migrations.helpers import create_table, drop_tables, references

revision = "0021_enterprise_portal"
down_revision = "0019_eligibility_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "enterprise_access_codes",
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
        references("rotated_from_id", "enterprise_access_codes.id"),
        references("task_id", "tasks.id"),
        sa.UniqueConstraint("code_hash"),
        indexes=["task_id", "uscc"],
    )
    create_table(
        "enterprise_sessions",
        sa.Column("session_sha256", sa.String(length=64), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("access_code_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        references("access_code_id", "enterprise_access_codes.id"),
        sa.UniqueConstraint("session_sha256"),
        indexes=["uscc"],
    )
    create_table(
        "inspection_notices",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("generated_at", sa.DateTime(), nullable=False),
        sa.Column("generated_by", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("access_code_id", sa.Integer(), nullable=True),
        sa.Column("delivery_method", sa.String(length=16), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_by", sa.String(length=200), nullable=True),
        sa.Column("delivery_note", sa.Text(), nullable=False),
        references("access_code_id", "enterprise_access_codes.id"),
        references("task_id", "tasks.id"),
        sa.UniqueConstraint("task_id"),
    )
    create_table(
        "enterprise_statements",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachment_ids", sa.JSON(), nullable=False),
        sa.Column("filed_at", sa.DateTime(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=200), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        references("result_id", "inspection_results.id"),
        references("task_id", "tasks.id"),
        indexes=["result_id", "task_id"],
    )
    create_table(
        "enterprise_recusal_requests",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("reassignment_id", sa.Integer(), nullable=True),
        references("member_id", "task_members.id"),
        references("reassignment_id", "reassignments.id"),
        references("task_id", "tasks.id"),
        indexes=["task_id"],
    )
    create_table(
        "inspection_ratings",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rated_at", sa.DateTime(), nullable=False),
        references("task_id", "tasks.id"),
        sa.UniqueConstraint("task_id"),
        indexes=["department_code"],
    )
    create_table(
        "enterprise_rectification_evidence",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        references("attachment_id", "attachments.id"),
        references("task_id", "tasks.id"),
        indexes=["task_id"],
    )


def downgrade() -> None:
    for table in ("enterprise_rectification_evidence", "inspection_ratings", "enterprise_recusal_requests",
                  "enterprise_statements", "inspection_notices", "enterprise_sessions"):
        op.drop_table(table)
    drop_tables("enterprise_access_codes")
