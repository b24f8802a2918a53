"""The author's test kit (gateway.testing): its fixtures give a migrated database, tokens per role
and a drawn task ready for a result (issue 22, the author's kit)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gateway.results.models import InspectionResult


def test_the_database_is_migrated_empty_and_synced(shuangsui_gateway, shuangsui_database_url, pytestconfig):
    server = pytestconfig.getoption("--shuangsui-postgresql")
    assert shuangsui_database_url.startswith("postgresql" if server else "sqlite:///")
    assert "/shuangsui_test_" in shuangsui_database_url or not server  # its own database, not the server's
    with shuangsui_gateway.read() as session:
        assert session.scalar(select(func.count(InspectionResult.id))) == 0
    assert shuangsui_gateway.registry.matters


def test_tokens_per_role(shuangsui_client_as, shuangsui_client):
    assert shuangsui_client.get("/api/v1/inspectors").status_code == 401
    assert shuangsui_client_as("county_office").get("/api/v1/inspectors").status_code == 200
    assert shuangsui_client_as("department_operator", department="market").get("/api/v1/inspectors").status_code == 200


@pytest.mark.parametrize("matter_code", ["work_safety", "crop_seed"])
def test_a_drawn_task_takes_a_result_from_its_leader(shuangsui_drawn_task, shuangsui_client_as, matter_code):
    task = shuangsui_drawn_task(matter_code)
    inspector = shuangsui_client_as("inspector", inspector_id=task.inspector_id)
    checklist = inspector.get(f"/api/v1/tasks/{task.task_id}/checklist").json
    assert [m["matter_code"] for m in checklist["matters"]] == [matter_code]
    response = inspector.post(f"/api/v1/tasks/{task.task_id}/results", json=task.result_body())
    assert response.status_code == 201, response.json
    again = inspector.post(f"/api/v1/tasks/{task.task_id}/results", json=task.result_body())
    assert again.status_code == 409
