"""Plan filing (备案) with the county justice bureau, and the public reasons for site visits

Issue 16, items 4 and 5: a plan records its filing number and date (a draw needs them first, unless
the setting draw_requires_filing is off), and the reason for each site visit it chooses for a matter
that could be checked by written check or data comparison.

Revision ID: 0018_plan_filing
Revises: 0016_listing_and_contributions
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0018_plan_filing"
down_revision = "0016_listing_and_contributions"
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


def downgrade() -> None:
    for name in ("filed_at", "filed_by", "filed_on", "filing_number", "site_visit_reasons"):
        op.drop_column("plans", name)
