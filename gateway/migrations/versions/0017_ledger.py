"""The ledger: inspections registered outside the draw, and the yearly caps

Issue 16: every inspection of a target in one ledger (drawn tasks, higher-level inspections and
registered inspections), and the caps the county office publishes per year (国办发〔2024〕54号).

Revision ID: 0017_ledger
Revises: 0016_listing_and_contributions
Create Date: 2026-12-03
"""
import sqlalchemy as sa

from gateway.migrations.helpers import actor, at, create_table, department_code, drop_tables, ref, references, uscc

revision = "0017_ledger"
down_revision = "0016_listing_and_contributions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "registered_inspections",
        uscc(),
        department_code(),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("legal_reason_code", sa.String(length=64), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("over_cap_reason", sa.Text(), nullable=False),
        ref("joint_task_id", nullable=True),
        actor("created_by"),
        at("created_at"),
        references("department_code", "departments.code"),
        references("joint_task_id", "tasks.id"),
        indexes=["department_code", ("ix_registered_inspections_year_uscc", ["year", "uscc"])],
    )
    create_table(
        "inspection_caps",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("per_department", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("exempt_channels", sa.JSON(), nullable=False),
        sa.Column("key_targets_exempt", sa.Boolean(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        at("published_at", nullable=True),
        actor("published_by"),
        sa.UniqueConstraint("year", "version"),
    )


def downgrade() -> None:
    drop_tables("inspection_caps", "registered_inspections")
