"""accounts

Revision ID: 0006_accounts
Revises: 0003_audit_outbox
Create Date: 2026-11-27 04:27:07.039283
"""
import sqlalchemy as sa

from gateway.migrations.helpers import create_table, drop_tables, references

revision = '0006_accounts'
down_revision = '0003_audit_outbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "accounts",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=True),
        sa.Column("inspector_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("password_changed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        references("inspector_id", "inspectors.id"),
        sa.UniqueConstraint("username"),
    )
    create_table(
        "api_tokens",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=True),
        sa.Column("inspector_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        references("account_id", "accounts.id"),
        references("inspector_id", "inspectors.id"),
        sa.UniqueConstraint("token_sha256"),
        indexes=["account_id"],
    )

    create_table(
        "web_sessions",
        sa.Column("session_sha256", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        references("account_id", "accounts.id", ondelete="CASCADE"),
        sa.UniqueConstraint("session_sha256"),
        indexes=["account_id"],
    )


def downgrade() -> None:
    drop_tables("web_sessions", "api_tokens", "accounts")
