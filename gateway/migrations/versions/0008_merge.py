"""Join the draws, results, accounts and sync branches into one history

Revision ID: 0008_merge
Revises: 0004_draws, 0005_results, 0006_accounts, 0007_sync
Create Date: 2026-11-27
"""

revision = "0008_merge"
down_revision = ("0004_draws", "0005_results", "0006_accounts", "0007_sync")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
