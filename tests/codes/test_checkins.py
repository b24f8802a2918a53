"""Check-in (扫码入企): the enterprise confirms the team's arrival with its notice's access code; a
site-visit result needs it, a written check does not; departure is recorded with the signed result."""
from __future__ import annotations

from sqlalchemy import select

from gateway.codes import service
from gateway.codes.models import CheckIn
from gateway.enterprise.access_codes import issue_access_code
from gateway.security.audit import AuditEntry
from gateway.tasks.models import Task
from gateway.testing.world import OFFICE


def code_and_access_code(gateway, task_id: int) -> tuple[str, str]:
    with gateway.write() as session:
        task = session.get(Task, task_id)
        return service.issue(session, gateway.settings, task), issue_access_code(session, task, actor=OFFICE)


def wrong(access_code: str) -> str:
    """The same locator (the code is found) with another secret."""
    last = access_code[-1]
    return access_code[:-1] + ("A" if last != "A" else "B")


def test_a_site_result_without_check_in_is_refused_and_a_written_check_needs_none(gateway, drawn, client_as):
    inspector = client_as("inspector", inspector_id=drawn.inspector_id)
    refused = inspector.post(f"/api/v1/tasks/{drawn.task_id}/results", json=drawn.result_body(methods=["实地核查"]))
    assert refused.status_code == 409 and refused.json["code"] == "checkin_required"
    assert "扫码入企" in refused.json["message"] and "methods" in refused.json["errors"]
    written = inspector.post(f"/api/v1/tasks/{drawn.task_id}/results",
                             json=drawn.result_body(methods=["书面检查", "信息比对"]))
    assert written.status_code == 201, written.json


def test_check_in_with_a_wrong_code_fails_and_is_audited_then_the_right_one_confirms(gateway, drawn, client, client_as):
    code, access_code = code_and_access_code(gateway, drawn.task_id)
    bad = client.post("/api/v1/inspection-codes/check-ins", json={"token": code, "access_code": wrong(access_code)})
    assert bad.status_code == 401 and bad.json["code"] == "access_code_wrong" and "访问码不正确" in bad.json["message"]
    page = client.get(f"/code/{code}")  # the form on the scan page says the same, never a 500
    csrf = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    shown = client.post(f"/code/{code}/check-in", data={"access_code": wrong(access_code), "csrf_token": csrf})
    assert shown.status_code == 401 and "访问码不正确" in shown.get_data(as_text=True)
    with gateway.read() as session:
        refusals = session.scalars(select(AuditEntry).where(AuditEntry.action == "enterprise.access_code.refuse")).all()
        assert len(refusals) == 2 and all(r.details["purpose"] == "check_in" for r in refusals)
        assert session.scalar(select(CheckIn)) is None
    done = client.post(f"/code/{code}/check-in", data={"access_code": access_code, "csrf_token": csrf})
    assert done.status_code == 200 and "已确认检查组到场" in done.get_data(as_text=True)
    again = client.post("/api/v1/inspection-codes/check-ins", json={"token": code, "access_code": access_code})
    assert again.status_code == 401 and again.json["code"] == "access_code_used"
    with gateway.read() as session:
        checkin = session.scalar(select(CheckIn))
        assert checkin.task_id == drawn.task_id and checkin.arrived_at is not None and checkin.departed_at is None
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "checkins.confirm")).entity_id == str(drawn.task_id)
    # now the site result is accepted, and the target's signature records the departure
    inspector = client_as("inspector", inspector_id=drawn.inspector_id)
    recorded = inspector.post(f"/api/v1/tasks/{drawn.task_id}/results", json=drawn.result_body(methods=["实地核查"]))
    assert recorded.status_code == 201, recorded.json
    with gateway.read() as session:
        checkin = session.scalar(select(CheckIn))
        assert checkin.departed_at is not None and checkin.departure_result_id == recorded.json["id"]


def test_another_tasks_access_code_or_a_stale_code_cannot_check_in(gateway, drawn, client):
    code, _ = code_and_access_code(gateway, drawn.task_id)
    with gateway.write() as session:
        other = session.scalar(select(Task).where(Task.id != drawn.task_id, Task.plan_id == drawn.plan_id))
        other_code = issue_access_code(session, other, actor=OFFICE)
        uscc = other.target.uscc
    answer = client.post("/api/v1/inspection-codes/check-ins", json={"token": code, "access_code": other_code})
    # the other enterprise's code is not found under this enterprise's USCC
    assert answer.status_code == 401 and answer.json["code"] == "access_code_unknown" and uscc not in answer.json["message"]
    malformed = client.post("/api/v1/inspection-codes/check-ins", json={"token": "x.y.z", "access_code": "ABCD"})
    assert malformed.status_code == 422 and malformed.json["code"] == "code_malformed"


def test_the_team_adds_its_location_only_with_consent(gateway, drawn, client, client_as):
    inspector = client_as("inspector", inspector_id=drawn.inspector_id)
    where = {"latitude": 35.09, "longitude": 113.4, "consent": True}
    early = inspector.post(f"/api/v1/inspection-codes/tasks/{drawn.task_id}/location", json=where)
    assert early.status_code == 409 and early.json["code"] == "checkin_missing"
    code, access_code = code_and_access_code(gateway, drawn.task_id)
    assert client.post("/api/v1/inspection-codes/check-ins",
                       json={"token": code, "access_code": access_code}).status_code == 201
    refused = inspector.post(f"/api/v1/inspection-codes/tasks/{drawn.task_id}/location", json={**where, "consent": False})
    assert refused.status_code == 422 and "consent" in refused.json["errors"]
    located = inspector.post(f"/api/v1/inspection-codes/tasks/{drawn.task_id}/location", json=where)
    assert located.status_code == 200 and located.json["location_consent"] is True and located.json["latitude"] == 35.09
    assert client_as("county_office").post(f"/api/v1/inspection-codes/tasks/{drawn.task_id}/location",
                                           json=where).status_code == 403
