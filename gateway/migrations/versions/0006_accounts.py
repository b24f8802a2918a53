"""accounts"""
from gateway.migrations import helpers as h

revision = "0006_accounts"
down_revision = "0003_audit_outbox"


def upgrade() -> None:
    h.create_table(
        "accounts",
        *h.strings(username=64, display_name=100, role=32),
        h.department_code(nullable=True),
        h.ref("inspector_id", "inspectors.id", nullable=True),
        *h.strings(nullable=True, password_hash=200),
        *h.flags("active"),
        *h.integers("failed_logins"),
        h.at("locked_until", nullable=True),
        h.at("last_login_at", nullable=True),
        h.at("password_changed_at", nullable=True),
        h.at("created_at"),
        unique=["username"],
    )
    h.create_table(
        "api_tokens",
        *h.strings(name=100, prefix=16, token_sha256=64),
        h.ref("account_id", "accounts.id", nullable=True),
        *h.strings(role=32),
        h.department_code(nullable=True),
        h.ref("inspector_id", "inspectors.id", nullable=True),
        *h.by_at("created"),
        h.at("expires_at"),
        h.at("revoked_at", nullable=True),
        h.at("last_used_at", nullable=True),
        unique=["token_sha256"],
        indexes=["account_id"],
    )

    h.create_table(
        "web_sessions",
        *h.strings(session_sha256=64),
        h.ref("account_id", "accounts.id", ondelete="CASCADE"),
        *h.strings(csrf_token=64),
        h.at("created_at"),
        h.at("expires_at"),
        h.at("last_seen_at"),
        h.at("revoked_at", nullable=True),
        unique=["session_sha256"],
        indexes=["account_id"],
    )


def downgrade() -> None:
    h.drop_tables("web_sessions", "api_tokens", "accounts")
