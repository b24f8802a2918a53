"""Department isolation and personal data in the directories (articles 5 and 25)."""
from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy import select

from gateway.demo.generate import make_uscc
from gateway.directory.models import Inspector
from gateway.security.audit import AuditEntry
from gateway.security.policy import allows
from gateway.security.principal import Principal


def inspector_body(serial: int, department: str, **overrides) -> dict:
    body = {"department_code": department, "name": f"李{serial}", "gender": "male",
            "certificate_no": f"41082388{serial:05d}", "phone": f"1391234{serial:04d}"}
    body.update(overrides)
    return body


@pytest.fixture
def staff(client_as):
    county = client_as("county_office")
    market = [county.post("/api/v1/inspectors", json=inspector_body(i, "market")).json for i in (1, 2)]
    commerce = [county.post("/api/v1/inspectors", json=inspector_body(i, "commerce")).json for i in (3, 4)]
    return {"market": market, "commerce": commerce}


def audit_actions(gateway) -> list[tuple[str, str, dict]]:
    with gateway.read() as session:
        return [(e.action, e.actor_role, e.details) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_operators_see_only_their_department(client_as, staff):
    operator = client_as("department_operator", "market")
    listing = operator.get("/api/v1/inspectors").json
    assert {i["department_code"] for i in listing["items"]} == {"market"} and listing["total"] == 2
    # asking for another department's rows finds none, it does not widen the scope
    assert operator.get("/api/v1/inspectors", query_string={"department": "commerce"}).json["total"] == 0
    other = staff["commerce"][0]["id"]
    assert operator.get(f"/api/v1/inspectors/{other}").status_code == 403
    assert client_as("county_office").get("/api/v1/inspectors").json["total"] == 4
    assert client_as("supervisor").get("/api/v1/inspectors").json["total"] == 4


def test_operators_change_only_their_department(gateway, client_as, staff):
    operator = client_as("department_operator", "market")
    other, own = staff["commerce"][0]["id"], staff["market"][0]["id"]
    refused = [
        operator.post("/api/v1/inspectors", json=inspector_body(9, "commerce")),
        operator.patch(f"/api/v1/inspectors/{other}", json={"name": "改名"}),
        operator.post(f"/api/v1/inspectors/{other}/deactivate"),
        # moving one's own inspector into another department is a change to that department
        operator.patch(f"/api/v1/inspectors/{own}", json={"department_code": "commerce"}),
        operator.post("/api/v1/conflicts", json={"inspector_id": other, "uscc": make_uscc("enterprise", 1),
                                                 "reason": "近亲属"}),
    ]
    assert [r.status_code for r in refused] == [403] * 5
    assert {r.json["code"] for r in refused} == {"forbidden"}
    with gateway.read() as session:
        assert session.get(Inspector, other).name == "李3" and session.get(Inspector, other).active
        assert session.get(Inspector, own).department_code == "market"
    assert operator.patch(f"/api/v1/inspectors/{own}", json={"unit": "县市场监管局"}).status_code == 200


def test_import_limits_inspector_rows_to_own_department(gateway, client_as, staff):
    operator = client_as("department_operator", "market")
    csv_text = "部门,姓名,性别,执法证号,联系电话\nmarket,王五,男,4108230000901,13800000001\ncommerce,赵六,男,4108230000902,13800000002\n"
    response = operator.post("/api/v1/imports/inspectors", data={"file": (io.BytesIO(csv_text.encode()), "i.csv")},
                             content_type="multipart/form-data")
    assert response.status_code == 422, response.json
    assert "无权导入" in str(response.json)
    with gateway.read() as session:
        assert session.scalar(select(Inspector).where(Inspector.name == "王五")) is None


def test_supervisor_and_inspector_cannot_change_directories(client_as, staff):
    supervisor = client_as("supervisor")
    own = staff["market"][0]["id"]
    assert supervisor.patch(f"/api/v1/inspectors/{own}", json={"name": "x"}).status_code == 403
    assert supervisor.post("/api/v1/targets", json={"uscc": make_uscc("enterprise", 5), "name": "x",
                                                    "type": "enterprise"}).status_code == 403
    inspector = client_as("inspector", inspector_id=own)
    assert inspector.get("/api/v1/inspectors").status_code == 403
    assert inspector.get("/api/v1/targets").status_code == 200  # targets are shared county data


def test_targets_are_shared_county_data(client_as):
    uscc = make_uscc("enterprise", 6)
    commerce = client_as("department_operator", "commerce")
    assert commerce.post("/api/v1/targets", json={"uscc": uscc, "name": "共享对象", "type": "enterprise"}).status_code == 201
    assert client_as("department_head", "agriculture").get(f"/api/v1/targets/{uscc}").status_code == 200
    assert client_as("public").get(f"/api/v1/targets/{uscc}").status_code == 401


def test_listings_mask_and_the_full_record_read_is_audited(gateway, client_as, staff):
    own = staff["market"][0]
    operator = client_as("department_operator", "market")
    listing = operator.get("/api/v1/inspectors").get_data(as_text=True)
    assert own["phone"] not in listing and own["certificate_no"] not in listing
    assert own["phone"][-4:] in listing
    conflicts = operator.get("/api/v1/conflicts").get_data(as_text=True)
    assert own["phone"] not in conflicts
    full = operator.get(f"/api/v1/inspectors/{own['id']}").json
    assert (full["phone"], full["certificate_no"]) == (own["phone"], own["certificate_no"])
    reads = [a for a in audit_actions(gateway) if a[0] == "inspectors.read_personal"]
    assert reads == [("inspectors.read_personal", "department_operator",
                      {"department": "market", "fields": ["phone", "certificate_no"]})]


def test_audit_details_never_hold_personal_numbers(gateway, client_as, staff):
    text = str(audit_actions(gateway))
    for person in staff["market"] + staff["commerce"]:
        assert person["phone"] not in text and person["certificate_no"] not in text


def test_export_with_personal_data_is_own_department_only_and_audited(gateway, client_as, staff):
    operator = client_as("department_operator", "market")
    response = operator.get("/api/v1/inspectors/export")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert staff["market"][0]["phone"] in body and staff["commerce"][0]["phone"] not in body
    assert response.headers["Cache-Control"] == "no-store"
    assert operator.get("/api/v1/inspectors/export", query_string={"department": "commerce"}).status_code == 403
    for role in ("county_office", "supervisor", "public", "system"):
        assert client_as(role).get("/api/v1/inspectors/export").status_code in (401, 403), role
    exports = [a for a in audit_actions(gateway) if a[0] == "inspectors.export"]
    assert exports == [("inspectors.export", "department_operator", {"count": 2, "fields": ["phone", "certificate_no"]})]


def test_export_cells_cannot_inject_formulas(client_as):
    county = client_as("county_office")
    county.post("/api/v1/inspectors", json=inspector_body(7, "market", unit="=HYPERLINK(\"http://x\")"))
    body = client_as("department_head", "market").get("/api/v1/inspectors/export").get_data(as_text=True)
    assert "'=HYPERLINK" in body


def test_inspector_tokens_carry_the_team_scope(staff):
    me = staff["market"][0]["id"]
    inspector = Principal(role="inspector", inspector_id=me, department_code="market")
    assert allows(inspector, "tasks.read", departments=["market"], team=[me, 99])
    assert not allows(inspector, "tasks.read", departments=["market"], team=[98, 99])
    assert allows(inspector, "results.record", team=[me])
    # published results are public, so every role that reads results sees them
    assert allows(Principal(role="department_operator", department_code="commerce"), "results.read",
                  departments=["market"], published=True)
    assert not allows(Principal(role="department_operator", department_code="commerce"), "results.read",
                      departments=["market"])
    # ... but publication never opens a change
    assert not allows(Principal(role="department_operator", department_code="commerce"), "results.review",
                      departments=["market"], published=True)


def test_logs_redact_phone_and_certificate_numbers(caplog):
    log = logging.getLogger("gateway.test")
    with caplog.at_level(logging.INFO, logger="gateway.test"):
        from gateway.security.redact import install_log_redaction

        install_log_redaction()
        log.info("calling %s about certificate %s (USCC %s)", "13912340001", "4108238800001", "91410823MA44XXXX1X")
        try:
            raise ValueError("phone 13912340002 rejected")
        except ValueError:
            log.exception("failed for 0391-7221234")
    text = caplog.text
    for number in ("13912340001", "4108238800001", "13912340002", "0391-7221234"):
        assert number not in text
    assert "[redacted]" in text and "91410823MA44XXXX1X" in text
