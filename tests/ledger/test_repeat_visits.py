"""Repeat-visit warnings and joining another department's task (issue 16 item 3)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from gateway.directory.models import Inspector
from gateway.ledger.models import InspectionCaps, RegisteredInspection
from gateway.security.audit import AuditEntry
from gateway.tasks.models import Task
from gateway.testing.world import add_inspectors, checklist_values, draw_task_for

LEAD_MATTER = "refined_oil"     # commerce leads it
JOINING_MATTER = "work_safety"  # emergency leads it


def _setup(gateway):
    drawn = draw_task_for(gateway, LEAD_MATTER)
    joining = gateway.registry.matters[JOINING_MATTER].department_code
    with gateway.write() as session:
        task = session.get(Task, drawn.task_id)
        uscc, start = task.target.uscc, task.window_start
        if not session.scalar(select(Inspector.id).where(Inspector.department_code == joining)):
            add_inspectors(session, [joining], per_department=2)
        inspector_id = session.scalar(select(Inspector.id).where(
            Inspector.department_code == joining, Inspector.active.is_(True),
            Inspector.certificate_valid_until > date.today()).order_by(Inspector.id))
        registered = RegisteredInspection(
            uscc=uscc, department_code=joining, channel="routine", legal_reason_code="routine_patrol",
            inspected_on=start + timedelta(days=12), year=start.year, reference="应急巡查-001", source="api")
        session.add(registered)
        session.flush()
        registered_id = registered.id
    return drawn, joining, uscc, start, inspector_id, registered_id


def test_a_visit_near_another_department_s_is_warned_and_joined_into_one_task(gateway, client_as):
    drawn, joining, uscc, start, inspector_id, registered_id = _setup(gateway)
    lead = gateway.registry.matters[LEAD_MATTER].department_code
    operator = client_as("department_operator", department=joining)

    near = operator.get(f"/api/v1/visits/repeats?uscc={uscc}&department={joining}&on={start + timedelta(days=12)}")
    assert near.status_code == 200 and near.json["days"] == 30
    drawn_warning = next(w for w in near.json["warnings"] if w["channel"] == "drawn")
    assert drawn_warning["department_code"] == lead and drawn_warning["days_apart"] == 12
    assert drawn_warning["joinable"] is True and drawn_warning["task_id"] == drawn.task_id
    assert "相隔 12 天" in drawn_warning["message"]
    # its own registered visit is never a warning; far from the drawn visit, nothing is warned
    assert all(w["department_code"] != joining for w in near.json["warnings"])
    far = operator.get(f"/api/v1/visits/repeats?uscc={uscc}&department={joining}&on={start + timedelta(days=45)}")
    assert far.json["warnings"] == []
    # the lead department sees the joining department's registered visit the other way round
    back = client_as("department_operator", department=lead).get(
        f"/api/v1/visits/repeats?uscc={uscc}&department={lead}&on={start}")
    assert [(w["channel"], w["department_code"], w["joinable"]) for w in back.json["warnings"]] == [
        ("routine", joining, False)]

    body = {"task_id": drawn.task_id, "matter_code": JOINING_MATTER, "inspector_ids": [inspector_id],
            "registered_id": registered_id, "reason": "同月巡查，合并为一次联合检查"}
    # another department may not join on the joining department's behalf
    assert client_as("department_head", department=lead).post("/api/v1/visits/joins", json=body).status_code == 403
    joined = client_as("department_head", department=joining).post("/api/v1/visits/joins", json=body)
    assert joined.status_code == 200, joined.json
    assert [m["code"] for m in joined.json["matters"]] == [LEAD_MATTER, JOINING_MATTER]
    assert {(m["inspector_id"], m["source"]) for m in joined.json["team"]} >= {(inspector_id, "join")}
    again = client_as("department_head", department=joining).post("/api/v1/visits/joins", json=body)
    assert again.status_code == 409
    with gateway.read() as session:
        assert session.get(RegisteredInspection, registered_id).joint_task_id == drawn.task_id
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "visits.join")) is not None

    # one visit, both checklists: the lead's inspector records one result covering both matters
    inspector = client_as("inspector", inspector_id=drawn.inspector_id)
    checklist = inspector.get(f"/api/v1/tasks/{drawn.task_id}/checklist").json
    assert [m["matter_code"] for m in checklist["matters"]] == [LEAD_MATTER, JOINING_MATTER]
    body = drawn.result_body()
    missing = inspector.post(f"/api/v1/tasks/{drawn.task_id}/results", json=body)
    assert missing.status_code == 422  # the joined matter's checklist is required too
    body["checklists"][JOINING_MATTER] = checklist_values(gateway, JOINING_MATTER)
    recorded = inspector.post(f"/api/v1/tasks/{drawn.task_id}/results", json=body)
    assert recorded.status_code == 201, recorded.json

    # a task with a result can no longer be joined
    warned = operator.get(f"/api/v1/visits/repeats?uscc={uscc}&department={joining}&on={start}")
    assert all(not w["joinable"] for w in warned.json["warnings"])


def test_a_join_names_the_department_s_own_certified_inspectors(gateway, client_as):
    drawn, joining, _, _, inspector_id, _ = _setup(gateway)
    with gateway.read() as session:
        stranger = session.scalar(select(Inspector.id).where(Inspector.department_code != joining))
    head = client_as("department_head", department=joining)
    body = {"task_id": drawn.task_id, "matter_code": JOINING_MATTER, "inspector_ids": [stranger]}
    refused = head.post("/api/v1/visits/joins", json=body)
    assert refused.status_code == 422 and "inspector_ids.0" in refused.json["errors"]
    with gateway.read() as session:
        assert session.get(Task, drawn.task_id).matter_codes == [LEAD_MATTER]  # nothing half-written


def test_the_office_dashboard_lists_enterprises_by_inspections_against_the_caps(gateway, client_as):
    drawn, joining, uscc, start, _, _ = _setup(gateway)
    with gateway.write() as session:
        session.add(InspectionCaps(year=start.year, version=1, per_department=1, total=4,
                                   exempt_channels=["complaint", "referral", "case"], key_targets_exempt=True,
                                   published_at=datetime(start.year, 1, 2), published_by="县双随机办"))
        session.add(RegisteredInspection(
            uscc=uscc, department_code=joining, channel="complaint", legal_reason_code="complaint",
            inspected_on=start + timedelta(days=20), year=start.year, reference="投诉-9", source="api"))
        name = session.get(Task, drawn.task_id).target.name
    page = client_as("county_office").get(f"/console?year={start.year}").get_data(as_text=True)
    section = page[page.index("企业受检频次"):]
    row = section[section.index(name):section.index("</tr>", section.index(name))]
    # three inspections in all; the complaint is exempt, so two count, one per department: at the cap of 1
    assert '<td data-label="受检次数" class="num">3</td>' in row
    assert '<td data-label="计入上限" class="num">2 / 4</td>' in row
    assert "已达上限" in row and "高频检查" not in row


def test_the_console_page_warns_and_joins(gateway, client_as):
    drawn, joining, uscc, start, inspector_id, _ = _setup(gateway)
    head = client_as("department_head", department=joining)
    query = f"uscc={uscc}&department={joining}&on={start + timedelta(days=5)}"
    page = head.get(f"/console/visits?{query}").get_data(as_text=True)
    assert "重复检查预警" in page and "相隔 5 天" in page and "并入该检查任务" in page
    response = head.post("/console/visits/joins", data={
        "task_id": drawn.task_id, "matter_code": JOINING_MATTER, "inspector_ids": str(inspector_id),
        "uscc": uscc, "department": joining, "on": str(start)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/console/tasks/{drawn.task_id}")
    with gateway.read() as session:
        assert session.get(Task, drawn.task_id).matter_codes == [LEAD_MATTER, JOINING_MATTER]


def test_registering_a_visit_answers_its_repeat_visit_warnings(gateway, client_as):
    drawn, joining, uscc, start, _, _ = _setup(gateway)
    on = min(date.today(), start + timedelta(days=3))
    response = client_as("department_operator", department=joining).post("/api/v1/ledger/inspections", json={
        "uscc": uscc, "department_code": joining, "channel": "special", "legal_reason_code": "special_campaign",
        "inspected_on": on.isoformat(), "reference": "专项-7"})
    assert response.status_code == 201, response.json
    drawn_warning = next(w for w in response.json["repeat_visits"] if w["channel"] == "drawn")
    assert drawn_warning["task_id"] == drawn.task_id and drawn_warning["days_apart"] == (on - start).days
