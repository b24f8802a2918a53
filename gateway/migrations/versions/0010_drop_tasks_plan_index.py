"""Drop ix_tasks_plan_id: the unique constraint on (plan_id, target_id) already indexes plan_id

Both databases use the leading column of that unique index for lookups by plan, so the separate
index only cost every inserted task (a draw inserts tens of thousands) one more index entry.
"""
from alembic import op

revision = "0010_drop_tasks_plan_index"
down_revision = "0009_draw_lz4"


def upgrade() -> None:
    op.drop_index("ix_tasks_plan_id", table_name="tasks")


def downgrade() -> None:
    op.create_index("ix_tasks_plan_id", "tasks", ["plan_id"])
