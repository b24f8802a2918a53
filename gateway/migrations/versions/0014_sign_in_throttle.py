"""Accounts: drop the per-account lock-out (failed_logins, locked_until)

Failed sign-ins are now throttled per client address and username, in the gateway process
(docs/security.md): an account is never locked, so nobody can lock an official out from elsewhere,
and a real account answers exactly like an unknown one.
"""
from gateway.migrations import helpers as h

revision = "0014_sign_in_throttle"
down_revision = "0013_result_public_target"


def upgrade() -> None:
    h.drop_columns("accounts", "locked_until", "failed_logins")


def downgrade() -> None:
    h.add_columns("accounts", *h.integers("failed_logins", server_default="0"), h.at("locked_until", nullable=True))
