"""A guard on the targets' keys for the draw (PostgreSQL; issue 20): deleting targets or changing
their ``id`` waits while a draw is in progress

A draw writes its tasks and team members with the per-row foreign-key checks off and checks the
referenced rows as a set (gateway.draw.foreign_keys). It used to lock every drawn target ``FOR
KEY SHARE`` (70,000 at 1M targets) so that none is deleted or re-keyed before it commits: that
dirtied nearly every page of ``targets`` and was the longest wait on the draw's path. Instead a
statement-level trigger makes every DELETE on ``targets``, and every UPDATE that sets ``id`` (the
only column a foreign key refers to), take an exclusive transaction-level advisory lock; a draw
takes it shared (``targets_keys_hold()``) before it looks its targets up. Draws do not block each
other, and updates of any other column (status, name...) never wait. SQLite is unchanged (it
checks each row's keys itself). The statements are written out here so that this revision keeps
its meaning.
"""
from alembic import op

from gateway.migrations import helpers as h

revision = "0034_targets_delete_guard"
down_revision = "0033_outbox_indexes"

# Any constant of our own: advisory locks are per database and nothing else in it takes this one.
KEY = 2034_0000_0001

STATEMENTS = (
    f"""CREATE FUNCTION targets_keys_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_catalog.pg_advisory_xact_lock({KEY});
  RETURN NULL;
END $$""",
    f"""CREATE FUNCTION targets_keys_hold() RETURNS void LANGUAGE sql AS $$
  SELECT pg_catalog.pg_advisory_xact_lock_shared({KEY})
$$""",
    "CREATE TRIGGER targets_keys_guard BEFORE DELETE OR UPDATE OF id ON targets "
    "FOR EACH STATEMENT EXECUTE FUNCTION targets_keys_guard()",
)


def upgrade() -> None:
    if not h.on_postgresql():
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    if not h.on_postgresql():
        return
    op.execute("DROP TRIGGER targets_keys_guard ON targets")
    op.execute("DROP FUNCTION targets_keys_hold()")
    op.execute("DROP FUNCTION targets_keys_guard()")
