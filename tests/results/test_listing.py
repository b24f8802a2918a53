"""Article 24: a published result proposes listing; only market supervision's head's decision lists."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.cli.main import cli
from gateway.errors import Conflict, Forbidden, Invalid
from gateway.results import listing
from gateway.results.models import ListingProposal
from gateway.security.audit import AuditEntry


def _unreachable_body(world):
    """Code 6 (cannot be reached at the registered address), with a problem to back it."""
    body = world.body("oil", result_codes=["A", "6"])
    body["checklists"]["refined_oil"]["oil_invoices_records"] = "non_compliant"
    body["checklists"]["refined_oil"]["oil_problem_description"] = "进货票据不全。"
    return body


def _proposals(world):
    with world.gateway.read() as session:
        return [(p.list_name, p.status, p.proposed_by_department, p.target.abnormal_list)
                for p in session.scalars(select(ListingProposal).order_by(ListingProposal.id))]


def _public_lists(client, world):
    response = client.get(f"/api/v1/public/targets/{world.targets['oil']}")
    assert response.status_code == 200, response.json
    return response.json["lists"]


def test_a_lead_departments_code_6_proposes_and_the_public_label_waits_for_the_decision(world, client):
    world.published("oil", _unreachable_body(world))   # commerce leads the oil task
    assert _proposals(world) == [("abnormal_list", "pending", "commerce", False)]
    assert _public_lists(client, world) == []
    with world.gateway.write() as session:
        proposal_id = session.scalar(select(ListingProposal.id))
        listing.decide(session, world.head("market"), proposal_id, accept=True, note="实地核查无法联系。")
    assert _proposals(world) == [("abnormal_list", "accepted", "commerce", True)]
    assert _public_lists(client, world) == ["经营异常名录"]
    with world.gateway.read() as session:
        actions = [a for (a,) in session.execute(select(AuditEntry.action).where(AuditEntry.entity_type == "listing_proposal")
                                                  .order_by(AuditEntry.id))]
    assert actions == ["listing.propose", "listing.decide"]


def test_only_market_supervisions_head_decides_once_with_a_note(world):
    world.published("oil", _unreachable_body(world))
    with world.gateway.write() as session:
        proposal_id = session.scalar(select(ListingProposal.id))
    for principal, note, error in (
        (world.head("commerce"), "理由", Forbidden),      # the proposing lead department
        (world.operator("market"), "理由", Forbidden),
        (world.office, "理由", Forbidden),
        (world.head("market"), "  ", Invalid),
    ):
        with pytest.raises(error), world.gateway.write() as session:
            listing.decide(session, principal, proposal_id, accept=True, note=note)
    with world.gateway.write() as session:
        listing.decide(session, world.head("market"), proposal_id, accept=False, note="已联系上，住所真实。")
    assert _proposals(world) == [("abnormal_list", "rejected", "commerce", False)]
    with pytest.raises(Conflict), world.gateway.write() as session:
        listing.decide(session, world.head("market"), proposal_id, accept=True, note="改变主意")
    assert _proposals(world) == [("abnormal_list", "rejected", "commerce", False)]


def test_decisions_by_api(world, client_as, client):
    world.published("oil", _unreachable_body(world))
    waiting = client_as("supervisor").get("/api/v1/listing-proposals", query_string={"status": "pending"})
    assert waiting.status_code == 200, waiting.json
    [item] = waiting.json["items"]
    assert (item["uscc"], item["list_label"], item["status_label"]) == (world.targets["oil"], "经营异常名录", "待决定")
    url = f"/api/v1/listing-proposals/{item['id']}/decision"
    assert client_as("department_head", department="commerce").post(
        url, json={"accept": True, "note": "x"}).status_code == 403
    missing = client_as("department_head", department="market").post(url, json={"accept": True})
    assert (missing.status_code, set(missing.json["errors"])) == (422, {"note"})
    assert _public_lists(client, world) == []
    decided = client_as("department_head", department="market").post(url, json={"accept": True, "note": "核实无误"})
    assert decided.status_code == 200, decided.json
    assert (decided.json["status"], decided.json["decision_note"]) == ("accepted", "核实无误")
    assert _public_lists(client, world) == ["经营异常名录"]
    again = client_as("department_head", department="market").post(url, json={"accept": False, "note": "x"})
    assert (again.status_code, again.json["code"]) == (409, "listing_decided")


def test_decisions_by_the_command_line(world):
    world.published("oil", _unreachable_body(world))
    settings = world.gateway.settings
    base = ["--database-url", settings.database_url, "--instance", str(settings.instance_path)]
    runner = CliRunner()
    listed = runner.invoke(cli, base + ["results", "listing", "list"])
    assert listed.exit_code == 0, listed.output
    assert world.targets["oil"] in listed.output and "待决定" in listed.output
    proposal_id = listed.output.split("\t", 1)[0]
    missing = runner.invoke(cli, base + ["results", "listing", "decide", proposal_id, "--accept", "--note", " "])
    assert missing.exit_code == 1 and "请填写决定理由" in missing.output
    done = runner.invoke(cli, base + ["results", "listing", "decide", proposal_id, "--accept", "--note", "核实无误"])
    assert done.exit_code == 0, done.output
    assert "已决定列入" in done.output
    assert _proposals(world) == [("abnormal_list", "accepted", "commerce", True)]


def test_decisions_on_the_console_page(world, client_as, client):
    world.published("oil", _unreachable_body(world))
    supervisor = client_as("supervisor").get("/console/listing")
    assert supervisor.status_code == 200
    html = supervisor.get_data(as_text=True)
    assert world.targets["oil"] in html and "待决定" in html and "decision\"" not in html   # reads, cannot decide
    head = client_as("department_head", department="market")
    html = head.get("/console/listing").get_data(as_text=True)
    assert "/decision\"" in html
    with world.gateway.read() as session:
        proposal_id = session.scalar(select(ListingProposal.id))
    refused = client_as("department_head", department="commerce").post(
        f"/console/listing/{proposal_id}/decision", data={"decision": "accept", "note": "x"})
    assert refused.status_code == 403
    no_note = head.post(f"/console/listing/{proposal_id}/decision", data={"decision": "accept", "note": ""})
    assert no_note.status_code == 302 and _public_lists(client, world) == []
    done = head.post(f"/console/listing/{proposal_id}/decision", data={"decision": "accept", "note": "核实无误"})
    assert done.status_code == 302
    assert _public_lists(client, world) == ["经营异常名录"]
    decided = head.get("/console/listing", query_string={"status": "accepted"}).get_data(as_text=True)
    assert "核实无误" in decided
