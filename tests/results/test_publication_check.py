"""The publication check (issue 14, item 3): free text that becomes public carries no phone number,
resident ID number, nor any inspector's certificate number or name; refused beside the field, through
the API and the pages, when saved and again when published."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from gateway.directory.models import Inspector
from gateway.planning.models import Plan
from gateway.results.models import InspectionResult
from gateway.security.disclosure import (
    CERTIFICATE_MESSAGE,
    NAME_MESSAGE,
    PHONE_MESSAGE,
    RESIDENT_ID_MESSAGE,
    personal_data_problems,
)
from tests.planning.test_plans import api_body

RESIDENT_ID = "11010519491231002X"  # the standard's own example, valid check digit


def _certificate(world, key: str) -> str:
    with world.gateway.read() as session:
        return session.get(Inspector, world.inspectors[key]).certificate_no


def _leaks(world) -> dict[str, tuple[str, str]]:
    return {
        "mobile": ("联系人电话 138 1234 5678，请回访。", PHONE_MESSAGE),
        "landline": ("办公电话（0391）7221234。", PHONE_MESSAGE),
        "resident_id": (f"负责人身份证 {RESIDENT_ID}。", RESIDENT_ID_MESSAGE),
        "certificate": (f"检查人员证号{_certificate(world, 'm1')}。", CERTIFICATE_MESSAGE),
        "name": (f"由{world.names['c1']}现场检查。", NAME_MESSAGE),
    }


@pytest.mark.parametrize("kind", ["mobile", "landline", "resident_id", "certificate", "name"])
def test_result_remarks_with_personal_data_are_refused_beside_the_field(world, client_as, kind):
    text, message = _leaks(world)[kind]
    inspector = client_as("inspector", inspector_id=world.inspectors["c1"])
    response = inspector.post(f"/api/v1/tasks/{world.tasks['oil']}/results", json=world.body("oil", remarks=text))
    assert response.status_code == 422
    assert response.json["errors"]["remarks"] == [message]
    body = response.get_data(as_text=True)
    assert text not in body and world.names["c1"] not in body.replace(text, "")
    with world.gateway.read() as session:
        assert session.scalar(select(InspectionResult.id)) is None


def test_codes_dates_and_numbers_that_are_not_personal_pass(world, client_as):
    uscc = world.targets["oil"]
    text = (f"统一社会信用代码 {uscc}，依据武商罚决字〔2026〕3号，2026-10-09 复查；储罐 12 个，"
            f"油品 20261009001 批次，价格 7.85 元。")
    with world.gateway.read() as session:
        assert personal_data_problems(session, {"remarks": text}) == {}
    inspector = client_as("inspector", inspector_id=world.inspectors["c1"])
    response = inspector.post(f"/api/v1/tasks/{world.tasks['oil']}/results", json=world.body("oil", remarks=text))
    assert response.status_code == 201, response.json


def test_a_correction_reason_is_checked_too(world, client_as):
    result_id = world.published("oil")
    inspector = client_as("inspector", inspector_id=world.inspectors["c1"])
    body = {**world.body("oil"), "reason": "更正：联系电话 13912345678"}
    response = inspector.post(f"/api/v1/results/{result_id}/corrections", json=body)
    assert response.status_code == 422
    assert response.json["errors"]["reason"] == [PHONE_MESSAGE]


def test_publication_refuses_text_that_slipped_in_before_the_check(world, client_as, client):
    """Text stored before this check (or by any other path) is checked again when published."""
    result_id = world.record("oil")
    world.review(result_id, "commerce")
    with world.gateway.write() as session:
        session.execute(update(InspectionResult).where(InspectionResult.id == result_id)
                        .values(remarks=f"联系{world.names['c1']}，电话13812345678"))
    head = client_as("department_head", "commerce")
    response = head.post(f"/api/v1/results/{result_id}/publish")
    assert response.status_code == 422
    assert response.json["code"] == "personal_data_in_public_text"
    assert response.json["errors"] == {"remarks": [PHONE_MESSAGE, NAME_MESSAGE]}
    assert "13812345678" not in response.get_data(as_text=True)
    assert client.get(f"/api/v1/public/results/{result_id}").status_code == 404
    with world.gateway.read() as session:
        assert session.get(InspectionResult, result_id).status == "reviewed"


def test_disposition_text_is_checked(world, client_as):
    body = world.body("oil", result_codes=["A", "D"])
    body["checklists"]["refined_oil"]["oil_internal_rules"] = "non_compliant"
    body["checklists"]["refined_oil"]["oil_problem_description"] = "未制定计量管理制度。"
    result_id = world.published("oil", body)
    operator = client_as("department_operator", "commerce")
    response = operator.post(f"/api/v1/results/{result_id}/dispositions", json={
        "kind": "transfer_to_authority", "decided_on": "2026-10-19",
        "receiving_authority": f"武陟县公安局（经办人{world.names['m1']}）",
        "description": f"已移送，当事人身份证号 {RESIDENT_ID}。"})
    assert response.status_code == 422
    assert response.json["errors"]["description"] == [RESIDENT_ID_MESSAGE]
    assert response.json["errors"]["receiving_authority"] == [NAME_MESSAGE]


def test_plan_text_is_checked_when_saved_and_when_published(gateway, client_as, client):
    office = client_as("county_office")
    response = office.post("/api/v1/plans", json=api_body(gateway, description="咨询电话 0391-7221234"))
    assert response.status_code == 422
    assert response.json["errors"]["description"] == [PHONE_MESSAGE]

    created = office.post("/api/v1/plans", json=api_body(gateway))
    assert created.status_code == 201, created.json
    plan_id = created.json["id"]
    with gateway.write() as session:
        session.execute(update(Plan).where(Plan.id == plan_id).values(description=f"联系人身份证 {RESIDENT_ID}"))
    response = office.post(f"/api/v1/plans/{plan_id}/publish")
    assert response.status_code == 422
    assert response.json["errors"] == {"description": [RESIDENT_ID_MESSAGE]}
    assert client.get("/api/v1/public/plans").json["total"] == 0


# --- the pages ------------------------------------------------------------------------------------


def _form(body: dict[str, Any]) -> dict[str, Any]:
    """A result body as the result form posts it."""
    form: dict[str, Any] = {"methods": body["methods"], "result_codes": body["result_codes"],
                            "completed_on": body["completed_on"], "remarks": body["remarks"]}
    for key, value in body["signature"].items():
        form[f"signature.{key}"] = value
    for matter, values in body["checklists"].items():
        for code, value in values.items():
            form[f"checklists.{matter}.{code}"] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return form


def test_the_result_form_shows_the_refusal_beside_remarks(world, client_as):
    inspector = client_as("inspector", inspector_id=world.inspectors["c1"])
    form = _form(world.body("oil", remarks="如有疑问请致电 13812345678"))
    response = inspector.post(f"/console/tasks/{world.tasks['oil']}/result", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'<p class="field-error" id="remarks-error">{PHONE_MESSAGE}</p>' in html
    with world.gateway.read() as session:
        assert session.scalar(select(InspectionResult.id)) is None
    form["remarks"] = "现场检查未发现问题。"
    assert inspector.post(f"/console/tasks/{world.tasks['oil']}/result", data=form).status_code == 302


def test_the_plan_form_shows_the_refusal_beside_the_description(gateway, client_as):
    body = api_body(gateway, description=f"咨询电话 0391-7221234，身份证 {RESIDENT_ID}")
    form = {k: v for k, v in body.items() if not isinstance(v, (dict, list))}
    form.update({f"ratios.{k}": str(v) for k, v in body["ratios"].items()})
    form["matters"] = body["matters"]
    response = client_as("county_office").post("/console/plans/new", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field = html[html.index('id="description-error"'):]
    field = field[:field.index("</div>")]
    assert PHONE_MESSAGE in field and RESIDENT_ID_MESSAGE in field
