"""The tasks' indexes (migration 0036): a plan's tasks, alone or of one lead department, and a
target's tasks are each read through an index on SQLite and PostgreSQL, and a target still has one
task per plan at most."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from gateway.tasks.models import Task
from gateway.testing.world import draw_task_for
from tests.query_plans import captured, prefer_indexes, query_plan

INDEX_OF = {
    # read: (index on SQLite, index on PostgreSQL)
    "plan": ("sqlite_autoindex_tasks_2", "ix_tasks_plan_id"),
    "plan and department": ("sqlite_autoindex_tasks_2", "ix_tasks_plan_id"),
    "target": ("ix_tasks_target_id", "uq_tasks_target_id"),
}


COLUMNS = ("number", "plan_id", "target_id", "lead_department", "matter_codes", "window_start", "window_end")


@pytest.fixture
def drawn(gateway):
    matter = next(iter(gateway.registry.matters))
    drawn = draw_task_for(gateway, matter, targets=3, checked_in=False)
    with gateway.read() as session:
        return session.execute(select(*(getattr(Task, c) for c in COLUMNS)).where(Task.id == drawn.task_id)).one()


def _reads(task) -> dict[str, object]:
    return {
        "plan": select(Task.id).where(Task.plan_id == task.plan_id).order_by(Task.number),
        "plan and department": select(Task.id).where(Task.plan_id == task.plan_id,
                                                      Task.lead_department == task.lead_department),
        "target": select(Task.id).where(Task.target_id == task.target_id),
    }


@pytest.mark.parametrize("read", sorted(INDEX_OF))
def test_each_read_of_tasks_uses_an_index(gateway, drawn, read):
    with captured(gateway.engine) as statements, gateway.read() as session:
        session.execute(_reads(drawn)[read]).all()
    with gateway.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        prefer_indexes(conn)
        plan = query_plan(conn, *statements[-1])
    assert INDEX_OF[read][0 if sqlite else 1] in plan, plan
    assert not re.search(r"SCAN tasks$|Seq Scan on tasks", plan, re.MULTILINE), plan


def test_a_target_has_one_task_per_plan(gateway, drawn):
    row = drawn._asdict() | {"number": drawn.number + "-dup"}
    with pytest.raises(IntegrityError), gateway.write() as session:
        session.execute(insert(Task).values(**row))
    with gateway.read() as session:
        assert session.scalar(select(Task.id).where(Task.number == drawn.number + "-dup")) is None
