"""plans and tasks

Revision ID: 0002_plans_tasks
Revises: 0001_directories
Create Date: 2026-11-27 04:21:20.138623
"""
import sqlalchemy as sa

from gateway.migrations.helpers import at, create_table, department_code, drop_tables, ref, references, status

revision = '0002_plans_tasks'
down_revision = '0001_directories'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "plans",
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        department_code("lead_department"),
        status(),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("ratios", sa.JSON(), nullable=False),
        sa.Column("frequency", sa.String(length=100), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        at("published_at", nullable=True),
        sa.Column("published_late", sa.Boolean(), nullable=False),
        ref("amends_id", nullable=True),
        sa.Column("amend_reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        at("created_at"),
        references("amends_id", "plans.id"),
        references("lead_department", "departments.code"),
        sa.UniqueConstraint("number", "version"),
        indexes=["number", "year"],
    )

    create_table(
        "plan_matters",
        ref("plan_id"),
        sa.Column("matter_code", sa.String(length=64), nullable=False),
        ref("matter_version_id"),
        department_code(),
        references("department_code", "departments.code"),
        references("matter_version_id", "matter_versions.id"),
        references("plan_id", "plans.id", ondelete="CASCADE"),
        sa.UniqueConstraint("plan_id", "matter_code"),
        indexes=["plan_id"],
    )

    create_table(
        "tasks",
        sa.Column("number", sa.String(length=120), nullable=False),
        ref("plan_id"),
        ref("draw_id", nullable=True),
        ref("target_id"),
        department_code("lead_department"),
        sa.Column("matter_codes", sa.JSON(), nullable=False),
        sa.Column("key_inspection", sa.Boolean(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        status(),
        at("created_at"),
        references("lead_department", "departments.code"),
        references("plan_id", "plans.id"),
        references("target_id", "targets.id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("plan_id", "target_id"),
        indexes=["draw_id", "lead_department", "plan_id", "target_id"],
    )

    create_table(
        "task_members",
        ref("task_id"),
        ref("inspector_id"),
        department_code(),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        at("added_at"),
        references("department_code", "departments.code"),
        references("inspector_id", "inspectors.id"),
        references("task_id", "tasks.id", ondelete="CASCADE"),
        indexes=["inspector_id", "task_id"],
    )


def downgrade() -> None:
    drop_tables("task_members", "tasks", "plan_matters", "plans")
