"""Who may change a target's eligibility, and the record shows it (issue 15, item 1)

The registration authority is a department flag; every change of an eligibility field is kept in an
append-only table with its reason code; other departments' proposals wait for the owner; a draw
keeps, from its freeze, the changes that moved targets between strata since the plan's publication.

Revision ID: 0019_eligibility_changes
Revises: 0016_listing_and_contributions
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

from gateway.migrations.helpers import create_table, drop_tables, references

revision = "0019_eligibility_changes"
down_revision = "0018_plan_filing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy would drop and recreate departments and plans, which other
    # tables' rows refer to.
    op.add_column("departments", sa.Column("registration_authority", sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
    op.add_column("draws", sa.Column("eligibility_changes", sa.JSON(), nullable=True))
    # Issue 15, item 12: a plan adjusts a matter's minimum ratio where it is a county default.
    op.add_column("plans", sa.Column("min_ratios", sa.JSON(), nullable=True))
    create_table(
        "target_eligibility_changes",
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.String(length=32), nullable=False),
        sa.Column("new_value", sa.String(length=32), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("actor_department", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        references("target_id", "targets.id"),
        indexes=["target_id", "uscc", "changed_at"],
    )
    create_table(
        "eligibility_proposals",
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("new_value", sa.String(length=32), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.String(length=200), nullable=False),
        sa.Column("proposed_by_department", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        references("target_id", "targets.id"),
        indexes=["target_id", "status"],
    )


def downgrade() -> None:
    drop_tables("eligibility_proposals", "target_eligibility_changes")
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL): a batch copy would drop and recreate plans and
    # departments, which other tables' rows refer to.
    for table, column in (("plans", "min_ratios"), ("draws", "eligibility_changes"),
                          ("departments", "registration_authority")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
