"""Publishing results through the workflow (what ``bench/sync.py`` times per step): recording a
result reads the task's matters once, for its checklists and for its methods alike, and the result
recorded is the same."""
from __future__ import annotations

from sqlalchemy import event

from gateway.results import service
from tests.sync.world import build_results_world


def test_recording_reads_the_tasks_matters_once(gateway):
    world = build_results_world(gateway, 2)
    recorder = world.recorder()
    body = world.body(world.task_ids[0])
    statements: list[str] = []

    def executing(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    event.listen(gateway.engine, "before_cursor_execute", executing)
    try:
        with gateway.write() as session:
            result = service.record_result(gateway, session, recorder, world.task_ids[0], dict(body), today=world.today)
            recorded = (result.status, result.methods, sorted(result.checklists))
    finally:
        event.remove(gateway.engine, "before_cursor_execute", executing)
    pinned_versions = [s for s in statements if s.startswith("SELECT plan_matters.id") and "JOIN matter_versions" in s]
    assert len(pinned_versions) == 1
    assert recorded == ("recorded", body["methods"], ["refined_oil"])
