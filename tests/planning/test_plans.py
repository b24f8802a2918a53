"""Plans (articles 11, 12): numbers, pinned matter versions, ratios, publication, immutability, amendment."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from gateway.api.errors import status_of
from gateway.directory.models import MatterVersion
from gateway.errors import DomainError
from gateway.planning import service
from gateway.planning.models import Plan
from gateway.planning.numbering import county_short_name, department_mark
from gateway.security.audit import AuditEntry
from gateway.security.principal import Principal
from gateway.sync.models import OutboxRecord
from tests.drawdb import COUNTY, YEAR, complete_draw, plan_body, published_plan


def create(gateway, principal=COUNTY, **kwargs):
    with gateway.write() as session:
        plan = service.create_plan(session, principal, plan_body(gateway, **kwargs), gateway.settings)
        return service.plan_dict(session, plan)


def test_numbers_follow_the_official_style_and_count_per_year_and_kind(gateway):
    first = create(gateway)
    second = create(gateway)
    other_year = create(gateway, year=YEAR + 1)
    lead = gateway.registry.matters["refined_oil"].department_code
    annual = create(gateway, kind="annual", matters=["refined_oil"], lead=lead)
    assert first["number"] == f"武陟联抽〔{YEAR}〕1号"
    assert second["number"] == f"武陟联抽〔{YEAR}〕2号"
    assert other_year["number"] == f"武陟联抽〔{YEAR + 1}〕1号"
    short = gateway.registry.departments[lead].short_name
    assert annual["number"] == f"武陟{department_mark(short)}抽〔{YEAR}〕1号"
    assert {first["version"], annual["version"]} == {1}


def test_a_draft_moved_to_another_year_takes_that_year_s_number(gateway):
    first = create(gateway)
    with gateway.write() as session:
        plan = service.update_plan(session, COUNTY, first["id"], {
            "year": YEAR + 1, "window_start": date(YEAR + 1, 4, 1), "window_end": date(YEAR + 1, 5, 1)},
            gateway.settings)
        assert plan.number == f"武陟联抽〔{YEAR + 1}〕1号"


def test_number_prefix_is_derived_from_names_only():
    assert county_short_name("武陟县") == "武陟"
    assert department_mark("县商务局") == "商"
    assert department_mark("", "武陟县农业农村局", "武陟县") == "农"
    assert department_mark("市场监管局") == "市"
    assert department_mark("县市场监管局") == "市"
    assert department_mark("市商务局", level="city") == "商"


def test_matters_are_pinned_to_their_current_version_and_strata_use_the_minimum(gateway):
    plan = create(gateway, ratios={"A": "0.01", "B": "0.2", "C": "0.3", "D": "1"})
    with gateway.read() as session:
        current = {v.code: v.id for v in session.scalars(select(MatterVersion).where(MatterVersion.current.is_(True)))}
    assert {m["code"]: m["matter_version_id"] for m in plan["matters"]} == current
    by_key = {s["key"]: s for s in plan["strata"]}
    for matter in plan["matters"]:
        minimum = gateway.registry.matters[matter["code"]].min_ratio
        stratum = by_key[f"{matter['code']}:A"]
        assert stratum["plan_ratio"] == "0.01"
        assert stratum["ratio"] == str(max(minimum, minimum.__class__("0.01")).normalize())
        assert by_key[f"{matter['code']}:D"]["ratio"] == "1"
        assert by_key[f"{matter['code']}:key"]["ratio"] == "1"  # key targets: all of them by default
    assert len(plan["strata"]) == 5 * len(plan["matters"])


def test_joint_plan_lists_every_department_taking_part(gateway):
    plan = create(gateway)
    registry = gateway.registry
    expected = {m.department_code for m in registry.matters.values()}
    expected |= {d for code in registry.matters for d in registry.cooperating_departments(code)}
    assert {plan["lead_department"], *plan["cooperating_departments"]} == expected
    assert plan["lead_department"] not in plan["cooperating_departments"]


INVALID = [
    ({"kind": "annual", "matters": ["refined_oil", "crop_seed"]}, "matters"),
    ({"matters": ["no_such_matter"]}, "matters"),
    ({"lead_department": "no_such_department"}, "lead_department"),
    ({"window_start": date(YEAR - 1, 12, 1)}, "window_start"),
    ({"window_end": date(YEAR, 3, 1), "window_start": date(YEAR, 4, 1)}, "window_end"),
    ({"kind": "annual", "matters": ["refined_oil"], "cooperating_departments": ["market"]}, "cooperating_departments"),
]


def test_invalid_plans_are_refused_naming_the_field_and_nothing_is_written(gateway):
    for overrides, field in INVALID:
        if overrides.get("kind") == "annual":
            overrides = {**overrides, "lead": gateway.registry.matters["refined_oil"].department_code}
        with pytest.raises(DomainError) as caught, gateway.write() as session:
            service.create_plan(session, COUNTY, plan_body(gateway, **overrides), gateway.settings)
        assert status_of(caught.value) == 422
        assert field in caught.value.errors, (overrides, caught.value.errors)
    with gateway.read() as session:
        assert session.scalar(select(Plan.id)) is None


def test_publication_after_march_is_recorded_as_late_and_enqueued(gateway):
    on_time = create(gateway)
    late = create(gateway)
    with gateway.write() as session:
        plan, warnings = service.publish_plan(session, COUNTY, on_time["id"], gateway.settings,
                                              now=datetime(YEAR, 3, 31, 15, 59))  # 23:59 in China
        assert not plan.published_late and warnings == []
        plan, warnings = service.publish_plan(session, COUNTY, late["id"], gateway.settings,
                                              now=datetime(YEAR, 3, 31, 16, 0))  # 1 April in China
        assert plan.published_late and "逾期" in warnings[0]
    with gateway.read() as session:
        rows = session.scalars(select(OutboxRecord).where(OutboxRecord.kind == "plan")).all()
        assert sorted(r.entity_id for r in rows) == sorted([on_time["id"], late["id"]])
        actions = session.scalars(select(AuditEntry.action)).all()
        assert actions.count("plans.publish") == 2 and actions.count("plans.create") == 2


def test_published_plan_is_immutable_and_amended_by_a_new_version(gateway):
    plan_id = published_plan(gateway)
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        service.update_plan(session, COUNTY, plan_id, {"title": "改过的标题"})
    assert status_of(caught.value) == 409
    with gateway.write() as session:
        amended = service.amend_plan(session, COUNTY, plan_id, {"reason": "窗口期调整", "window_end": date(YEAR, 12, 15)})
        amended_id, number = amended.id, amended.number
        with pytest.raises(DomainError) as pending:
            service.amend_plan(session, COUNTY, plan_id, {"reason": "再改一次"})
        assert pending.value.code == "amendment_pending"
    with gateway.write() as session:
        service.publish_plan(session, COUNTY, amended_id, gateway.settings)
    with gateway.read() as session:
        old, new = session.get(Plan, plan_id), session.get(Plan, amended_id)
        assert (old.status, new.status) == ("superseded", "published")
        assert (new.number, new.version, new.amends_id, new.amend_reason) == (number, 2, plan_id, "窗口期调整")
        assert new.window_end == date(YEAR, 12, 15) and old.window_end == date(YEAR, 11, 30)
        assert service.plan_dict(session, old)["superseded_by_id"] == amended_id
        assert [m.matter_version_id for m in new.matters] == [m.matter_version_id for m in old.matters]


def test_a_drawn_plan_is_amended_by_a_new_version_and_its_draw_stays_public(gateway):
    from gateway.draw.models import Draw
    from tests.drawdb import build_directory

    build_directory(gateway, per_matter=4)
    plan_id = published_plan(gateway)
    draw_id = complete_draw(gateway, plan_id)
    with gateway.write() as session:
        amended = service.amend_plan(session, COUNTY, plan_id, {"reason": "抽取后发现计划有误"})
        service.publish_plan(session, COUNTY, amended.id, gateway.settings)
    with gateway.read() as session:
        draw = session.get(Draw, draw_id)
        assert (draw.status, draw.plan_id) == ("drawn", plan_id) and draw.record is not None


def test_department_heads_write_only_their_own_department_plans(gateway):
    lead = gateway.registry.matters["refined_oil"].department_code
    head = Principal(role="department_head", name="局长", department_code=lead)
    mine = create(gateway, principal=head, kind="annual", matters=["refined_oil"], lead=lead)
    assert mine["created_by"].endswith("局长")
    other = next(code for code in gateway.registry.departments if code != lead)
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        service.publish_plan(session, Principal(role="department_head", department_code=other), mine["id"],
                             gateway.settings)
    assert status_of(caught.value) == 403
    for role in ("department_operator", "inspector", "supervisor", "public"):
        with pytest.raises(DomainError), gateway.write() as session:
            service.create_plan(session, Principal(role=role, department_code=lead), plan_body(gateway),
                                gateway.settings)


def test_joint_plans_are_the_county_office_s(gateway, client_as):
    lead = gateway.registry.matters["refined_oil"].department_code
    head = Principal(role="department_head", name="局长", department_code=lead)
    with pytest.raises(DomainError) as created, gateway.write() as session:
        service.create_plan(session, head, plan_body(gateway, lead=lead), gateway.settings)
    assert created.value.code == "joint_plan_county_office"
    office_draft = create(gateway, lead=lead)
    annual = create(gateway, principal=head, kind="annual", matters=["refined_oil"], lead=lead)
    with pytest.raises(DomainError) as published, gateway.write() as session:
        service.publish_plan(session, head, office_draft["id"], gateway.settings)
    assert published.value.code == "joint_plan_county_office"
    with pytest.raises(DomainError) as turned, gateway.write() as session:  # nor turn his annual plan joint
        service.update_plan(session, head, annual["id"], {"kind": "joint", "matters": list(gateway.registry.matters)})
    assert turned.value.code == "joint_plan_county_office"
    with gateway.read() as session:
        assert session.get(Plan, office_draft["id"]).status == "draft"
        assert session.get(Plan, annual["id"]).kind == "annual"
    response = client_as("department_head", department=lead).post("/api/v1/plans", json=api_body(gateway, lead=lead))
    assert response.status_code == 403 and response.get_json()["code"] == "joint_plan_county_office"
    assert "县双随机办" in response.get_json()["message"]


# ---------------------------------------------------------------------------------------------- API

def api_body(gateway, **kwargs):
    body = plan_body(gateway, **kwargs)
    body["window_start"] = body["window_start"].isoformat()
    body["window_end"] = body["window_end"].isoformat()
    return body


def inspector_id(gateway) -> int:
    from gateway.directory.models import Inspector

    with gateway.write() as session:
        inspector = Inspector(department_code="market", name="检查员", gender="male", certificate_no="4108239900001")
        session.add(inspector)
        session.flush()
        return inspector.id


def test_api_plan_lifecycle_and_public_view(gateway, client_as, client):
    office = client_as("county_office")
    created = office.post("/api/v1/plans", json=api_body(gateway))
    assert created.status_code == 201, created.json
    plan_id = created.json["id"]
    assert created.json["status"] == "draft"
    # a draft answers like a missing id to whoever may not see it, so drafts cannot be counted
    missing = client.get(f"/api/v1/plans/{plan_id + 1000}")
    for reader in (client, client_as("inspector", inspector_id=inspector_id(gateway))):
        draft = reader.get(f"/api/v1/plans/{plan_id}")
        assert (draft.status_code, draft.json["code"]) == (missing.status_code, missing.json["code"]) == (404, "not_found")
    assert client.get("/api/v1/plans").json["total"] == 0
    patched = office.patch(f"/api/v1/plans/{plan_id}", json={"ratios": {"A": 0.05, "B": "0.06", "C": "0.1", "D": "0.5"}})
    assert patched.status_code == 200, patched.json
    assert patched.json["ratios"] == {"A": "0.05", "B": "0.06", "C": "0.1", "D": "0.5"}
    published = office.post(f"/api/v1/plans/{plan_id}/publish")
    assert published.status_code == 200 and published.json["status"] == "published"
    assert published.json["published_late"] is (date.today() > date(YEAR, 3, 31))
    public = client.get(f"/api/v1/plans/{plan_id}")
    assert public.status_code == 200 and public.json["number"] == created.json["number"]
    assert client.get("/api/v1/plans").json["total"] == 1
    cooperating = created.json["cooperating_departments"][0]
    assert client.get("/api/v1/plans", query_string={"department": cooperating}).json["total"] == 1
    assert client.get("/api/v1/plans", query_string={"department": "nobody%"}).json["total"] == 0
    assert client.get("/api/v1/plans", query_string={"year": YEAR + 5}).json["total"] == 0
    again = office.patch(f"/api/v1/plans/{plan_id}", json={"title": "新标题"})
    assert again.status_code == 409 and again.json["code"] == "plan_immutable"
    amended = office.post(f"/api/v1/plans/{plan_id}/amendments", json={"reason": "增加说明", "description": "补充"})
    assert amended.status_code == 201 and amended.json["version"] == 2 and amended.json["amends_id"] == plan_id


def test_api_errors_name_the_fields(gateway, client_as):
    office = client_as("county_office")
    bad = api_body(gateway, ratios={"A": "1.5", "B": "x", "C": "0.1"})
    response = office.post("/api/v1/plans", json=bad)
    assert response.status_code == 422
    assert set(response.json["errors"]["ratios"]) == {"A", "B", "D"}
    missing_reason = office.post("/api/v1/plans/1/amendments", json={"title": "x"})
    assert missing_reason.status_code == 422 and "reason" in missing_reason.json["errors"]


def test_api_refuses_the_public_and_other_roles(gateway, client, client_as):
    body = api_body(gateway)
    assert client.post("/api/v1/plans", json=body).status_code == 401
    assert client_as("department_operator").post("/api/v1/plans", json=body).status_code == 403
    assert client_as("supervisor").post("/api/v1/plans", json=body).status_code == 403
