"""Join the draws, results, accounts and sync branches into one history"""

revision = "0008_merge"
down_revision = ("0004_draws", "0005_results", "0006_accounts", "0007_sync")


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
