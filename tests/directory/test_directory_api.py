"""The directories' API: create, read, update, deactivate, search; errors name the field."""
from __future__ import annotations

from gateway.demo.generate import make_uscc

OIL = "成品油经营批准证书"


def target_body(serial: int, **overrides) -> dict:
    body = {
        "uscc": make_uscc("enterprise", serial),
        "name": f"武陟县测试{serial}有限公司",
        "type": "enterprise",
        "township": "木城街道",
        "business_scope": "成品油零售；日用百货销售",
        "licences": [OIL],
        "risk_class": "B",
    }
    body.update(overrides)
    return body


def inspector_body(serial: int, department: str = "market", **overrides) -> dict:
    body = {
        "department_code": department,
        "name": f"张{serial}",
        "gender": "male",
        "certificate_no": f"41082399{serial:05d}",
        "phone": "13812345678",
    }
    body.update(overrides)
    return body


def test_target_create_read_update_deactivate(client):
    created = client.post("/api/v1/targets", json=target_body(1))
    assert created.status_code == 201, created.json
    uscc = created.json["uscc"]
    assert created.json["licences"] == [OIL]

    assert client.get(f"/api/v1/targets/{uscc}").json["name"] == "武陟县测试1有限公司"
    patched = client.patch(f"/api/v1/targets/{uscc}", json={"risk_class": "D", "abnormal_list": True,
                                                            "reason_code": "credit_reclassified"})
    assert patched.status_code == 200
    assert (patched.json["risk_class"], patched.json["abnormal_list"]) == ("D", True)
    gone = client.post(f"/api/v1/targets/{uscc}/deactivate", query_string={"reason_code": "business_closed"})
    assert gone.json["active"] is False
    assert client.get("/api/v1/targets", query_string={"active": "true"}).json["total"] == 0


def test_bad_uscc_is_refused_naming_the_field(client):
    valid = make_uscc("enterprise", 2)
    wrong_check = valid[:-1] + ("1" if valid[-1] != "1" else "2")
    bad = target_body(2, uscc=wrong_check)
    response = client.post("/api/v1/targets", json=bad)
    assert response.status_code == 422
    assert response.json["code"] == "validation_error"
    assert "uscc" in response.json["errors"]
    assert "校验位" in response.json["errors"]["uscc"][0]
    assert client.get("/api/v1/targets").json["total"] == 0


def test_missing_required_fields_are_named_in_chinese(client):
    response = client.post("/api/v1/targets", json={"uscc": make_uscc("enterprise", 3)})
    assert response.status_code == 422
    assert set(response.json["errors"]) >= {"name", "type"}
    assert response.json["errors"]["name"] == ["缺少必填字段。"]


def test_duplicate_uscc_gets_409(client):
    assert client.post("/api/v1/targets", json=target_body(4)).status_code == 201
    again = client.post("/api/v1/targets", json=target_body(4))
    assert again.status_code == 409
    assert again.json["code"] == "duplicate_uscc"
    assert "uscc" in again.json["errors"]


def test_target_search_filters(client):
    client.post("/api/v1/targets", json=target_body(10))
    client.post("/api/v1/targets", json=target_body(11, township="詹店镇", licences=[], business_scope="种子销售",
                                                  risk_class="D", serious_violation_list=True,
                                                  reason_code="credit_reclassified"))
    client.post("/api/v1/targets", json=target_body(12, type="individual_business", uscc=make_uscc("individual_business", 12),
                                                  licences=[], business_scope="百货零售", abnormal_list=True,
                                                  reason_code="listing_decision"))

    def total(**query):
        return client.get("/api/v1/targets", query_string=query).json["total"]

    assert total() == 3
    assert total(township="詹店镇") == 1
    assert total(type="individual_business") == 1
    assert total(licence=OIL) == 1
    assert total(scope="种子") == 1
    assert total(risk_class="D") == 1
    assert total(list="abnormal") == 1
    assert total(list="serious_violation") == 1
    assert total(level="county") == 3
    assert total(q="测试11") == 1
    page = client.get("/api/v1/targets", query_string={"page_size": 2, "page": 2}).json
    assert (page["total"], len(page["items"]), page["page"]) == (3, 1, 2)


def test_bad_query_argument_is_422(client):
    response = client.get("/api/v1/targets", query_string={"risk_class": "Z"})
    assert response.status_code == 422
    assert "risk_class" in response.json["errors"]


def test_inspector_lifecycle_and_masking(client):
    created = client.post("/api/v1/inspectors", json=inspector_body(1))
    assert created.status_code == 201, created.json
    inspector_id = created.json["id"]
    listing = client.get("/api/v1/inspectors", query_string={"department": "market"}).json
    assert listing["total"] == 1
    item = listing["items"][0]
    assert item["phone"] == "138****5678"
    assert item["certificate_no"].endswith("0001") and "4108239900001" not in str(listing)
    patched = client.patch(f"/api/v1/inspectors/{inspector_id}", json={"position": "科长"})
    assert patched.json["position"] == "科长"
    assert client.post(f"/api/v1/inspectors/{inspector_id}/deactivate").json["active"] is False
    assert client.get("/api/v1/inspectors", query_string={"active": "true"}).json["total"] == 0


def test_duplicate_certificate_number_is_409_naming_the_field(client):
    assert client.post("/api/v1/inspectors", json=inspector_body(5)).status_code == 201
    response = client.post("/api/v1/inspectors", json=inspector_body(6, certificate_no="4108239900005"))
    assert response.status_code == 409
    assert "certificate_no" in response.json["errors"]


def test_inspector_of_unknown_department_is_refused(client):
    response = client.post("/api/v1/inspectors", json=inspector_body(7, department="tax"))
    assert response.status_code == 422
    assert "department_code" in response.json["errors"]


def test_inspector_bad_phone_and_gender(client):
    response = client.post("/api/v1/inspectors", json=inspector_body(8, phone="12345", gender="x"))
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"phone", "gender"}


def test_conflict_declaration(client):
    uscc = client.post("/api/v1/targets", json=target_body(20)).json["uscc"]
    inspector_id = client.post("/api/v1/inspectors", json=inspector_body(20)).json["id"]
    body = {"inspector_id": inspector_id, "uscc": uscc, "reason": "近亲属在该单位任职"}
    assert client.post("/api/v1/conflicts", json=body).status_code == 201
    assert client.post("/api/v1/conflicts", json=body).status_code == 409
    assert client.get("/api/v1/conflicts").json["items"][0]["uscc"] == uscc


def test_unknown_target_is_404_in_chinese(client):
    response = client.get("/api/v1/targets/" + make_uscc("enterprise", 99))
    assert response.status_code == 404
    assert response.json["code"] == "not_found"
    assert "不存在" in response.json["message"]
