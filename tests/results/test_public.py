"""The public query (article 21): without logging in, by USCC or name, only what is published,
and nothing of inspectors beyond their department."""
from __future__ import annotations

from gateway.results.models import InspectionResult


def _problem(world):
    body = world.body("oil", result_codes=["A", "D"], remarks="责令限期整改。")
    body["checklists"]["refined_oil"]["oil_invoices_records"] = "non_compliant"
    body["checklists"]["refined_oil"]["oil_problem_description"] = "进货票据不全。"
    return body


def test_public_query_by_uscc_and_name_shows_published_results_only(world, client_as):
    public = client_as("public")
    published = world.published("oil", _problem(world))
    world.dispose(published, "commerce", {"kind": "administrative_penalty", "decision_number": "武商罚决字〔2026〕7号",
                                          "decided_on": "2026-10-15", "description": "警告，责令改正。"})
    world.record("lab")  # recorded, not published: never public

    hits = public.get("/api/v1/public/targets", query_string={"q": "加油站"})
    assert hits.status_code == 200, hits.json
    assert [(h["uscc"], h["published_results"]) for h in hits.json["items"]] == [(world.targets["oil"], 1)]
    assert public.get("/api/v1/public/targets", query_string={"q": "检测"}).json["items"][0]["published_results"] == 0
    assert public.get("/api/v1/public/targets", query_string={"q": "x"}).status_code == 422

    target = public.get(f"/api/v1/public/targets/{world.targets['oil']}").json
    assert [r["id"] for r in target["results"]] == [published]
    result = target["results"][0]
    assert result["authority"] == "武陟县商务局"
    assert result["departments"] == ["武陟县商务局", "武陟县市场监督管理局"]
    assert result["result_description"] == "发现问题待后续处理：违反其他规定"
    assert result["inspection_type"] == "跨部门联合双随机抽查"
    assert [d["decision_number"] for d in result["dispositions"]] == ["武商罚决字〔2026〕7号"]
    assert target["dispositions"][0]["kind_label"] == "行政处罚"
    assert public.get(f"/api/v1/public/targets/{world.targets['lab']}").json["results"] == []

    by_uscc = public.get("/api/v1/public/results", query_string={"q": world.targets["oil"].lower()}).json
    assert [r["id"] for r in by_uscc["items"]] == [published]
    assert public.get("/api/v1/public/results", query_string={"q": "覃怀检测"}).json["total"] == 0
    assert public.get(f"/api/v1/public/results/{published}").status_code == 200
    with world.gateway.read() as session:
        unpublished = session.query(InspectionResult).filter(InspectionResult.status != "published").one().id
    assert public.get(f"/api/v1/public/results/{unpublished}").status_code == 404
    assert public.get("/api/v1/public/dispositions", query_string={"q": "沁河"}).json["total"] == 1


def test_public_plans_matters_and_drawn_tasks(world, client_as):
    public = client_as("public")
    plans = public.get("/api/v1/public/plans", query_string={"year": 2026}).json
    assert [p["number"] for p in plans["items"]] == [world.plan_number]
    plan = public.get(f"/api/v1/public/plans/{world.plan_id}").json
    assert plan["task_count"] == 3 and plan["kind_label"] == "跨部门联合抽查计划"
    assert [m["code"] for m in plan["matters"]] == ["refined_oil", "testing_bodies", "crop_seed"]
    tasks = public.get(plan["links"]["tasks"]).json
    assert [t["target"]["uscc"] for t in tasks["items"]] == [world.targets[k] for k in ("oil", "lab", "seed")]
    assert tasks["items"][1]["departments"] == ["武陟县市场监督管理局", "武陟县环境保护局"]
    assert "members" not in tasks["items"][1] and "inspectors" not in tasks["items"][1]
    matters = public.get("/api/v1/public/matters").json
    assert {m["code"] for m in matters} == set(world.gateway.registry.matters) >= {"refined_oil", "crop_seed", "work_safety", "testing_bodies"}
    oil = next(m for m in matters if m["code"] == "refined_oil")
    assert oil["cooperating_department_names"] == ["武陟县市场监督管理局"]
    # a draft plan is not public
    from gateway.planning.models import Plan

    with world.gateway.write() as session:
        session.get(Plan, world.plan_id).status = "draft"
    assert public.get(f"/api/v1/public/plans/{world.plan_id}").status_code == 404
    assert public.get("/api/v1/public/plans").json["total"] == 0


def test_internal_endpoints_send_the_public_to_the_public_query(world, client_as):
    published = world.published("oil")
    public = client_as("public")
    for url in (f"/api/v1/results/{published}", "/api/v1/results", f"/api/v1/tasks/{world.tasks['oil']}/results",
                f"/api/v1/results/{published}/dispositions", "/api/v1/results/overdue",
                f"/api/v1/targets/{world.targets['oil']}/credit", "/api/v1/stats", "/api/v1/exports/results"):
        assert public.get(url).status_code == 401, url
    # someone outside the task's departments reads a published result without the people in it
    other = client_as("department_head", department="agriculture").get(f"/api/v1/results/{published}").json
    assert other["recorded_by"] == "" and other["signature"]["signer_name"] == ""
    own = client_as("department_head", department="commerce").get(f"/api/v1/results/{published}").json
    assert own["recorded_by"].endswith(world.names["c1"]) and own["signature"]["signer_name"] == "周建华"
    # the full read (names of the recorder and the signer) is audited; the redacted one is not
    from sqlalchemy import select

    from gateway.security.audit import AuditEntry

    with world.gateway.read() as session:
        reads = session.scalars(select(AuditEntry).where(AuditEntry.action == "results.read_personal")).all()
        assert [(e.actor_department, e.entity_id) for e in reads] == [("commerce", str(published))]
