"""The outbox's state indexed only where rows are undelivered: ix_outbox_dead, ix_outbox_undelivered_due, partial ix_outbox_batch_key

Issue 20: every batch rewrites its rows twice (the lease, then the delivery), and since ``state``
and ``batch_key`` are indexed neither rewrite can be HOT, so each added an entry to every index of
the outbox, six of them: over half of PostgreSQL's CPU per batch, which the sync worker waits for.
The indexes over every row's state (``ix_outbox_state_next``, ``ix_outbox_kind_state_next``) go:
the claim reads ``ix_outbox_waiting`` (0028), the dead letters now ``ix_outbox_dead``, which a
lease or a delivery never touches, the deadline alert ``ix_outbox_undelivered_due``, which a
delivery leaves, and the status page's counts by state read every row either way.
``ix_outbox_batch_key`` keeps only leased rows (a delivered row's key is cleared)."""
import sqlalchemy as sa
from alembic import op

revision = "0033_outbox_indexes"
down_revision = "0032_draw_counts"

DEAD = sa.text("state = 'dead'")
LEASED = sa.text("batch_key IS NOT NULL")
UNDELIVERED = sa.text("state <> 'delivered'")


def upgrade() -> None:
    op.create_index("ix_outbox_dead", "outbox", ["kind", "id"], postgresql_where=DEAD, sqlite_where=DEAD)
    op.create_index("ix_outbox_undelivered_due", "outbox", ["due_date", "id"],
                    postgresql_where=UNDELIVERED, sqlite_where=UNDELIVERED)
    op.drop_index("ix_outbox_batch_key", table_name="outbox")
    op.create_index("ix_outbox_batch_key", "outbox", ["batch_key"], postgresql_where=LEASED, sqlite_where=LEASED)
    op.drop_index("ix_outbox_state_next", table_name="outbox")
    op.drop_index("ix_outbox_kind_state_next", table_name="outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_kind_state_next", "outbox", ["kind", "state", "next_attempt_at"])
    op.create_index("ix_outbox_state_next", "outbox", ["state", "next_attempt_at"])
    op.drop_index("ix_outbox_batch_key", table_name="outbox")
    op.create_index("ix_outbox_batch_key", "outbox", ["batch_key"])
    op.drop_index("ix_outbox_undelivered_due", table_name="outbox")
    op.drop_index("ix_outbox_dead", table_name="outbox")
