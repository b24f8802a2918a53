"""sync: batch keys, generations and attempt bookkeeping on the outbox; the sync workers table"""
from alembic import op

from gateway.migrations import helpers as h

revision = "0007_sync"
down_revision = "0003_audit_outbox"


def upgrade() -> None:
    h.create_table(
        "sync_workers",
        *h.strings(name=100, host=200),
        *h.integers("pid"),
        h.at("started_at"),
        h.at("heartbeat_at"),
        h.at("expires_at"),
        *h.integers("batches", "delivered", "dead", "retries"),
        unique=["name"],
    )
    h.add_columns("outbox", *h.strings(nullable=True, batch_key=100), *h.integers("generation", server_default="0"),
                  h.at("last_attempt_at", nullable=True), *h.strings(last_outcome=32, server_default=""))
    h.create_indexes("outbox", "batch_key", ("ix_outbox_kind_state_next", ["kind", "state", "next_attempt_at"]))


def downgrade() -> None:
    for index in ("ix_outbox_kind_state_next", "ix_outbox_batch_key"):
        op.drop_index(index, table_name="outbox")
    h.drop_columns("outbox", "last_outcome", "last_attempt_at", "generation", "batch_key")
    h.drop_tables("sync_workers")
