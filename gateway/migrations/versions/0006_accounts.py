"""accounts

Revision ID: 0006_accounts
Revises: 0003_audit_outbox
Create Date: 2026-11-27 04:27:07.039283
"""
import sqlalchemy as sa

from gateway.migrations.helpers import actor, at, create_table, department_code, drop_tables, ref, references

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
        department_code(nullable=True),
        ref("inspector_id", nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        at("last_login_at", nullable=True),
        at("password_changed_at", nullable=True),
        at("created_at"),
        references("inspector_id", "inspectors.id"),
        sa.UniqueConstraint("username"),
    )
    create_table(
        "api_tokens",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        ref("account_id", nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        department_code(nullable=True),
        ref("inspector_id", nullable=True),
        actor("created_by"),
        at("created_at"),
        at("expires_at"),
        at("revoked_at", nullable=True),
        at("last_used_at", nullable=True),
        references("account_id", "accounts.id"),
        references("inspector_id", "inspectors.id"),
        sa.UniqueConstraint("token_sha256"),
        indexes=["account_id"],
    )

    create_table(
        "web_sessions",
        sa.Column("session_sha256", sa.String(length=64), nullable=False),
        ref("account_id"),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        at("created_at"),
        at("expires_at"),
        at("last_seen_at"),
        at("revoked_at", nullable=True),
        references("account_id", "accounts.id", ondelete="CASCADE"),
        sa.UniqueConstraint("session_sha256"),
        indexes=["account_id"],
    )


def downgrade() -> None:
    drop_tables("web_sessions", "api_tokens", "accounts")
