"""Accounts: drop the per-account lock-out (failed_logins, locked_until)

Failed sign-ins are now throttled per client address and username, in the gateway process
(docs/security.md): an account is never locked, so nobody can lock an official out from elsewhere,
and a real account answers exactly like an unknown one.

Revision ID: 0014_sign_in_throttle
Revises: 0013_result_public_target
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_sign_in_throttle"
down_revision = "0013_result_public_target"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
