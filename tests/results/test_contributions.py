"""Article 5: a cooperating member fills its own department's items; the lead's member submits."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.errors import Conflict, DomainError, Forbidden, Invalid
from gateway.results import contributions, service
from gateway.results.checklist import task_checklists
from gateway.results.models import InspectionResult
from gateway.tasks.models import Task


def _items_by_department(world, task_key="oil"):
    with world.gateway.read() as session:
        task = session.get(Task, world.tasks[task_key])
        checklist = task_checklists(world.gateway, session, task)["refined_oil"]
        own: dict[str, list[str]] = {}
        for item in checklist.items:
            own.setdefault(item.department_code, []).append(item.code)
        return own


def _save(world, who, checklists):
    with world.gateway.write() as session:
        return contributions.save_contribution(world.gateway, session, world.inspector(who), world.tasks["oil"],
                                               checklists)


def _refused(call, kind=DomainError) -> DomainError:
    with pytest.raises(kind) as caught:
        call()
    return caught.value


def test_the_cooperating_member_fills_its_items_and_the_lead_submits_the_whole(world):
    items = _items_by_department(world)
    market = items["market"]
    body = world.body("oil")
    values = body["checklists"]["refined_oil"]
    _save(world, "m1", {"refined_oil": {code: values[code] for code in market}})
    for code in market:
        del values[code]        # the lead's member leaves the market items to market
    result_id = world.record("oil", body)
    with world.gateway.read() as session:
        stored = session.get(InspectionResult, result_id).checklists["refined_oil"]
    assert {code: stored[code] for code in market} == {code: world.body("oil")["checklists"]["refined_oil"][code]
                                                       for code in market}


def test_each_fills_only_what_is_its_own(world):
    items = _items_by_department(world)
    body = world.body("oil")
    values = body["checklists"]["refined_oil"]
    commerce_item, market_item = items["commerce"][0], items["market"][0]
    error = _refused(lambda: _save(world, "m1", {"refined_oil": {commerce_item: values[commerce_item]}}), Invalid)
    assert set(error.errors) == {f"checklists.refined_oil.{commerce_item}"}
    error = _refused(lambda: _save(world, "m1", {"refined_oil": {market_item: "no such outcome"}}), Invalid)
    assert set(error.errors) == {f"checklists.refined_oil.{market_item}"}
    assert _refused(lambda: _save(world, "c1", {"refined_oil": {commerce_item: values[commerce_item]}}),
                    Conflict).code == "lead_records_result"
    with world.gateway.write() as session:
        error = _refused(lambda: service.record_result(world.gateway, session, world.inspector("m1"),
                                                       world.tasks["oil"], body, today=world.today), Forbidden)
    assert error.code == "lead_records_result"


def test_the_lead_cannot_overwrite_a_filled_item_and_drafts_close_at_review(world):
    items = _items_by_department(world)
    body = world.body("oil")
    values = body["checklists"]["refined_oil"]
    market_item = items["market"][0]
    _save(world, "m1", {"refined_oil": {market_item: values[market_item]}})
    other = next(v for v in ("compliant", "non_compliant", "not_applicable", True, False) if v != values[market_item])
    changed = {**body, "checklists": {"refined_oil": {**values, market_item: other}}}
    error = _refused(lambda: world.record("oil", changed), Invalid)
    assert f"checklists.refined_oil.{market_item}" in error.errors
    with world.gateway.read() as session:
        assert session.scalars(select(InspectionResult)).all() == []     # nothing half-written
    result_id = world.record("oil", body)
    world.review(result_id, "commerce")
    assert _refused(lambda: _save(world, "m1", {"refined_oil": {market_item: values[market_item]}}),
                    Conflict).code == "result_closed"


def test_contributions_by_api(world, client_as):
    items = _items_by_department(world)
    values = world.body("oil")["checklists"]["refined_oil"]
    market_item = items["market"][0]
    m1 = world.inspector("m1")
    url = f"/api/v1/tasks/{world.tasks['oil']}/contribution"
    saved = client_as("inspector", inspector_id=m1.inspector_id).put(
        url, json={"checklists": {"refined_oil": {market_item: values[market_item]}}})
    assert saved.status_code == 200, saved.json
    assert (saved.json["department_code"], saved.json["checklists"]) == (
        "market", {"refined_oil": {market_item: values[market_item]}})
    wrong = client_as("inspector", inspector_id=m1.inspector_id).put(
        url, json={"checklists": {"refined_oil": {items["commerce"][0]: "compliant"}}})
    assert wrong.status_code == 422 and wrong.json["errors"]
    c1 = world.inspector("c1")
    listed = client_as("inspector", inspector_id=c1.inspector_id).get(
        f"/api/v1/tasks/{world.tasks['oil']}/contributions")
    assert listed.status_code == 200 and [r["department_code"] for r in listed.json] == ["market"]


def test_the_console_gives_a_cooperating_member_its_own_items(world, client_as):
    items = _items_by_department(world)
    values = world.body("oil")["checklists"]["refined_oil"]
    market_item, commerce_item = items["market"][0], items["commerce"][0]
    task_id = world.tasks["oil"]
    m1 = client_as("inspector", inspector_id=world.inspector("m1").inspector_id)
    assert m1.get(f"/console/tasks/{task_id}/result").headers["Location"].endswith(f"/console/tasks/{task_id}/contribution")
    html = m1.get(f"/console/tasks/{task_id}/contribution").get_data(as_text=True)
    assert f'name="checklists.refined_oil.{market_item}"' in html
    assert f'name="checklists.refined_oil.{commerce_item}"' not in html
    value = values[market_item]
    posted = {f"checklists.refined_oil.{market_item}": str(value).lower() if isinstance(value, bool) else str(value)}
    assert m1.post(f"/console/tasks/{task_id}/contribution", data=posted).status_code == 302
    with world.gateway.read() as session:
        saved = [(r.department_code, r.checklists) for r in contributions.contributions_of(session, session.get(Task, task_id))]
    assert saved == [("market", {"refined_oil": {market_item: value}})]
