"""directories: departments, matters, inspectors, targets, conflicts

Revision ID: 0001_directories
Revises: 
Create Date: 2026-11-27 04:15:24.090384
"""
import sqlalchemy as sa
from alembic import op

from gateway.migrations.helpers import at, create_table, department_code, drop_tables, ref, references, status, timestamps, uscc

revision = '0001_directories'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("short_name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=64), nullable=True),
        sa.Column("plugin", sa.String(length=100), nullable=False),
        sa.Column("installed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_departments")),
    )
    create_table(
        "targets",
        uscc(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("township", sa.String(length=50), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("legal_representative", sa.String(length=50), nullable=False),
        sa.Column("business_scope", sa.Text(), nullable=False),
        sa.Column("licences", sa.Text(), nullable=False),
        status(),
        sa.Column("risk_class", sa.String(length=1), nullable=False),
        sa.Column("abnormal_list", sa.Boolean(), nullable=False),
        sa.Column("serious_violation_list", sa.Boolean(), nullable=False),
        sa.Column("complaint_count", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *timestamps(),
        sa.UniqueConstraint("uscc"),
        indexes=["name", ("ix_targets_risk_class", ["risk_class"]), ("ix_targets_township_type", ["township", "type"])],
    )

    create_table(
        "inspectors",
        department_code(),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("gender", sa.String(length=8), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("position", sa.String(length=100), nullable=False),
        sa.Column("expertise", sa.String(length=200), nullable=False),
        sa.Column("certificate_no", sa.String(length=40), nullable=False),
        sa.Column("certificate_valid_until", sa.Date(), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *timestamps(),
        references("department_code", "departments.code"),
        sa.UniqueConstraint("certificate_no"),
        indexes=["department_code"],
    )

    create_table(
        "matter_versions",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        department_code(),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        at("created_at"),
        references("department_code", "departments.code"),
        sa.UniqueConstraint("code", "content_sha256"),
        indexes=["code"],
    )

    create_table(
        "conflicts",
        ref("inspector_id"),
        ref("target_id"),
        sa.Column("reason", sa.String(length=300), nullable=False),
        at("declared_at"),
        references("inspector_id", "inspectors.id", ondelete="CASCADE"),
        references("target_id", "targets.id", ondelete="CASCADE"),
        sa.UniqueConstraint("inspector_id", "target_id"),
        indexes=["inspector_id", "target_id"],
    )


def downgrade() -> None:
    drop_tables("conflicts", "matter_versions", "inspectors", "targets", "departments")
