"""Inspection codes and check-ins (issue 17): the check-ins of tasks' teams (扫码入企)

The county's signing keys live outside the database (docs/enterprise.md); only check-ins are stored.

Revision ID: 0020_inspection_codes
Revises: 0021_enterprise_portal
Create Date: 2026-12-03
"""
import sqlalchemy as sa

from gateway.migrations.helpers import at, create_table, drop_tables, ref, references

revision = "0020_inspection_codes"
down_revision = "0021_enterprise_portal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "task_checkins",
        ref("task_id"),
        ref("access_code_id"),
        at("arrived_at"),
        sa.Column("code_kid", sa.String(length=32), nullable=False),
        sa.Column("team", sa.JSON(), nullable=False),
        sa.Column("location_consent", sa.Boolean(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        at("located_at", nullable=True),
        at("departed_at", nullable=True),
        ref("departure_result_id", nullable=True),
        references("access_code_id", "enterprise_access_codes.id"),
        references("departure_result_id", "inspection_results.id"),
        references("task_id", "tasks.id"),
        indexes=["task_id"],
    )


def downgrade() -> None:
    drop_tables("task_checkins")
