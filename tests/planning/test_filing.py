"""Plan filing (备案, issue 16 item 5) and the public reasons for site visits (item 4)."""
from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from click.testing import CliRunner
from sqlalchemy import select

from gateway.app import create_app
from gateway.cli.main import cli
from gateway.draw.models import Draw
from gateway.planning import service
from gateway.security.audit import AuditEntry
from tests.drawdb import COUNTY, build_directory, plan_body

FILING = {"filing_number": "武司行检备〔2026〕7号", "filed_on": date.today().isoformat()}


def _published(gateway, **kwargs) -> int:
    with gateway.write() as session:
        plan = service.create_plan(session, COUNTY, plan_body(gateway, **kwargs), gateway.settings)
        service.publish_plan(session, COUNTY, plan.id, gateway.settings)
        return plan.id


def test_a_draw_of_an_unfiled_plan_is_refused_until_the_county_office_files_it(gateway, client_as):
    build_directory(gateway, per_matter=3, per_department=3)
    plan_id = _published(gateway)
    office = client_as("county_office")

    refused = office.post("/api/v1/draws", json={"plan_id": plan_id})
    assert refused.status_code == 409
    assert refused.json["code"] == "plan_not_filed"
    assert "尚未在县司法局备案，不能抽取" in refused.json["message"]
    with gateway.read() as session:
        assert session.scalar(select(Draw).where(Draw.plan_id == plan_id)) is None  # nothing half-written

    # only the county office files; a department head may not
    assert client_as("department_head").post(f"/api/v1/plans/{plan_id}/filing", json=FILING).status_code == 403
    future = {**FILING, "filed_on": (date.today() + timedelta(days=3)).isoformat()}
    too_early = office.post(f"/api/v1/plans/{plan_id}/filing", json=future)
    assert too_early.status_code == 422 and "filed_on" in too_early.json["errors"]

    filed = office.post(f"/api/v1/plans/{plan_id}/filing", json=FILING)
    assert filed.status_code == 200
    assert filed.json["filing"]["filing_number"] == FILING["filing_number"]
    assert office.post(f"/api/v1/plans/{plan_id}/filing", json=FILING).status_code == 409  # filed once
    with gateway.read() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "plans.file"))
        assert entry.entity_id == str(plan_id)

    assert office.post("/api/v1/draws", json={"plan_id": plan_id}).status_code == 201

    # the public sees the filing, on the API and on the plan's page
    public = client_as("public")
    assert public.get(f"/api/v1/public/plans/{plan_id}").json["filing"] == {
        "filing_number": FILING["filing_number"], "filed_on": FILING["filed_on"]}
    page = public.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert FILING["filing_number"] in page and "已在县司法局备案" in page


def test_with_the_setting_off_an_unfiled_plan_is_drawn(gateway, settings, auth_headers):
    build_directory(gateway, per_matter=3, per_department=3)
    plan_id = _published(gateway)
    app = create_app(dataclasses.replace(settings, draw_requires_filing=False))
    response = app.test_client().post("/api/v1/draws", json={"plan_id": plan_id},
                                      headers=auth_headers("county_office"))
    assert response.status_code == 201, response.json


def test_the_console_form_records_the_filing(gateway, client_as):
    plan_id = _published(gateway)
    office = client_as("county_office")
    assert "录入备案" in office.get(f"/console/plans/{plan_id}").get_data(as_text=True)
    assert office.post(f"/console/plans/{plan_id}/filing", data=FILING).status_code == 302
    page = office.get(f"/console/plans/{plan_id}").get_data(as_text=True)
    assert FILING["filing_number"] in page and "录入备案" not in page


def test_a_site_visit_for_a_matter_checkable_off_site_states_a_public_reason(gateway, client_as):
    non_site = [code for code, m in gateway.registry.matters.items() if m.non_site_methods]
    on_site = [code for code, m in gateway.registry.matters.items() if not m.non_site_methods]
    assert non_site and on_site  # the emergency plugin marks work safety as checkable by written check
    office = client_as("county_office")
    body = plan_body(gateway)
    for key in ("window_start", "window_end"):
        body[key] = body[key].isoformat()

    wrong = office.post("/api/v1/plans", json={**body, "site_visit_reasons": {on_site[0]: "需要现场"}})
    assert wrong.status_code == 422
    assert f"site_visit_reasons.{on_site[0]}" in wrong.json["errors"]

    reason = "该单位上年度发生生产安全事故，需现场核查隐患整改情况"
    created = office.post("/api/v1/plans", json={**body, "site_visit_reasons": {non_site[0]: reason}})
    assert created.status_code == 201
    by_code = {m["code"]: m for m in created.json["matters"]}
    assert by_code[non_site[0]]["site_visit"] is True and by_code[non_site[0]]["site_visit_reason"] == reason
    assert by_code[non_site[0]]["non_site_methods"] == list(gateway.registry.matters[non_site[0]].non_site_methods)
    assert by_code[on_site[0]]["site_visit"] is True and by_code[on_site[0]]["site_visit_reason"] == ""

    without = office.post("/api/v1/plans", json=body).json
    assert {m["code"]: m["site_visit"] for m in without["matters"]}[non_site[0]] is False

    plan_id = created.json["id"]
    assert office.post(f"/api/v1/plans/{plan_id}/publish").status_code == 200
    public = client_as("public")
    matters = {m["code"]: m for m in public.get(f"/api/v1/public/plans/{plan_id}").json["matters"]}
    assert matters[non_site[0]]["site_visit_reason"] == reason
    assert reason in public.get(f"/plans/{plan_id}").get_data(as_text=True)


def test_the_command_line_files_a_plan(gateway, settings):
    plan_id = _published(gateway)
    base = ["--database-url", settings.database_url, "--instance", str(settings.instance_path), "plan", "file",
            str(plan_id), "--number", FILING["filing_number"]]
    bad = CliRunner().invoke(cli, [*base, "--on", "昨天"])
    assert bad.exit_code == 1 and "filed_on" in bad.output
    done = CliRunner().invoke(cli, [*base, "--on", FILING["filed_on"]])
    assert done.exit_code == 0, done.output
    assert f"已备案：{FILING['filing_number']}" in done.output
