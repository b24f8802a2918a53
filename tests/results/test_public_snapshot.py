"""A published result shows the target as it stood at publication; editing the directory later does
not change it, and a correction is a new version with its own snapshot (issue 14, item 6)."""
from __future__ import annotations

from gateway.directory import service as directory
from gateway.results.models import InspectionResult
from gateway.sync.records import build_result

BEFORE = {"name": "武陟县沁河加油站有限公司", "address": "武陟县詹店镇沁河路 1 号", "legal_representative": "周建华"}
AFTER = {"name": "武陟县新名字能源有限公司", "address": "武陟县木城街道新址 9 号", "legal_representative": "吴新"}


def _edit_target(world, values: dict) -> None:
    with world.gateway.write() as session:
        directory.update_target(session, world.targets["oil"], values)


def _public(client, result_id: int) -> dict:
    response = client.get(f"/api/v1/public/results/{result_id}")
    assert response.status_code == 200
    return response.json["target"]


def test_editing_the_target_does_not_change_a_published_result(world, client, client_as):
    _edit_target(world, BEFORE)
    first = world.published("oil")
    _edit_target(world, AFTER)

    assert _public(client, first) == {"uscc": world.targets["oil"], **BEFORE}
    page = client.get(f"/results/{first}").get_data(as_text=True)
    assert BEFORE["name"] in page and BEFORE["address"] in page and AFTER["name"] not in page
    listed = client.get("/api/v1/public/results", query_string={"q": world.targets["oil"]}).json["items"]
    assert [r["target"]["name"] for r in listed] == [BEFORE["name"]]
    with world.gateway.read() as session:
        record = build_result(session, first, "record-1", world.gateway.settings)
    assert record["target_name"] == BEFORE["name"]

    # a correction is a new version, published with the target as it stands then
    inspector = client_as("inspector", inspector_id=world.inspectors["c1"])
    corrected = inspector.post(f"/api/v1/results/{first}/corrections", json={**world.body("oil"), "reason": "更正检查方式"})
    assert corrected.status_code == 201, corrected.json
    second = corrected.json["id"]
    world.review(second, "commerce")
    world.publish(second, "commerce")
    assert _public(client, second) == {"uscc": world.targets["oil"], **AFTER}
    assert _public(client, first) == {"uscc": world.targets["oil"], **BEFORE}
    with world.gateway.read() as session:
        assert session.get(InspectionResult, first).public_target == BEFORE


def test_the_migration_gives_results_published_before_it_their_target(world):
    from alembic import command

    from gateway.migrate import alembic_config, upgrade

    _edit_target(world, BEFORE)
    published = world.published("oil")
    pending = world.record("lab")
    url = world.gateway.settings.database_url
    world.gateway.engine.dispose()
    command.downgrade(alembic_config(url), "0012_tasks_draw_insert")
    upgrade(url)
    with world.gateway.read() as session:
        assert session.get(InspectionResult, published).public_target == BEFORE
        assert session.get(InspectionResult, pending).public_target is None
