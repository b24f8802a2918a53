"""Who may change a target's eligibility, and the record shows it (issue 15, item 1)

The registration authority is a department flag; every change of an eligibility field is kept in an
append-only table with its reason code; other departments' proposals wait for the owner; a draw
keeps, from its freeze, the changes that moved targets between strata since the plan's publication.

Revision ID: 0019_eligibility_changes
Revises: 0018_plan_filing
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

from gateway.migrations.helpers import actor, at, create_table, department_code, drop_tables, ref, references, status, uscc

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
        ref("target_id"),
        uscc(),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.String(length=32), nullable=False),
        sa.Column("new_value", sa.String(length=32), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        actor("actor"),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        department_code("actor_department"),
        at("changed_at"),
        references("target_id", "targets.id"),
        indexes=["target_id", "uscc", "changed_at"],
    )
    create_table(
        "eligibility_proposals",
        ref("target_id"),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("new_value", sa.String(length=32), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        actor("proposed_by"),
        department_code("proposed_by_department"),
        at("proposed_at"),
        status(),
        actor("decided_by", nullable=True),
        at("decided_at", nullable=True),
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
