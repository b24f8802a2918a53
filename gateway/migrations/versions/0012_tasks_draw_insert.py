"""Tasks: drop ix_tasks_draw_id, task numbers compared byte by byte on PostgreSQL

A draw inserts tens of thousands of tasks in one go, and each index costs every row. Tasks are
looked up by draw only together with the draw's plan (one draw per plan), so the plan's unique
(plan_id, target_id) index serves those queries and ix_tasks_draw_id goes. Task numbers are
identifiers: on PostgreSQL the column gets the "C" collation, which orders them by code point,
as Python does, and fills the unique index without locale-aware comparisons. SQLite already
compares text byte by byte.
"""
import sqlalchemy as sa
from alembic import op

from gateway.migrations import helpers as h

revision = "0012_tasks_draw_insert"
down_revision = "0011_draw_record_gzip"


def upgrade() -> None:
    op.drop_index("ix_tasks_draw_id", table_name="tasks")
    if h.on_postgresql():
        op.alter_column("tasks", "number", type_=sa.String(120, collation="C"), existing_nullable=False)


def downgrade() -> None:
    if h.on_postgresql():
        op.alter_column("tasks", "number", type_=sa.String(120), existing_nullable=False)
    op.create_index("ix_tasks_draw_id", "tasks", ["draw_id"])
