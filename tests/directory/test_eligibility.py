"""Who may change a target's eligibility (issue 15, item 1): the registration authority or the
county office, with a reason code; other departments propose; every change is logged."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from gateway.directory import eligibility
from gateway.directory.models import EligibilityChange
from gateway.plugins import Department, hookimpl
from gateway.plugins.manager import PluginError, build_plugin_manager, load_registry
from tests.directory.test_directory_api import target_body


def _create(client_as, serial: int = 1) -> str:
    created = client_as("county_office").post("/api/v1/targets", json=target_body(serial))
    assert created.status_code == 201, created.json
    return created.json["uscc"]


def _changes(gateway, uscc: str) -> list[tuple]:
    with gateway.read() as session:
        rows = session.scalars(select(EligibilityChange).where(EligibilityChange.uscc == uscc)
                               .order_by(EligibilityChange.id))
        return [(c.field, c.old_value, c.new_value, c.reason_code, c.source, c.actor_role, c.actor_department)
                for c in rows]


def test_another_department_cannot_change_eligibility_but_may_change_other_fields(client_as, gateway):
    uscc = _create(client_as)
    agriculture = client_as("department_operator", "agriculture")
    for body in ({"risk_class": "D"}, {"status": "closed"}, {"abnormal_list": True}, {"active": False}):
        refused = agriculture.patch(f"/api/v1/targets/{uscc}", json={**body, "reason_code": "duplicate_or_error"})
        assert refused.status_code == 403, body
        assert refused.json["code"] == "eligibility_owner_only"
    deactivate = agriculture.post(f"/api/v1/targets/{uscc}/deactivate", query_string={"reason_code": "business_closed"})
    assert deactivate.status_code == 403
    target = client_as("county_office").get(f"/api/v1/targets/{uscc}").json
    assert (target["risk_class"], target["status"], target["abnormal_list"], target["active"]) == ("B", "operating", False, True)
    # An unchanged value is no change; other fields keep today's rules.
    moved = agriculture.patch(f"/api/v1/targets/{uscc}", json={"address": "木城街道1号", "risk_class": "B"})
    assert moved.status_code == 200 and moved.json["address"] == "木城街道1号"
    assert _changes(gateway, uscc) == []


def test_the_registration_authority_changes_with_a_reason_and_every_change_is_logged(client_as, gateway):
    uscc = _create(client_as)
    market = client_as("department_operator", "market")
    missing = market.patch(f"/api/v1/targets/{uscc}", json={"risk_class": "D", "address": "新址"})
    assert missing.status_code == 422
    assert "reason_code" in missing.json["errors"]
    unknown = market.patch(f"/api/v1/targets/{uscc}", json={"risk_class": "D", "reason_code": "because"})
    assert unknown.status_code == 422 and "reason_code" in unknown.json["errors"]
    # Nothing half-written: the address went with the refused change.
    assert client_as("county_office").get(f"/api/v1/targets/{uscc}").json["address"] == ""

    ok = market.patch(f"/api/v1/targets/{uscc}", json={"risk_class": "D", "reason_code": "credit_reclassified"})
    assert ok.status_code == 200 and ok.json["risk_class"] == "D"
    office = client_as("county_office")
    gone = office.post(f"/api/v1/targets/{uscc}/deactivate", query_string={"reason_code": "out_of_jurisdiction"})
    assert gone.status_code == 200 and gone.json["active"] is False
    assert _changes(gateway, uscc) == [
        ("risk_class", "B", "D", "credit_reclassified", "api", "department_operator", "market"),
        ("active", "true", "false", "out_of_jurisdiction", "api", "county_office", ""),
    ]
    log = office.get(f"/api/v1/targets/{uscc}/eligibility-changes").json
    assert log["total"] == 2
    assert log["items"][0]["reason_label"] == "不属于本县监管范围"
    assert log["items"][1]["field_label"] == "信用风险分类"


def test_a_new_target_with_other_than_default_eligibility_is_a_change_of_the_owner(client_as, gateway):
    body = target_body(3, risk_class="D", reason_code="credit_reclassified")
    refused = client_as("department_head", "agriculture").post("/api/v1/targets", json=body)
    assert refused.status_code == 403
    assert client_as("county_office").get(f"/api/v1/targets/{body['uscc']}").status_code == 404
    created = client_as("department_head", "market").post("/api/v1/targets", json=body)
    assert created.status_code == 201 and created.json["risk_class"] == "D"
    assert _changes(gateway, created.json["uscc"]) == [
        ("risk_class", "B", "D", "credit_reclassified", "api", "department_head", "market")]


def test_other_departments_propose_and_the_owner_decides(client_as, gateway):
    uscc = _create(client_as)
    agriculture = client_as("department_head", "agriculture")
    url = f"/api/v1/targets/{uscc}/eligibility-proposals"
    bad = agriculture.post(url, json={"field": "risk_class", "value": "E", "reason_code": "credit_reclassified"})
    assert bad.status_code == 422 and "value" in bad.json["errors"]
    no_reason = agriculture.post(url, json={"field": "status", "value": "closed"})
    assert no_reason.status_code == 422 and "reason_code" in no_reason.json["errors"]
    proposed = agriculture.post(url, json={"field": "status", "value": "closed", "reason_code": "business_closed",
                                           "note": "现场核查已停业"})
    assert proposed.status_code == 201, proposed.json
    assert (proposed.json["status_label"], proposed.json["field_label"]) == ("待决定", "登记状态")
    again = agriculture.post(url, json={"field": "status", "value": "revoked", "reason_code": "registration_change"})
    assert again.status_code == 409
    proposal = proposed.json["id"]

    decision = f"/api/v1/eligibility-proposals/{proposal}/decision"
    assert agriculture.post(decision, json={"accept": True, "note": "同意"}).status_code == 403
    assert client_as("department_head", "market").post(decision, json={"accept": True, "note": ""}).status_code == 422
    assert client_as("county_office").get(f"/api/v1/targets/{uscc}").json["status"] == "operating"
    accepted = client_as("department_head", "market").post(decision, json={"accept": True, "note": "经核实"})
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    assert client_as("county_office").get(f"/api/v1/targets/{uscc}").json["status"] == "closed"
    assert _changes(gateway, uscc) == [
        ("status", "operating", "closed", "business_closed", "proposal", "department_head", "market")]
    assert client_as("department_head", "market").post(decision, json={"accept": False, "note": "再议"}).status_code == 409
    listed = client_as("supervisor").get("/api/v1/eligibility-proposals", query_string={"status": "accepted"}).json
    assert [item["id"] for item in listed["items"]] == [proposal]


def test_the_log_is_append_only(client_as, gateway):
    uscc = _create(client_as)
    client_as("county_office").patch(f"/api/v1/targets/{uscc}", json={"risk_class": "A", "reason_code": "credit_reclassified"})
    with pytest.raises(RuntimeError, match="append-only"):
        with gateway.write() as session:
            session.scalar(select(EligibilityChange)).reason_code = "risk_rule"
    with pytest.raises(RuntimeError, match="append-only"):
        with gateway.write() as session:
            session.delete(session.scalar(select(EligibilityChange)))
    assert len(_changes(gateway, uscc)) == 1


def test_the_registration_authority_comes_from_the_installed_plugins(gateway):
    assert gateway.registry.registration_authority == "market"
    with gateway.read() as session:
        assert eligibility.registration_authority(session) == "market"
        assert eligibility.owner_departments(session) == ["market"]


def _department_plugin(code: str, authority: bool):
    class Plugin:
        @hookimpl
        def gateway_department(self):
            return Department(code=code, name=f"{code} 局", registration_authority=authority)

    return Plugin()


def test_two_registration_authorities_are_refused_at_start_up():
    pm = build_plugin_manager(load_entry_points=False, extra_plugins=[
        ("one", _department_plugin("one", True)), ("two", _department_plugin("two", True))])
    with pytest.raises(PluginError, match="登记机关"):
        load_registry(pm)
    none = build_plugin_manager(load_entry_points=False, extra_plugins=[("one", _department_plugin("one", False))])
    assert load_registry(none).registration_authority is None


# ------------------------------------------------------------------------------------ the import

def _import(client, rows: list[list[str]]):
    from tests.directory.test_import import csv_bytes

    header = ["统一社会信用代码", "名称", "主体类型", "信用风险分类", "经营异常名录", "变更原因"]
    data = {"file": (io.BytesIO(csv_bytes(header, rows)), "targets.csv")}
    return client.post("/api/v1/imports/targets", data=data, content_type="multipart/form-data")


def test_an_import_that_changes_eligibility_needs_a_reason_per_row_and_the_owner(client_as, gateway):
    first, second = _create(client_as, 1), _create(client_as, 2)
    new = target_body(3)["uscc"]
    rows = [[first, "武陟县测试1有限公司", "企业", "D", "否", ""],             # a change without a reason
            [second, "武陟县测试2有限公司", "企业", "B", "是", "原因不明"],    # a reason not on the list
            [new, "武陟县测试3有限公司", "企业", "C", "否", ""]]               # a new target: no change
    office = client_as("county_office")
    refused = _import(office, rows)
    assert refused.status_code == 422, refused.json
    errors = {(e["row"], e["field"]) for e in refused.json["errors"]}
    assert errors == {(2, "reason_code"), (3, "reason_code")}
    assert office.get(f"/api/v1/targets/{first}").json["risk_class"] == "B"

    rows[0][5], rows[1][5] = "credit_reclassified", "登记机关列入或移出名录的决定"
    by_agriculture = _import(client_as("department_operator", "agriculture"), rows)
    assert by_agriculture.status_code == 422
    assert {e["row"] for e in by_agriculture.json["errors"]} == {2, 3}
    assert "请提出变更提议" in by_agriculture.json["errors"][0]["message"]

    done = _import(client_as("department_operator", "market"), rows)
    assert done.status_code == 200, done.json
    assert office.get(f"/api/v1/targets/{first}").json["risk_class"] == "D"
    assert _changes(gateway, first) == [("risk_class", "B", "D", "credit_reclassified", "import", "department_operator", "market")]
    assert _changes(gateway, second) == [("abnormal_list", "false", "true", "listing_decision", "import",
                                          "department_operator", "market")]
    assert _changes(gateway, new) == []


# ------------------------------------------------------------------------------------ the console

def test_the_console_page_carries_a_proposal_and_the_owners_decision(client_as, gateway):
    uscc = _create(client_as)
    agriculture = client_as("department_operator", "agriculture")
    form = {"uscc": uscc, "field": "risk_class", "value": "D", "reason_code": "credit_reclassified", "note": "多次投诉"}
    assert agriculture.post("/console/directory/eligibility/proposals", data={**form, "reason_code": ""}).status_code == 302
    assert "没有待决定的提议" in agriculture.get("/console/directory/eligibility").get_data(as_text=True)
    assert agriculture.post("/console/directory/eligibility/proposals", data=form).status_code == 302
    page = agriculture.get("/console/directory/eligibility").get_data(as_text=True)
    assert "信用风险分类 → D" in page and "信用风险分类调整" in page and "采纳" not in page.split("<tbody>")[1]

    market = client_as("department_head", "market")
    page = market.get("/console/directory/eligibility").get_data(as_text=True)
    assert 'value="accept"' in page
    with gateway.read() as session:
        proposal = session.scalar(select(eligibility.EligibilityProposal.id))
    assert agriculture.post(f"/console/directory/eligibility/{proposal}/decision",
                            data={"decision": "accept", "note": "同意"}).status_code == 403
    assert market.post(f"/console/directory/eligibility/{proposal}/decision",
                       data={"decision": "accept", "note": "经核实"}).status_code == 302
    assert client_as("county_office").get(f"/api/v1/targets/{uscc}").json["risk_class"] == "D"
    assert _changes(gateway, uscc) == [("risk_class", "B", "D", "credit_reclassified", "proposal", "department_head", "market")]
