"""The record builders: every kind the gateway publishes becomes a record the platform contract
(``schemas/platform.py``) accepts, with the platform's field values."""
from __future__ import annotations

from gateway.sync.records import PLATFORM_KINDS, BuildError, build_record, china_date
from schemas.platform import today_in_china, validate_record
from tests.drawdb import build_directory, complete_draw, published_plan
from tests.sync.world import build_results_world


def built(gateway, kind: str, entity_id: int) -> dict:
    with gateway.read() as session:
        record = build_record(session, kind, entity_id, f"410823-{kind}-{entity_id}", gateway.settings)
    loaded, errors = validate_record(PLATFORM_KINDS[kind], record, today=today_in_china())
    assert errors == [], errors
    return record


def test_plan_and_draw_records(gateway):
    build_directory(gateway, per_matter=8)
    plan_id = published_plan(gateway)
    plan = built(gateway, "plan", plan_id)
    assert plan["plan_type"] == "joint" and plan["start_date"].startswith(str(plan["year"]))
    assert plan["id"] == f"410823-plan-{plan_id}"
    assert plan["organiser"] == plan["departments"][0]
    assert {m["code"] for m in plan["matters"]} == set(gateway.registry.matters)
    assert all(name.startswith("武陟县") for name in plan["departments"])

    draw_id = complete_draw(gateway, plan_id)
    draw = built(gateway, "draw", draw_id)
    from sqlalchemy import func, select

    from gateway.draw.models import Draw
    from gateway.tasks.models import Task

    with gateway.read() as session:
        row = session.get(Draw, draw_id)
        tasks = session.scalar(select(func.count()).select_from(Task).where(Task.draw_id == draw_id))
        assert draw["record_sha256"] == row.record_sha256
        assert draw["drawn_on"] == china_date(row.drawn_at).isoformat()
    assert len(draw["targets"]) == tasks > 0
    assert draw["plan_number"] == plan["plan_number"] and draw["task_number"].startswith(plan["plan_number"])
    assert draw["record_url"] is None


def test_result_and_disposition_records(gateway):
    world = build_results_world(gateway, 2)
    [clean] = world.publish(world.task_ids[:1])
    [problem] = world.publish(world.task_ids[1:], problems=True)
    disposition_id = world.publish_disposition(problem)

    result = built(gateway, "result", clean)
    assert result["result_codes"] == ["1"] and result["inspection_type"] == "joint_random"
    assert result["authority"] == "武陟县商务局" and result["authority_level"] == "county"
    assert result["uscc"] == world.usccs[world.task_ids[0]]
    assert result["completed_on"] == world.completed_on.isoformat()
    assert built(gateway, "result", problem)["result_codes"] == ["A", "D"]

    follow_up = built(gateway, "disposition", disposition_id)
    assert follow_up["inspection_result_id"] == f"410823-result-{problem}"
    assert follow_up["disposition"] == "administrative_penalty"
    assert follow_up["document_number"] == "武商罚决字〔2026〕12号"
    assert follow_up["uscc"] == world.usccs[world.task_ids[1]]


def test_unpublished_or_missing_entities_are_not_built(gateway):
    from gateway.results import service

    world = build_results_world(gateway, 1)
    with gateway.write() as session:
        recorded = service.record_result(gateway, session, world.recorder(), world.task_ids[0],
                                         world.body(world.task_ids[0]), today=world.today).id
    with gateway.read() as session:
        for kind, entity_id, code in (("result", 12345, "entity_missing"), ("plan", world.plan_id + 99, "entity_missing"),
                                      ("disposition", 1, "entity_missing"), ("result", recorded, "entity_not_published")):
            try:
                build_record(session, kind, entity_id, "x", gateway.settings)
            except BuildError as error:
                assert error.code == code
            else:
                raise AssertionError(f"{kind} {entity_id} built")
