"""Public reads: a target's inspections from every authority, a plan, a draw result, the HTML page."""
from __future__ import annotations

import requests

from mock_platform.client import PlatformHandle
from mock_platform.tests.builders import TIMEOUT, draw_result, follow_up, inspection, make_uscc, plan, push
from schemas.platform import PublicDrawResultSchema, PublicPlanSchema, TargetInspectionsSchema

USCC = make_uscc(1)


def get(platform: PlatformHandle, path: str, **params: object) -> requests.Response:
    return requests.get(platform.url(path), params=params, timeout=TIMEOUT)


def seed_other_authorities(platform: PlatformHandle) -> None:
    platform.control.seed_inspections([
        inspection(1, id="prov-1", authority="河南省市场监督管理局", authority_level="province",
                   inspection_type="department_random", completed_on="2024-03-01", result_codes=["E"]),
        inspection(1, id="city-1", authority="焦作市应急管理局", authority_level="city",
                   completed_on="2023-09-01", result_codes=["A", "D"]),
    ])


def test_a_targets_inspections_include_other_authorities_newest_first(platform: PlatformHandle) -> None:
    seed_other_authorities(platform)
    push(platform, "inspection-results", [inspection(1, result_codes=["A", "B"]), inspection(2)])
    push(platform, "follow-ups", [follow_up(1)])
    response = get(platform, f"/api/v1/public/entities/{USCC}/inspections")
    view = response.json()
    assert response.status_code == 200 and TargetInspectionsSchema().validate(view) == {}
    assert view["count"] == 3
    assert [(i["authority_level"], i["completed_on"]) for i in view["inspections"]] == [
        ("county", "2024-05-20"), ("province", "2024-03-01"), ("city", "2023-09-01"),
    ]
    ours = view["inspections"][0]
    assert ours["result_description"] == "发现问题待后续处理：未按规定公示应当公示的信息"
    assert ours["inspection_type_label"] == "跨部门联合双随机抽查"
    assert [f["disposition_label"] for f in ours["follow_ups"]] == ["行政处罚"]
    assert view["inspections"][1]["follow_ups"] == []


def test_the_year_filter_serves_the_higher_level_exclusion(platform: PlatformHandle) -> None:
    seed_other_authorities(platform)
    view = get(platform, f"/api/v1/public/entities/{USCC}/inspections", year=2024).json()
    assert [i["id"] for i in view["inspections"]] == ["prov-1"]
    assert get(platform, f"/api/v1/public/entities/{USCC}/inspections", year=1999).json()["code"] == "invalid_query"


def test_seeded_entities_are_shown_with_the_inspections(platform: PlatformHandle) -> None:
    platform.control.seed_entities([{"uscc": USCC, "name": "武陟县第1加油站有限公司", "registration_authority": "武陟县市场监督管理局", "status": "存续"}])
    view = get(platform, f"/api/v1/public/entities/{USCC.lower()}/inspections").json()
    assert view["uscc"] == USCC
    assert view["entity"]["name"] == "武陟县第1加油站有限公司" and view["entity"]["entity_type"] == "enterprise"
    assert view["count"] == 0


def test_an_invalid_uscc_is_a_400_with_the_reason(platform: PlatformHandle) -> None:
    response = get(platform, "/api/v1/public/entities/123/inspections")
    assert response.status_code == 400
    assert response.json() == {"code": "invalid_uscc", "message": "统一社会信用代码应为 18 位"}


def test_a_plan_with_its_draws(platform: PlatformHandle) -> None:
    push(platform, "plans", [plan(1)])
    push(platform, "draw-results", [draw_result(1), draw_result(2)])
    response = get(platform, "/api/v1/public/plans/WZ-2024-JOINT-01")
    view = response.json()
    assert response.status_code == 200 and PublicPlanSchema().validate(view) == {}
    assert view["plan_type_label"] == "跨部门联合抽查"
    assert [d["task_number"] for d in view["draw_results"]] == ["WZ-2024-T0001", "WZ-2024-T0002"]


def test_the_latest_version_of_a_plan_is_shown(platform: PlatformHandle) -> None:
    push(platform, "plans", [plan(1), plan(1, id="plan-1-v2", plan_name="武陟县2024年度跨部门联合抽查计划（修订）")])
    assert get(platform, "/api/v1/public/plans/WZ-2024-JOINT-01").json()["plan_name"].endswith("（修订）")


def test_a_draw_result(platform: PlatformHandle) -> None:
    push(platform, "draw-results", [draw_result(1)])
    view = get(platform, "/api/v1/public/draw-results/WZ-2024-T0001").json()
    assert PublicDrawResultSchema().validate(view) == {}
    assert view["targets"][0]["uscc"] == USCC


def test_unknown_plan_and_draw_result(platform: PlatformHandle) -> None:
    assert get(platform, "/api/v1/public/plans/none").status_code == 404
    response = get(platform, "/api/v1/public/draw-results/none")
    assert response.status_code == 404 and response.json()["code"] == "draw_result_not_found"


def test_the_html_page_lists_the_results_in_chinese(platform: PlatformHandle) -> None:
    seed_other_authorities(platform)
    platform.control.seed_entities([{"uscc": USCC, "name": "武陟县第1加油站有限公司"}])
    push(platform, "inspection-results", [inspection(1, result_codes=["A", "B"], remarks="<script>alert(1)</script>")])
    push(platform, "follow-ups", [follow_up(1)])
    response = get(platform, f"/public/entities/{USCC}")
    page = response.text
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    for text in ("抽查检查结果信息", "武陟县第1加油站有限公司", "检查实施机关", "河南省市场监督管理局（省级）",
                 "发现问题已责令改正", "发现问题待后续处理：未按规定公示应当公示的信息", "行政处罚", "武市监罚〔2024〕12号"):
        assert text in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_the_html_page_of_a_target_without_results(platform: PlatformHandle) -> None:
    assert "暂无抽查检查结果信息" in get(platform, f"/public/entities/{make_uscc(5)}").text


def test_the_html_page_explains_an_invalid_uscc(platform: PlatformHandle) -> None:
    response = get(platform, "/public/entities/xyz")
    assert response.status_code == 400 and "统一社会信用代码应为 18 位" in response.text


def test_the_openapi_document_is_served(platform: PlatformHandle) -> None:
    document = get(platform, "/api/v1/openapi.json").json()
    assert document["openapi"] == "3.0.3" and "/api/v1/inspection-results/batch" in document["paths"]
