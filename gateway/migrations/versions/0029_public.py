"""The tasks made outside a draw: ix_tasks_plan_undrawn (plan_id) WHERE draw_id IS NULL

A public plan shows how many tasks it has, on the home page among others (issue 20). Counting a
plan's tasks read tens of thousands of index entries per request at a million targets; the count is
now its drawn draws' ``task_count`` plus the tasks made outside a draw, which this small partial
index finds without reading the others (gateway.results.public.plan_task_counts)."""
import sqlalchemy as sa
from alembic import op

revision = "0029_public"
down_revision = "0028_sync"

UNDRAWN = sa.text("draw_id IS NULL")


def upgrade() -> None:
    op.create_index("ix_tasks_plan_undrawn", "tasks", ["plan_id"], postgresql_where=UNDRAWN, sqlite_where=UNDRAWN)


def downgrade() -> None:
    op.drop_index("ix_tasks_plan_undrawn", table_name="tasks")
