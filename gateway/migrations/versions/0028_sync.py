"""The waiting outbox rows in id order: ix_outbox_waiting (kind, id) WHERE state IN (pending, in_flight)

A sync worker claims the first due rows of a kind in id order. Without this index PostgreSQL read
every due row and sorted it (a growing queue: O(queue) per claim), or walked the primary key
through every delivered row, which an outbox keeps for good. The partial index holds only the rows
still waiting, so a claim reads its batch and stops."""
import sqlalchemy as sa
from alembic import op

revision = "0028_sync"
down_revision = "0027_frozen_strata"

WAITING = sa.text("state IN ('pending', 'in_flight')")


def upgrade() -> None:
    op.create_index("ix_outbox_waiting", "outbox", ["kind", "id"], postgresql_where=WAITING, sqlite_where=WAITING)


def downgrade() -> None:
    op.drop_index("ix_outbox_waiting", table_name="outbox")
