"""Inspection codes and check-ins (issue 17): the check-ins of tasks' teams (扫码入企)

The county's signing keys live outside the database (docs/enterprise.md); only check-ins are stored.

Revision ID: 0020_inspection_codes
Revises: 0021_enterprise_portal
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0020_inspection_codes"
down_revision = "0021_enterprise_portal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("access_code_id", sa.Integer(), nullable=False),
        sa.Column("arrived_at", sa.DateTime(), nullable=False),
        sa.Column("code_kid", sa.String(length=32), nullable=False),
        sa.Column("team", sa.JSON(), nullable=False),
        sa.Column("location_consent", sa.Boolean(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("located_at", sa.DateTime(), nullable=True),
        sa.Column("departed_at", sa.DateTime(), nullable=True),
        sa.Column("departure_result_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["access_code_id"], ["enterprise_access_codes.id"]),
        sa.ForeignKeyConstraint(["departure_result_id"], ["inspection_results.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_task_checkins_task_id"), "task_checkins", ["task_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_task_checkins_task_id"), table_name="task_checkins")
    op.drop_table("task_checkins")
