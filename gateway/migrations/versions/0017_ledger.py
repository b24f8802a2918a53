"""The ledger: inspections registered outside the draw, and the yearly caps

Issue 16: every inspection of a target in one ledger (drawn tasks, higher-level inspections and
registered inspections), and the caps the county office publishes per year (国办发〔2024〕54号).

Revision ID: 0017_ledger
Revises: 0016_listing_and_contributions
Create Date: 2026-12-03
"""
import sqlalchemy as sa

from gateway.migrations.helpers import create_table, drop_tables, references

revision = "0017_ledger"
down_revision = "0016_listing_and_contributions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "registered_inspections",
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("legal_reason_code", sa.String(length=64), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("over_cap_reason", sa.Text(), nullable=False),
        sa.Column("joint_task_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
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
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.UniqueConstraint("year", "version"),
    )


def downgrade() -> None:
    drop_tables("inspection_caps", "registered_inspections")
