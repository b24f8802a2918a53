"""Follow-up dispositions (article 22), the risk rules (articles 23, 24, 28) and the credit view."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select

from gateway.api.errors import status_of
from gateway.directory.models import Target
from gateway.directory.queries import target_search
from gateway.errors import DomainError
from gateway.results import credit, followups, listing, risk
from gateway.results.models import DISPOSITION_KINDS, Disposition, ImmutableRecordError, ListingProposal, RiskEvent
from gateway.sync.models import OutboxRecord
from schemas.common import python_values
from schemas.results import CreditViewSchema

PENALTY = {"kind": "administrative_penalty", "decision_number": "武商罚决字〔2026〕12号",
           "decided_on": "2026-10-12", "description": "责令停业整顿并处罚款五万元。"}


def _problem_body(world, codes=("A", "D")):
    body = world.body("oil", result_codes=list(codes))
    body["checklists"]["refined_oil"]["oil_invoices_records"] = "non_compliant"
    body["checklists"]["refined_oil"]["oil_problem_description"] = "未建立购销台账，进货票据不全。"
    return body


def _refused(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def _list_it(world):
    """Market supervision's head accepts the waiting listing proposal (article 24)."""
    with world.gateway.write() as session:
        proposal = session.scalar(select(ListingProposal).where(ListingProposal.status == "pending"))
        listing.decide(session, world.head("market"), proposal.id, accept=True, note="实地核查无法联系。")


def _target(world, key="oil"):
    """The target's risk flags as they are now."""
    from types import SimpleNamespace

    with world.gateway.read() as session:
        target = session.scalar(select(Target).where(Target.uscc == world.targets[key]))
        return SimpleNamespace(risk_class=target.risk_class, abnormal_list=target.abnormal_list,
                               serious_violation_list=target.serious_violation_list)


def test_a_disposition_needs_a_published_problem_and_each_kind_what_it_needs(world):
    clean = world.published("lab")
    assert _refused(lambda: world.dispose(clean, "market", PENALTY)).code == "result_without_problems"
    result_id = world.record("oil", _problem_body(world))
    assert _refused(lambda: world.dispose(result_id, "commerce", PENALTY)).code == "result_not_published"
    world.review(result_id, "commerce")
    world.publish(result_id, "commerce")
    error = _refused(lambda: world.dispose(result_id, "commerce", {**PENALTY, "decision_number": ""}))
    assert (status_of(error), set(error.errors)) == (422, {"decision_number"})
    error = _refused(lambda: world.dispose(result_id, "commerce", {
        "kind": "transfer_to_judiciary", "decided_on": "2026-10-25", "description": "涉嫌非法经营罪"}))
    assert set(error.errors) == {"receiving_authority", "decided_on"}   # no authority; in the future
    error = _refused(lambda: world.dispose(result_id, "commerce", {"kind": "fine", "decided_on": "2026-09-01"}))
    assert set(error.errors) == {"kind", "description", "decided_on"}  # decided before the inspection
    with world.gateway.read() as session:
        assert session.scalars(select(Disposition)).all() == []
    assert {k["code"] for k in followups.disposition_kinds()} == set(DISPOSITION_KINDS)


def test_only_the_tasks_departments_write_and_only_the_head_publishes(world):
    result_id = world.published("oil", _problem_body(world))
    assert status_of(_refused(lambda: world.dispose(result_id, "agriculture", PENALTY))) == 403
    # market is on the team: it may record its own disposition (e.g. its quality finding)
    rectified = world.dispose(result_id, "market", {"kind": "rectified", "decided_on": "2026-10-15",
                                                    "description": "复查确认计量器具已检定合格。"}, publish=False)
    with pytest.raises(DomainError) as caught:
        with world.gateway.write() as session:
            followups.publish_disposition(world.gateway, session, world.operator("market"), rectified, today=world.today)
    assert status_of(caught.value) == 403
    with pytest.raises(DomainError) as caught:
        with world.gateway.write() as session:
            followups.publish_disposition(world.gateway, session, world.head("commerce"), rectified, today=world.today)
    assert status_of(caught.value) == 403


def test_publication_queues_the_outbox_and_freezes_the_disposition(world):
    result_id = world.published("oil", _problem_body(world))
    disposition_id = world.dispose(result_id, "commerce", PENALTY)
    with world.gateway.read() as session:
        row = session.scalar(select(OutboxRecord).where(OutboxRecord.kind == "disposition"))
        assert (row.entity_id, row.department_code) == (disposition_id, "commerce")
        # due 20 working days after the decision (12 Oct 2026 → 9 Nov 2026)
        assert row.due_date == datetime(2026, 11, 9)
        shown = followups.disposition_dict(world.gateway, session.get(Disposition, disposition_id))
        assert shown["kind_label"] == "行政处罚" and shown["status"] == "published"
    with pytest.raises(ImmutableRecordError):
        with world.gateway.write() as session:
            session.get(Disposition, disposition_id).description = "改"
    with pytest.raises(DomainError) as caught:
        with world.gateway.write() as session:
            followups.delete_disposition(session, world.operator("commerce"), disposition_id)
    assert caught.value.code == "disposition_published"
    # a correction names the published one and why
    error = _refused(lambda: world.dispose(result_id, "commerce", {**PENALTY, "supersedes_id": disposition_id}))
    assert set(error.errors) == {"correction_reason"}
    corrected = world.dispose(result_id, "commerce", {**PENALTY, "decision_number": "武商罚决字〔2026〕13号",
                                                      "supersedes_id": disposition_id,
                                                      "correction_reason": "文号录入错误"})
    with world.gateway.read() as session:
        assert session.get(Disposition, corrected).supersedes_id == disposition_id
        assert session.get(Disposition, disposition_id).decision_number == "武商罚决字〔2026〕12号"


def test_an_unpublished_disposition_can_be_withdrawn(world):
    result_id = world.published("oil", _problem_body(world))
    disposition_id = world.dispose(result_id, "commerce", PENALTY, publish=False)
    with pytest.raises(DomainError):
        with world.gateway.write() as session:
            followups.delete_disposition(session, world.operator("agriculture"), disposition_id)
    with world.gateway.write() as session:
        followups.delete_disposition(session, world.operator("commerce"), disposition_id)
    with world.gateway.read() as session:
        assert session.get(Disposition, disposition_id) is None


# --- risk ------------------------------------------------------------------------------------------


def test_a_published_problem_raises_the_targets_risk_flags(world):
    body = _problem_body(world, codes=("A", "6"))   # cannot be reached at the registered address
    result_id = world.record("oil", body)
    assert (_target(world).risk_class, _target(world).abnormal_list) == ("B", False)  # recording changes nothing
    world.review(result_id, "commerce")
    world.publish(result_id, "commerce")
    target = _target(world)
    assert (target.risk_class, target.abnormal_list) == ("C", False)  # code 6 only proposes the list
    _list_it(world)
    # the directory search the next plan's strata use (matter × risk class) now finds it in class C
    with world.gateway.read() as session:
        found = session.scalars(target_search({"risk_class": "C", "list": "abnormal"})).all()
        assert [t.uscc for t in found] == [world.targets["oil"]]
        event = session.scalar(select(RiskEvent))
        assert (event.rules, event.risk_class_before, event.risk_class_after, event.lists_set) == (
            ["result_code:A", "result_code:6"], "B", "C", [])


def test_the_next_draw_puts_the_target_in_its_new_stratum_and_under_key_inspection(world):
    from gateway.draw.population import compute_population, plan_matters
    from gateway.planning.models import Plan

    def population():
        with world.gateway.read() as session:
            plan = session.get(Plan, world.plan_id)
            found = compute_population(session, plan, plan_matters(session, plan))
            strata = {s.key: s.population for s in found.strata}
            keys = {k for k, v in found.key_targets.items() if world.targets["oil"] in v}
            return {k for k, v in strata.items() if world.targets["oil"] in v}, keys

    assert population() == ({"refined_oil:B"}, set())
    world.published("oil", _problem_body(world, codes=("A", "6")))
    assert population() == ({"refined_oil:C"}, set())
    _list_it(world)
    # class B → C, and on the abnormal-operation list: the plan's key rule (default) makes it a key
    # target, drawn apart in the matter's key stratum (article 15/28)
    assert population() == ({"refined_oil:key"}, {"refined_oil:key"})


def test_corrections_do_not_stack_and_dispositions_add_their_own_rule(world):
    first = world.published("oil", _problem_body(world, codes=("E",)))
    assert _target(world).risk_class == "C"
    correction = {**_problem_body(world, codes=("A", "C")), "reason": "复核认定公示信息弄虚作假"}
    from gateway.results import service

    with world.gateway.write() as session:
        second = service.correct_result(world.gateway, session, world.inspector("c1"), first, correction,
                                        today=world.today).id
    world.review(second, "commerce")
    world.publish(second, "commerce")
    # measured from the task's baseline B: C raises by two → D (not C + 2)
    assert _target(world).risk_class == "D"
    world.dispose(second, "commerce", {"kind": "transfer_to_judiciary", "receiving_authority": "武陟县公安局",
                                       "decided_on": "2026-10-15", "description": "涉嫌非法经营罪，移送公安机关。"})
    with world.gateway.read() as session:
        events = session.scalars(select(RiskEvent).order_by(RiskEvent.id)).all()
        assert [(e.source_type, e.risk_class_before, e.risk_class_after) for e in events] == [
            ("result", "B", "C"), ("result", "C", "D")]  # already D: the transfer changes nothing


def test_a_clean_result_changes_nothing(world):
    world.published("lab")
    assert _target(world, "lab").risk_class == "A"
    with world.gateway.read() as session:
        assert session.scalars(select(RiskEvent)).all() == []


def test_the_rules_file_is_checked():
    good = json.loads((risk.Path(risk.__file__).parent / "data" / "risk_rules.json").read_text(encoding="utf-8"))
    assert risk.parse_rules(good, DISPOSITION_KINDS).result_codes["8"].at_least == "D"
    for broken, message in (
        ({**good, "result_codes": {"Z": {"raise": 1}}}, "not in the result-code table"),
        ({**good, "result_codes": {"A": {"raise": -1}}}, "non-negative"),
        ({**good, "result_codes": {"A": {"propose": ["blacklist"]}}}, "unknown list"),
        ({**good, "result_codes": {"6": {"lists": ["abnormal_list"]}}}, "only proposes a list"),
        ({**good, "dispositions": {"warning": {"raise": 1}}}, "unknown disposition kind"),
        ({**good, "problem_kinds": ["bad_kind"]}, "not kinds of the result-code table"),
        ({**good, "format": "x"}, "format"),
    ):
        with pytest.raises(ValueError, match=message):
            risk.parse_rules(broken, DISPOSITION_KINDS)
    rules = risk.RULES
    assert rules.has_problems(["E"]) and rules.has_problems(["8"]) and not rules.has_problems(["1"])
    assert not rules.has_problems(["9"])


# --- the credit view -------------------------------------------------------------------------------


def test_the_credit_view_shows_history_results_dispositions_lists_and_risk(world):
    result_id = world.published("oil", _problem_body(world, codes=("A", "6")))
    world.dispose(result_id, "commerce", PENALTY)
    _list_it(world)
    with world.gateway.read() as session:
        view = python_values(CreditViewSchema(), credit.credit_view(world.gateway, session, world.head("commerce"),
                                                                    world.targets["oil"], world.today))
    # A + 6 raised B → C and proposed the list, which market supervision accepted; the penalty raised C → D
    assert view["risk_class"] == "D" and view["lists"] == ["经营异常名录"]
    assert [(i["task_number"], i["status"], i["departments"]) for i in view["inspections"]] == [
        (f"{world.plan_number}-0001", "published", ["武陟县商务局", "武陟县市场监督管理局"])]
    assert [(r["id"], r["result_description"]) for r in view["results"]] == [
        (result_id, "发现问题待后续处理：通过登记的住所（经营场所）无法联系")]  # labels from the table
    assert [d["decision_number"] for d in view["dispositions"]] == ["武商罚决字〔2026〕12号"]
    assert [(e["risk_class_before"], e["risk_class_after"], e["lists_set"]) for e in view["risk_events"]] == [
        ("B", "C", []), ("C", "D", [])]
    assert "受到行政处罚" in view["risk_events"][1]["reason"]
    # another department sees the target and the risk, but not the tasks it has no part in
    with world.gateway.read() as session:
        other = python_values(CreditViewSchema(), credit.credit_view(world.gateway, session, world.head("agriculture"),
                                                                     world.targets["oil"], world.today))
    assert other["inspections"] == [] and [r["id"] for r in other["results"]] == [result_id]  # published: readable
    assert other["risk_class"] == "D"


def test_the_credit_view_by_api(world, client_as):
    world.published("oil", _problem_body(world))
    response = client_as("supervisor").get(f"/api/v1/targets/{world.targets['oil']}/credit")
    assert response.status_code == 200, response.json
    assert response.json["risk_class"] == "C" and len(response.json["results"]) == 1
    assert client_as("public").get(f"/api/v1/targets/{world.targets['oil']}/credit").status_code == 401
