"""audit log and outbox"""
from gateway.migrations import helpers as h

revision = "0003_audit_outbox"
down_revision = "0002_plans_tasks"


def upgrade() -> None:
    h.create_table(
        "audit_log",
        h.at("at"),
        h.actor("actor"),
        *h.strings(actor_role=32),
        h.department_code("actor_department"),
        *h.strings(action=100, entity_type=64, entity_id=100),
        *h.jsons("details"),
        *h.strings(prev_hash=64, hash=64),
        indexes=["action"],
    )

    h.create_table(
        "outbox",
        *h.strings(record_id=100, kind=16),
        h.ref("entity_id"),
        h.department_code(),
        *h.jsons("payload", nullable=True),
        *h.strings(state=16),
        *h.integers("attempts"),
        h.at("next_attempt_at"),
        *h.strings(nullable=True, lease_owner=100),
        h.at("lease_expires_at", nullable=True),
        *h.texts("last_error"),
        *h.jsons("field_errors", "receipt", nullable=True),
        h.at("due_date", nullable=True),
        h.at("created_at"),
        h.at("delivered_at", nullable=True),
        unique=["record_id"],
        indexes=[("ix_outbox_state_next", ["state", "next_attempt_at"])],
    )


def downgrade() -> None:
    h.drop_tables("outbox", "audit_log")
