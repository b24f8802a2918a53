"""Tasks on PostgreSQL: UNIQUE (target_id, plan_id) and an index on (plan_id, lead_department)

Issue 20: writing a draw's tasks is mostly writing their index entries. Before, two indexes took
each new task at a random place, (plan_id, target_id) and target_id, and a third,
lead_department, took it at one of a handful. Now one index takes it at random, the unique
(target_id, plan_id), which also serves every lookup by target; a plan's tasks, alone or of one
department, are read from (plan_id, lead_department), where a new plan's draw appends. Re-inserting
a million-target draw's 69,397 tasks took 0.49–0.55 s instead of 0.75–0.87 s
(bench/task_indexes.py; docs/plans-and-draws.md).

A department's tasks across all plans no longer have an index of their own: with a handful of
departments such a query reads a large share of the table either way.

SQLite keeps the layout of migration 0002: its unique constraint is part of the table's
definition, which it can change only by copying the table, and other tables' rows refer to
tasks. Its draw meets its aim without the change.
"""
from alembic import op

from gateway.migrations import helpers as h

revision = "0036_tasks_target_plan"
down_revision = "0035_targets_uscc_include"


def upgrade() -> None:
    if not h.on_postgresql():
        return
    op.execute("ALTER TABLE tasks DROP CONSTRAINT uq_tasks_plan_id, "
               "ADD CONSTRAINT uq_tasks_target_id UNIQUE (target_id, plan_id)")
    op.drop_index("ix_tasks_target_id", table_name="tasks")
    op.drop_index("ix_tasks_lead_department", table_name="tasks")
    op.create_index("ix_tasks_plan_id", "tasks", ["plan_id", "lead_department"])


def downgrade() -> None:
    if not h.on_postgresql():
        return
    op.drop_index("ix_tasks_plan_id", table_name="tasks")
    op.create_index("ix_tasks_lead_department", "tasks", ["lead_department"])
    op.create_index("ix_tasks_target_id", "tasks", ["target_id"])
    op.execute("ALTER TABLE tasks DROP CONSTRAINT uq_tasks_target_id, "
               "ADD CONSTRAINT uq_tasks_plan_id UNIQUE (plan_id, target_id)")
