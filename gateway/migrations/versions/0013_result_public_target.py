"""Inspection results: the target as published (name, address, legal representative)

A published result keeps what the public saw of its target at publication, so a later edit of the
directory does not rewrite it; a correction is a new version with its own snapshot. Results
published before this revision take the target as it stands now, the best record there is.
"""
import sqlalchemy as sa
from alembic import op

from gateway.migrations import helpers as h

revision = "0013_result_public_target"
down_revision = "0012_tasks_draw_insert"


def upgrade() -> None:
    h.add_columns("inspection_results", *h.jsons("public_target", nullable=True), batch=False)
    results = sa.table("inspection_results", sa.column("id", sa.Integer), sa.column("task_id", sa.Integer),
                       sa.column("status", sa.String), sa.column("public_target", sa.JSON))
    tasks = sa.table("tasks", sa.column("id", sa.Integer), sa.column("target_id", sa.Integer))
    targets = sa.table("targets", sa.column("id", sa.Integer), sa.column("name", sa.String),
                       sa.column("address", sa.String), sa.column("legal_representative", sa.String))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(results.c.id, targets.c.name, targets.c.address, targets.c.legal_representative)
        .join(tasks, tasks.c.id == results.c.task_id).join(targets, targets.c.id == tasks.c.target_id)
        .where(results.c.status == "published")
    ).all()
    for result_id, name, address, legal_representative in rows:
        bind.execute(results.update().where(results.c.id == result_id).values(public_target={
            "name": name or "", "address": address or "", "legal_representative": legal_representative or "",
        }))


def downgrade() -> None:
    h.drop_columns("inspection_results", "public_target")
