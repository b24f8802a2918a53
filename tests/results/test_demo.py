"""The demo's results in every state, and the privacy walk: every public endpoint's output on the
demo data holds no inspector's name, phone or certificate number."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from gateway.codes import checkins
from gateway.codes.checkins import is_site_visit
from gateway.codes.models import CheckIn
from gateway.codes.service import read_code
from gateway.demo.codes import demo_code
from gateway.demo.draw import ensure_demo_draw
from gateway.demo.generate import DemoShape
from gateway.demo.load import load_directories
from gateway.demo.results import STATES, load_demo_results
from gateway.directory.models import Inspector
from gateway.results import stats
from gateway.results.clock import deadline_lists
from gateway.results.models import Disposition, InspectionResult, ListingProposal
from gateway.security.principal import Principal
from gateway.tasks.models import Task, TaskMember
from schemas.common import python_values
from schemas.results import DeadlineListSchema, StatsSchema
from tests.urls import api_get_urls

TODAY = date(2026, 11, 20)
SHAPE = DemoShape(targets=400, inspectors_per_department=8, conflicts=4, seed=410823)


@pytest.fixture
def demo(gateway):
    """What ``shuangsui demo load`` does, small: directories, the demo draw, the demo results."""
    load_directories(gateway, SHAPE, today=TODAY)
    draw = ensure_demo_draw(gateway, today=TODAY)
    summary = load_demo_results(gateway, today=TODAY)
    return gateway, summary, draw


def test_demo_results_cover_every_state_and_load_once(demo):
    gateway, summary, draw = demo
    assert set(summary["states"]) == set(STATES), summary
    assert summary["skipped"] == [] and summary["created_tasks"] is False
    assert summary["tasks"] == draw["tasks"]
    with gateway.read() as session:
        results = session.scalars(select(InspectionResult)).all()
        statuses = {r.status for r in results}
        assert statuses == {"recorded", "returned", "reviewed", "published"}
        assert any(r.version == 2 and r.supersedes_id for r in results)
        assert session.scalar(select(Disposition).where(Disposition.status == "published")) is not None
        proposal = session.scalar(select(ListingProposal))
        assert (proposal.status, proposal.target.abnormal_list) == ("pending", False)
        assert proposal.target_id == session.get(Task, summary["states"]["listing_proposed"]).target_id
        office = Principal(role="county_office", name="测试")
        lists = python_values(DeadlineListSchema(), deadline_lists(gateway.settings, gateway.registry, session, office,
                                                                   today=TODAY))
        # the overdue result, and (last year's demo plan) the tasks whose window ended unrecorded
        assert [i["task_id"] for i in lists["overdue"] if i["result_id"]] == [summary["states"]["overdue"]]
        past = set(session.scalars(select(Task.id).where(Task.draw_id == draw["past_draw_id"])))
        unrecorded = [i for i in lists["overdue"] if i["result_id"] is None]
        assert draw["past_tasks"] > 0 and {i["task_id"] for i in unrecorded} == past
        assert {(i["status"], i["clock_status"]) for i in unrecorded} == {("not_recorded", "overdue")}
        departments = {d["code"]: d for d in lists["departments"]}
        assert sum(d["not_recorded"] for d in departments.values()) == len(past)
        assert summary["states"]["due_soon"] in [i["task_id"] for i in lists["due_soon"]]
        count = len(results)
    again = load_demo_results(gateway, today=TODAY)
    assert again["states"] == {} and again["skipped"] == []
    with gateway.read() as session:
        assert len(session.scalars(select(InspectionResult)).all()) == count


def test_the_demo_record_shows_a_pre_freeze_change_with_its_reason_and_key_strata(demo, client):
    gateway, _, draw = demo
    record = client.get(f"/api/v1/draws/{draw['draw_id']}/record").get_json()
    moves = record["eligibility_changes"]["moves"]
    assert len(moves) == 1 and moves[0]["moved_out"] and moves[0]["moved_in"] == []
    assert moves[0]["changes"][0]["reason"] == "business_closed"
    assert any(s["key"].endswith(":key") and s["population"] for s in record["strata"])
    page = client.get(f"/draws/{draw['draw_id']}").get_data(as_text=True)
    assert moves[0]["uscc"] in page and "经核实已停业或歇业" in page and "重点抽查对象" in page


def test_no_public_endpoint_shows_an_inspector(demo, app):
    gateway, summary, _ = demo
    with gateway.read() as session:
        inspectors = session.scalars(select(Inspector)).all()
        phones = {i.phone for i in inspectors if i.phone}
        certificates = {i.certificate_no for i in inspectors}
        on_tasks = set(session.scalars(select(TaskMember.inspector_id)))
        names = {i.name for i in inspectors if i.id in on_tasks}
        published = session.scalar(select(InspectionResult).where(InspectionResult.status == "published",
                                                                  InspectionResult.has_problems.is_(True)))
        task = session.get(Task, published.task_id)
        values = {
            "uscc": task.target.uscc, "plan_id": task.plan_id, "result_id": published.id, "task_id": task.id,
            "disposition_id": session.scalar(select(Disposition.id)), "draw_id": task.draw_id,
            "inspector_id": inspectors[0].id, "attachment_id": 1,
        }
        query = {"q": task.target.uscc, "page_size": 500}
        name_query = {"q": task.target.name[3:7], "page_size": 500}
    client = app.test_client()
    walked, shown = [], 0
    for _rule, url in api_get_urls(app, values):
        for args in (query, name_query, {}):
            response = client.get(url, query_string=args)
            walked.append((url, response.status_code))
            if response.status_code >= 500:
                pytest.fail(f"{url} answered {response.status_code}")
            if response.status_code != 200:
                continue
            shown += 1
            body = response.get_data(as_text=True) if response.mimetype.startswith(("application/json", "text/")) \
                else response.get_data().decode("utf-8", "replace")
            for secret in phones | certificates | names:
                assert secret not in body, f"{url} ({args}) shows {secret!r}"
    public_ok = {u for u, s in walked if s == 200}
    for must in (f"/api/v1/public/targets/{values['uscc']}", f"/api/v1/public/results/{values['result_id']}",
                 f"/api/v1/public/plans/{values['plan_id']}/tasks", "/api/v1/public/results",
                 "/api/v1/public/dispositions", "/api/v1/public/matters", "/api/v1/public/plans"):
        assert must in public_ok, must
    assert shown >= 15
    # the public plan links to the draw's own public record
    plan = client.get(f"/api/v1/public/plans/{values['plan_id']}").json
    assert plan["links"]["draw_records"]
    for link in plan["links"]["draw_records"]:
        record = client.get(link)
        assert record.status_code == 200 and record.json["format"] == "shuangsui.draw/2", link
        body = record.get_data(as_text=True)
        for secret in phones | certificates | names:
            assert secret not in body, f"{link} shows {secret!r}"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_any_task_the_demo_makes_its_own_plan_and_tasks(gateway):
    load_directories(gateway, DemoShape(targets=300, inspectors_per_department=4, conflicts=0), today=TODAY)
    summary = load_demo_results(gateway, today=TODAY)
    assert summary["created_tasks"] is True and set(summary["states"]) == set(STATES)
    with gateway.read() as session:
        tasks = session.scalars(select(Task)).all()
        assert len({t.lead_department for t in tasks}) == len(gateway.registry.matters)
        # a joint team: an inspector from the lead and from a cooperating department, where the
        # task's matters have one (a plugin's matter may have none)
        registry = gateway.registry
        for t in tasks:
            involved = {d for code in t.matter_codes
                        for d in (registry.matters[code].department_code, *registry.cooperating_departments(code))}
            assert len({m.department_code for m in t.team}) >= min(2, len(involved))


def test_demo_ledger_has_every_channel_published_caps_and_one_enterprise_over_its_cap(demo):
    from gateway.demo.ledger import load_demo_ledger
    from gateway.ledger.channels import REGISTERED_CHANNELS
    from gateway.ledger.models import RegisteredInspection
    from gateway.ledger.queries import current_caps
    from gateway.ledger.views import target_ledger

    gateway, _summary, _draw = demo
    made = load_demo_ledger(gateway, today=TODAY)
    assert made["registered"] >= len(REGISTERED_CHANNELS)
    with gateway.read() as session:
        rows = session.scalars(select(RegisteredInspection)).all()
        assert {r.channel for r in rows} == set(REGISTERED_CHANNELS)
        caps = current_caps(session, TODAY.year)
        assert (caps.per_department, caps.total) == (2, 4)
        over = [r for r in rows if r.over_cap_reason]
        assert over and {r.uscc for r in over} == {made["over_cap"]}
        busy = target_ledger(session, made["over_cap"], TODAY.year)
        assert busy.at_cap and max(busy.by_department.values()) > caps.per_department
    assert load_demo_ledger(gateway, today=TODAY) == {"registered": 0, "over_cap": None}
    with gateway.read() as session:
        assert len(session.scalars(select(RegisteredInspection)).all()) == len(rows)
def test_demo_site_results_were_checked_in_and_the_demo_code_works(demo, client):
    gateway, summary, _ = demo
    with gateway.read() as session:
        site = [r for r in session.scalars(select(InspectionResult)) if is_site_visit(r.methods)]
        checked_in = set(session.scalars(select(CheckIn.task_id)))
        assert site and {r.task_id for r in site} <= checked_in
    shown = demo_code(gateway, "http://127.0.0.1:8800")
    token = shown["url"].split("/code/")[1]
    status = client.get("/api/v1/inspection-codes/status", query_string={"token": token}).json
    assert status["genuine"] is True and status["task_number"] == shown["task_number"]
    with gateway.read() as session:
        status = read_code(session, gateway.settings, token, today=TODAY)
    assert status.current, status.not_current
    checkins.check_in(gateway, token, shown["access_code"], remote_addr="127.0.0.1", today=TODAY)


def test_the_demo_shows_last_years_tasks_never_recorded_as_overdue(demo, client_as):
    gateway, _summary, draw = demo
    with gateway.read() as session:
        past = session.scalars(select(Task).where(Task.draw_id == draw["past_draw_id"])).all()
        assert past and all(t.window_end < TODAY for t in past)
        assert session.scalar(select(InspectionResult.id).where(
            InspectionResult.task_id.in_([t.id for t in past]))) is None
        office = Principal(role="county_office", name="测试")
        totals = python_values(StatsSchema(), stats.supervision_stats(gateway, session, office, as_of=TODAY))["totals"]
        number = past[0].number
    assert totals["overdue"] >= len(past) + 1  # and the demo's overdue result
    # the dashboard's deadline page (as of today, after last year's window) lists them
    page = client_as("county_office").get("/console/deadlines").get_data(as_text=True)
    assert "仍未录入结果的任务" in page and number in page
    # loading again draws nothing new
    again = ensure_demo_draw(gateway, today=TODAY)
    assert (again["past_draw_id"], again["past_tasks"], again["draw_id"]) == (
        draw["past_draw_id"], draw["past_tasks"], draw["draw_id"])
