"""The results API with signed-in clients: the whole workflow, field errors, who may do what."""
from __future__ import annotations

from gateway.results.models import InspectionResult


def test_the_whole_workflow_over_http(world, client_as):
    task = world.tasks["oil"]
    team = client_as("inspector", inspector_id=world.inspectors["c1"])
    outsider = client_as("inspector", inspector_id=world.inspectors["a1"])
    commerce_head = client_as("department_head", department="commerce")
    commerce_operator = client_as("department_operator", department="commerce")
    market_head = client_as("department_head", department="market")

    checklist = team.get(f"/api/v1/tasks/{task}/checklist")
    assert checklist.status_code == 200, checklist.json
    [matter] = checklist.json["matters"]
    assert {f["code"] for f in matter["fields"]} >= {"oil_licence", "mkt_oil_quality"}
    assert {c["code"] for c in checklist.json["result_codes"]} >= {"1", "A", "E"}
    assert outsider.get(f"/api/v1/tasks/{task}/checklist").status_code == 403

    bad = world.body("oil")
    del bad["checklists"]["refined_oil"]["oil_licence"]
    bad["checklists"]["refined_oil"]["oil_fuel_upgrade"] = True
    del bad["signature"]
    response = team.post(f"/api/v1/tasks/{task}/results", json=bad)
    assert response.status_code == 422
    assert response.json["code"] == "result_invalid"
    assert set(response.json["errors"]) == {"checklists.refined_oil.oil_licence",
                                            "checklists.refined_oil.oil_fuel_upgrade", "signature"}
    assert response.json["errors"]["checklists.refined_oil.oil_licence"] == ["缺少必填字段。"]
    assert "未保存任何内容" in response.json["message"]
    assert team.get(f"/api/v1/tasks/{task}/results").json == []
    assert team.post(f"/api/v1/tasks/{task}/results", data="not json").status_code == 422

    assert outsider.post(f"/api/v1/tasks/{task}/results", json=world.body("oil")).status_code == 403
    assert commerce_head.post(f"/api/v1/tasks/{task}/results", json=world.body("oil")).status_code == 403
    created = team.post(f"/api/v1/tasks/{task}/results", json=world.body("oil", completed_on="2026-05-06"))
    assert created.status_code == 201, created.json
    result = created.json
    # 20 working days after 6 May 2026: 劳动节 ends 5 May, Saturday 9 May is a make-up working day
    assert (result["status"], result["deadline"], result["deadline_provisional"]) == ("recorded", "2026-06-02", False)
    assert result["status_label"] == "已录入" and result["result_description"] == "未发现问题"

    url = f"/api/v1/results/{result['id']}"
    assert market_head.post(url + "/review", json={"approve": True}).status_code == 403
    assert commerce_head.post(url + "/review", json={"approve": False}).json["errors"] == {"note": ["退回修改时必须填写退回原因。"]}
    assert commerce_operator.post(url + "/review", json={"approve": True}).status_code == 200
    assert commerce_operator.post(url + "/publish").status_code == 403
    assert market_head.post(url + "/publish").status_code == 403
    published = commerce_head.post(url + "/publish")
    assert published.status_code == 200 and published.json["status"] == "published"

    changed = team.put(url, json=world.body("oil", remarks="改"))
    assert (changed.status_code, changed.json["code"]) == (409, "result_published")
    correction = team.post(url + "/corrections", json={**world.body("oil", completed_on="2026-05-06"),
                                                       "reason": "签字人姓名录入错误"})
    assert correction.status_code == 201, correction.json
    assert (correction.json["version"], correction.json["supersedes_id"]) == (2, result["id"])
    versions = commerce_head.get(f"/api/v1/tasks/{task}/results").json
    assert [(v["version"], v["status"]) for v in versions] == [(1, "published"), (2, "recorded")]
    listed = commerce_operator.get("/api/v1/results", query_string={"status": "recorded"}).json
    assert [r["id"] for r in listed["items"]] == [correction.json["id"]]
    assert client_as("department_operator", department="agriculture").get("/api/v1/results").json["total"] == 0
    with world.gateway.read() as session:
        assert session.get(InspectionResult, result["id"]).remarks == ""


def test_dispositions_over_http(world, client_as):
    body = world.body("oil", result_codes=["A", "D"])
    body["checklists"]["refined_oil"]["oil_licence"] = "non_compliant"
    body["checklists"]["refined_oil"]["oil_problem_description"] = "批准证书已过期。"
    result_id = world.published("oil", body)
    operator = client_as("department_operator", department="commerce")
    head = client_as("department_head", department="commerce")
    kinds = client_as("public").get("/api/v1/disposition-kinds").json
    assert {"code": "administrative_penalty", "label": "行政处罚", "needs": ["decision_number"]} in kinds
    missing = operator.post(f"/api/v1/results/{result_id}/dispositions",
                            json={"kind": "administrative_penalty", "decided_on": "2026-10-15"})
    assert missing.status_code == 422 and set(missing.json["errors"]) == {"decision_number", "description"}
    created = operator.post(f"/api/v1/results/{result_id}/dispositions", json={
        "kind": "transfer_to_authority", "receiving_authority": "焦作市商务局", "decided_on": "2026-10-15",
        "description": "涉及批准证书注销，移交发证机关处理。"})
    assert created.status_code == 201, created.json
    disposition = created.json
    assert client_as("public").get("/api/v1/public/dispositions", query_string={"q": "沁河"}).json["total"] == 0
    assert operator.post(f"/api/v1/dispositions/{disposition['id']}/publish").status_code == 403
    assert head.post(f"/api/v1/dispositions/{disposition['id']}/publish").json["status"] == "published"
    public = client_as("public").get("/api/v1/public/dispositions", query_string={"q": "沁河"}).json
    assert [d["receiving_authority"] for d in public["items"]] == ["焦作市商务局"]
    assert head.delete(f"/api/v1/dispositions/{disposition['id']}").status_code == 409
    listed = client_as("supervisor").get(f"/api/v1/results/{result_id}/dispositions").json
    assert [d["id"] for d in listed] == [disposition["id"]]
