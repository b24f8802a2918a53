"""results: inspection results, attachments, dispositions, risk events

Revision ID: 0005_results
Revises: 0003_audit_outbox
Create Date: 2026-11-27 04:31:18.433305
"""
import sqlalchemy as sa
from alembic import op

from gateway.migrations.helpers import actor, at, create_table, department_code, drop_tables, ref, references, status

revision = '0005_results'
down_revision = '0003_audit_outbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "risk_events",
        ref("target_id"),
        sa.Column("source_type", sa.String(length=16), nullable=False),
        ref("source_id"),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("baseline_risk_class", sa.String(length=1), nullable=False),
        sa.Column("risk_class_before", sa.String(length=1), nullable=False),
        sa.Column("risk_class_after", sa.String(length=1), nullable=False),
        sa.Column("lists_set", sa.JSON(), nullable=False),
        at("at"),
        references("target_id", "targets.id"),
        sa.UniqueConstraint("source_type", "source_id"),
        indexes=["chain", "target_id"],
    )

    create_table(
        "attachments",
        ref("task_id"),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        actor("uploaded_by"),
        ref("uploaded_by_inspector_id", nullable=True),
        at("uploaded_at"),
        references("task_id", "tasks.id"),
        references("uploaded_by_inspector_id", "inspectors.id"),
        indexes=["sha256", "task_id"],
    )

    create_table(
        "inspection_results",
        ref("task_id"),
        sa.Column("version", sa.Integer(), nullable=False),
        status(),
        ref("supersedes_id", nullable=True),
        sa.Column("correction_reason", sa.Text(), nullable=False),
        sa.Column("checklists", sa.JSON(), nullable=False),
        sa.Column("result_codes", sa.JSON(), nullable=False),
        sa.Column("has_problems", sa.Boolean(), nullable=False),
        sa.Column("requires_follow_up", sa.Boolean(), nullable=False),
        sa.Column("methods", sa.JSON(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("completed_late", sa.Boolean(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("deadline_provisional", sa.Boolean(), nullable=False),
        sa.Column("signature_status", sa.String(length=16), nullable=False),
        sa.Column("signer_name", sa.String(length=50), nullable=False),
        sa.Column("signer_title", sa.String(length=100), nullable=False),
        sa.Column("refusal_note", sa.Text(), nullable=False),
        sa.Column("remarks", sa.Text(), nullable=False),
        actor("recorded_by"),
        ref("recorded_by_inspector_id", nullable=True),
        at("recorded_at"),
        at("updated_at"),
        actor("reviewed_by"),
        at("reviewed_at", nullable=True),
        sa.Column("review_note", sa.Text(), nullable=False),
        actor("published_by"),
        at("published_at", nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("published_on_time", sa.Boolean(), nullable=True),
        references("recorded_by_inspector_id", "inspectors.id"),
        references("supersedes_id", "inspection_results.id"),
        references("task_id", "tasks.id"),
        sa.UniqueConstraint("task_id", "version"),
        indexes=["completed_on", "deadline", "status", "task_id"],
    )

    create_table(
        "dispositions",
        ref("result_id"),
        ref("task_id"),
        ref("target_id"),
        department_code(),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("decision_number", sa.String(length=100), nullable=False),
        sa.Column("receiving_authority", sa.String(length=200), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        status(),
        ref("supersedes_id", nullable=True),
        sa.Column("correction_reason", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("deadline_provisional", sa.Boolean(), nullable=False),
        actor("recorded_by"),
        at("recorded_at"),
        actor("published_by"),
        at("published_at", nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        references("department_code", "departments.code"),
        references("result_id", "inspection_results.id"),
        references("supersedes_id", "dispositions.id"),
        references("target_id", "targets.id"),
        references("task_id", "tasks.id"),
        indexes=["department_code", "result_id", "status", "target_id", "task_id"],
    )

    op.create_table(
        "inspection_result_attachments",
        ref("result_id"),
        ref("attachment_id"),
        references("attachment_id", "attachments.id"),
        references("result_id", "inspection_results.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("result_id", "attachment_id", name=op.f("pk_inspection_result_attachments")),
    )


def downgrade() -> None:
    drop_tables("inspection_result_attachments", "dispositions", "inspection_results", "attachments", "risk_events")
