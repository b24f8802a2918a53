"""Plan filing (备案) with the county justice bureau, and the public reasons for site visits

Issue 16, items 4 and 5: a plan records its filing number and date (a draw needs them first, unless
the setting draw_requires_filing is off), and the reason for each site visit it chooses for a matter
that could be checked by written check or data comparison. Item 3: task_joins, another department's
visit joined into a task (one joint visit, both checklists).

Revision ID: 0018_plan_filing
Revises: 0017_ledger
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

from gateway.migrations.helpers import actor, at, create_table, department_code, drop_tables, ref, references

revision = "0018_plan_filing"
down_revision = "0017_ledger"
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN (SQLite 3.35+ drops a column in place): a batch would rebuild "plans", which
# draws, tasks and plan_matters reference, and SQLite refuses to drop a referenced table.
def upgrade() -> None:
    op.add_column("plans", sa.Column("site_visit_reasons", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    op.add_column("plans", sa.Column("filing_number", sa.String(length=100), nullable=False, server_default=""))
    op.add_column("plans", sa.Column("filed_on", sa.Date(), nullable=True))
    op.add_column("plans", sa.Column("filed_by", sa.String(length=200), nullable=False, server_default=""))
    op.add_column("plans", sa.Column("filed_at", sa.DateTime(), nullable=True))
    create_table(
        "task_joins",
        ref("task_id"),
        department_code(),
        sa.Column("matter_code", sa.String(length=64), nullable=False),
        ref("matter_version_id"),
        ref("registered_inspection_id", nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        actor("joined_by"),
        at("joined_at"),
        references("department_code", "departments.code"),
        references("matter_version_id", "matter_versions.id"),
        references("task_id", "tasks.id", ondelete="CASCADE"),
        sa.UniqueConstraint("task_id", "matter_code"),
        indexes=[("ix_task_joins_task_id", ["task_id"])],
    )


def downgrade() -> None:
    drop_tables("task_joins")
    for name in ("filed_at", "filed_by", "filed_on", "filing_number", "site_visit_reasons"):
        op.drop_column("plans", name)
