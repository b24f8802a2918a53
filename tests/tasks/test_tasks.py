"""Tasks: who sees which, the printable task sheet and guide, and the article 14 reassignment."""
from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from gateway.api.errors import status_of
from gateway.directory.models import Conflict, Inspector
from gateway.draw.models import Draw
from gateway.draw.sampler import Ticketer
from gateway.errors import DomainError
from gateway.security.audit import AuditEntry
from gateway.security.principal import Principal
from gateway.tasks import reassign
from gateway.tasks.models import Reassignment, Task, TaskMember
from tests.drawdb import COUNTY, YEAR, build_directory, drawn_directory, published_plan


@pytest.fixture
def drawn(gateway):
    draw_id = drawn_directory(gateway)
    with gateway.read() as session:
        task = session.scalars(select(Task).where(Task.draw_id == draw_id).order_by(Task.id)).first()
        multi = max(session.scalars(select(Task).where(Task.draw_id == draw_id)), key=lambda t: len(t.matter_codes))
        return {"draw_id": draw_id, "task_id": task.id, "multi_id": multi.id}


def team_of(gateway, task_id):
    with gateway.read() as session:
        return [(m.inspector_id, m.department_code, m.role) for m in session.get(Task, task_id).members if m.active]


def test_sheet_and_guide_are_printable_chinese_pages_from_plugin_content(gateway, drawn, client_as):
    office = client_as("county_office")
    task_id = drawn["multi_id"]
    sheet = office.get(f"/api/v1/tasks/{task_id}/sheet")
    assert sheet.status_code == 200 and sheet.mimetype == "text/html"
    html = sheet.get_data(as_text=True)
    assert "检查任务书" in html and "@page" in html and "@media print" in html
    # its own <style> is allowed, nothing else: no script, no handler attributes
    policy = sheet.headers["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in policy and "script" not in policy and "default-src 'none'" in policy
    assert "<script" not in html and "onclick" not in html
    with gateway.read() as session:
        task = session.get(Task, task_id)
        assert task.number in html and task.target.uscc in html and task.target.name in html
        for member in task.members:
            person = member.inspector
            assert person.name in html
            assert person.phone not in html and person.certificate_no not in html
        plan_matters = {code: gateway.registry.matters[code] for code in task.matter_codes}
    for code, matter in plan_matters.items():
        assert matter.name in html
        # the check items (outcomes); the result form's other fields are not check items
        items = gateway.registry.check_items[code]
        assert all(item.name in html for item in items if item.kind == "outcome")
        assert not any(f">{item.name}<" in html for item in items if item.kind != "outcome")
    guide = office.get(f"/api/v1/tasks/{task_id}/guide").get_data(as_text=True)
    assert "检查指引书" in guide
    for code, matter in plan_matters.items():
        assert matter.legal_basis[0] in guide
        assert all(item.name in guide for item in gateway.registry.check_items[code] if item.kind == "outcome")
        text = gateway.hook.gateway_guide_text(matter_code=code, version="1")
        if text:
            assert text.splitlines()[0] in guide
    with gateway.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "tasks.read_sheet")) == 1


def test_who_sees_which_tasks(gateway, drawn, client_as, client):
    with gateway.read() as session:
        task = session.get(Task, drawn["task_id"])
        member = next(m for m in task.members if m.active)
        outsider = session.scalar(select(Inspector.id).where(
            Inspector.department_code == member.department_code,
            Inspector.id.not_in([m.inspector_id for m in task.members])))
        total = session.scalar(select(func.count()).select_from(Task))
        own_department = session.scalar(select(func.count(func.distinct(TaskMember.task_id))).where(
            TaskMember.department_code == member.department_code))
        team = {m.inspector_id for m in task.members if m.active}
        task_id, member_department, member_id = task.id, member.department_code, member.inspector_id
    assert client.get("/api/v1/tasks").status_code == 401
    assert client_as("county_office").get("/api/v1/tasks").json["total"] == total
    dept = client_as("department_operator", department=member_department).get("/api/v1/tasks").json
    assert dept["total"] >= own_department
    mine = client_as("inspector", inspector_id=member_id).get("/api/v1/tasks").json
    assert task_id in [t["id"] for t in mine["items"]]
    assert client_as("inspector", inspector_id=member_id).get(f"/api/v1/tasks/{task_id}").status_code == 200
    stranger = client_as("inspector", inspector_id=outsider)
    if task_id not in [t["id"] for t in stranger.get("/api/v1/tasks", query_string={"page_size": 500}).json["items"]]:
        assert stranger.get(f"/api/v1/tasks/{task_id}").status_code == 403
    detail = client_as("supervisor").get(f"/api/v1/tasks/{task_id}").json
    assert {m["inspector_id"] for m in detail["team"]} == team
    assert "phone" not in json.dumps(detail) and "certificate" not in json.dumps(detail)


def test_reassignment_request_approval_replacement_and_filing(gateway, drawn, client_as):
    task_id = drawn["task_id"]
    leaving, department, role = team_of(gateway, task_id)[0]
    operator = client_as("department_operator", department=department)
    asked = operator.post(f"/api/v1/tasks/{task_id}/reassignments",
                          json={"inspector_id": leaving, "reason_code": "conflict_of_interest", "reason": "其配偶在该企业任职"})
    assert asked.status_code == 201, asked.json
    item_id = asked.json["id"]
    assert team_of(gateway, task_id)[0][0] == leaving  # nothing changes before approval
    other = next(code for code in gateway.registry.departments if code != department)
    assert client_as("department_head", department=other).post(f"/api/v1/reassignments/{item_id}/approve", json={}).status_code == 403
    assert operator.post(f"/api/v1/reassignments/{item_id}/approve", json={}).status_code == 403
    assert client_as("county_office").post(f"/api/v1/reassignments/{item_id}/approve", json={}).status_code == 403
    approved = client_as("department_head", department=department).post(
        f"/api/v1/reassignments/{item_id}/approve", json={"note": "同意回避"})
    assert approved.status_code == 200, approved.json
    replacement = approved.json["replacement_inspector_id"]
    assert approved.json["status"] == "approved" and approved.json["filing_status"] == "pending"
    again = client_as("department_head", department=department).post(f"/api/v1/reassignments/{item_id}/reject",
                                                                     json={"note": "再议"})
    assert (again.status_code, again.json["message"]) == (409, "该申请已批准，不能再次审批。")

    # The replacement is the draw's own rule: lowest (load, ticket) in the department, not on the team.
    with gateway.read() as session:
        task = session.get(Task, task_id)
        draw = session.get(Draw, task.draw_id)
        item = session.get(Reassignment, item_id)
        loads = item.replacement_inputs["loads"]
        record = item.replacement_inputs["record"]
        # tickets of the draw record's opaque ids under the seed the approval revealed
        ticketer = Ticketer(record["seed"])
        opaque = {c["id"]: c for c in record["candidates"]}
        from gateway.draw.record import opaque_inspector_id

        key = gateway.settings.secret_key.encode("utf-8")
        ids = {i: opaque_inspector_id(record["draw_id"], i, key) for i in loads}
        assert set(ids.values()) <= set(opaque)
        expected = min(loads, key=lambda i: (loads[i], ticketer.key(ids[i]), i))
        assert int(expected) == replacement
        members = {m.inspector_id: m for m in task.members}
        assert members[leaving].active is False and members[replacement].active is True
        assert members[replacement].role == role and members[replacement].source == "reassignment"
        assert session.scalar(select(Conflict.id).where(Conflict.inspector_id == leaving,
                                                        Conflict.target_id == task.target_id)) is not None

    filed = client_as("county_office").post(f"/api/v1/reassignments/{item_id}/file", json={"note": "已备案"})
    assert filed.status_code == 200 and filed.json["filing_status"] == "filed"
    assert filed.json["filing_number"].startswith("武陟调备〔")
    assert client_as("county_office").post(f"/api/v1/reassignments/{item_id}/file", json={}).status_code == 409
    history = client_as("county_office").get(f"/api/v1/tasks/{task_id}/history").json
    assert [h["action"] for h in history] == ["created", "reassignment_requested", "reassignment_approved",
                                             "member_replaced", "reassignment_filed"]
    with gateway.read() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("reassignments.%"))).all()
        assert sorted(actions) == ["reassignments.approve", "reassignments.file", "reassignments.request"]
        draw = session.get(Draw, drawn["draw_id"])
        from gateway.draw.service import verify_draw_teams

        report, _ = verify_draw_teams(session, draw)
        assert report.ok  # the teams as drawn still re-run exactly


def test_reassignment_is_reproducible_from_its_public_record(gateway, drawn, client, settings, tmp_path):
    """Anyone re-runs the replacement from its record: `shuangsui verify` and docs/verify_draw.py."""
    import subprocess
    import sys
    from pathlib import Path

    from click.testing import CliRunner

    from gateway.cli.main import cli
    from gateway.draw.reassignment import reassignment_problems

    task_id = drawn["task_id"]
    leaving, department, _ = team_of(gateway, task_id)[0]
    operator = Principal(role="department_operator", name="办事员", department_code=department)
    head = Principal(role="department_head", name="局长", department_code=department)
    with gateway.write() as session:
        item = reassign.request(session, operator, task_id, {"inspector_id": leaving, "reason_code": "other", "reason": "病假"})
        item_id = item.id
    pending = client.get(f"/api/v1/reassignments/{item_id}/record")
    assert pending.status_code == 404
    with gateway.write() as session:
        reassign.approve(session, head, item_id, settings=gateway.settings)
    record = client.get(f"/api/v1/reassignments/{item_id}/record").get_json()
    assert record["format"] == "shuangsui.reassignment/1" and reassignment_problems(record) == []
    with gateway.read() as session:
        draw = session.get(Draw, drawn["draw_id"])
        drawn_record = json.loads(draw.record)
        commitment_value = session.get(Reassignment, item_id).nonce_commitment
        assert record["draw_seed"] == draw.seed and record["seed"].startswith(draw.seed + "|")
    # the opaque ids are the draw record's: the leaving member is on that task's team there
    task_entry = next(t for t in drawn_record["tasks"] if t["uscc"] == record["uscc"])
    assert record["leaving"] in json.dumps(task_entry)
    assert commitment_value == record["nonce_commitment"]
    path = tmp_path / "reassignment.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    script = Path(__file__).resolve().parents[2] / "docs" / "verify_draw.py"
    ran = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True)
    assert ran.returncode == 0 and "一致" in ran.stdout, ran.stdout
    verified = CliRunner().invoke(cli, ["verify", str(path)])
    assert verified.exit_code == 0 and "一致" in verified.output
    others = [c["id"] for c in record["candidates"] if c["id"] not in record["barred"] and c["id"] != record["replacement"]]
    if others:  # naming anyone else is caught by both
        path.write_text(json.dumps(dict(record, replacement=others[0]), ensure_ascii=False), encoding="utf-8")
        assert subprocess.run([sys.executable, str(script), str(path)], capture_output=True).returncode == 1
        assert CliRunner().invoke(cli, ["verify", str(path)]).exit_code == 1


def test_the_requester_never_decides_and_cannot_foresee_the_replacement(gateway, drawn, client_as):
    task_id = drawn["task_id"]
    leaving, department, _ = team_of(gateway, task_id)[0]
    head = Principal(role="department_head", name="局长", department_code=department)
    with gateway.write() as session:
        item = reassign.request(session, head, task_id, {"inspector_id": leaving, "reason_code": "other", "reason": "病假"})
        item_id, commitment_value = item.id, item.nonce_commitment
    for decide in (lambda s: reassign.approve(s, head, item_id, settings=gateway.settings),
                   lambda s: reassign.reject(s, head, item_id, "自己驳回")):
        with pytest.raises(DomainError) as caught, gateway.write() as session:
            decide(session)
        assert caught.value.code == "requester_cannot_decide"
    assert team_of(gateway, task_id)[0][0] == leaving
    # What the requester sees before the decision: the commitment to the nonce, never the nonce.
    viewed = client_as("department_head", department=department).get(f"/api/v1/reassignments/{item_id}").get_json()
    assert viewed["nonce_commitment"] == commitment_value and "nonce" not in viewed
    with gateway.read() as session:
        assert session.get(Reassignment, item_id).nonce not in json.dumps(viewed)
    # Through the API, the same account is refused too.
    head_client = client_as("department_head", department=department)
    with gateway.write() as session:
        session.get(Reassignment, item_id).status = "rejected"
    mine = head_client.post(f"/api/v1/tasks/{task_id}/reassignments",
                            json={"inspector_id": leaving, "reason_code": "other", "reason": "再次"})
    assert mine.status_code == 201, mine.get_json()
    refused = head_client.post(f"/api/v1/reassignments/{mine.get_json()['id']}/approve", json={})
    assert refused.status_code == 403 and refused.get_json()["code"] == "requester_cannot_decide"


def test_reassignment_rules(gateway, drawn):
    task_id = drawn["task_id"]
    leaving, department, _ = team_of(gateway, task_id)[0]
    inspector = Principal(role="inspector", inspector_id=leaving, department_code=department)
    head = Principal(role="department_head", department_code=department)
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        reassign.request(session, head, task_id, {"inspector_id": 999999, "reason_code": "other", "reason": "x"})
    assert status_of(caught.value) == 422 and "inspector_id" in caught.value.errors
    with gateway.write() as session:
        item = reassign.request(session, inspector, task_id, {"inspector_id": leaving, "reason_code": "other", "reason": "出差"})
        item_id = item.id
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        reassign.request(session, head, task_id, {"inspector_id": leaving, "reason_code": "other", "reason": "再次"})
    assert caught.value.code == "reassignment_pending"
    others = [i for i, _, _ in team_of(gateway, task_id)[1:]]
    if others:
        with pytest.raises(DomainError) as caught, gateway.write() as session:  # an inspector asks only for themself
            reassign.request(session, inspector, task_id, {"inspector_id": others[0], "reason_code": "other", "reason": "x"})
        assert status_of(caught.value) == 403
    with gateway.write() as session:
        reassign.reject(session, head, item_id, "理由不充分")
    assert team_of(gateway, task_id)[0][0] == leaving
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        reassign.file(session, COUNTY, item_id, gateway.settings)
    assert caught.value.code == "not_fileable"


def test_no_replacement_left_changes_nothing(gateway, drawn):
    task_id = drawn["task_id"]
    leaving, department, _ = team_of(gateway, task_id)[0]
    head = Principal(role="department_head", department_code=department)
    with gateway.write() as session:
        item_id = reassign.request(session, head, task_id, {"inspector_id": leaving, "reason_code": "other", "reason": "x"}).id
        for person in session.scalars(select(Inspector).where(Inspector.department_code == department)):
            if person.id != leaving:
                person.active = False
    other_head = Principal(role="department_head", name="副局长", department_code=department)
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        reassign.approve(session, other_head, item_id, settings=gateway.settings)
    assert caught.value.code == "no_replacement" and department in caught.value.message
    assert team_of(gateway, task_id)[0][0] == leaving
    with gateway.read() as session:
        assert session.get(Reassignment, item_id).status == "requested"


def test_task_cli_writes_sheet_and_guide(gateway, drawn, settings, tmp_path):
    from click.testing import CliRunner

    from gateway.cli.main import cli

    base = ["--database-url", settings.database_url, "--instance", str(settings.instance_path)]
    runner = CliRunner()
    listed = runner.invoke(cli, [*base, "task", "list", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.output)
    for which in ("sheet", "guide"):
        out = tmp_path / f"{which}.html"
        result = runner.invoke(cli, [*base, "task", which, str(drawn["task_id"]), "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert "<!doctype html>" in out.read_text(encoding="utf-8")


# -------------------------------------------------------------------------- higher-level inspections

def test_import_inspections_drives_the_exclusion(gateway, client_as):
    from gateway.draw import service as draws
    from gateway.higher_level.models import HigherLevelInspection

    made = build_directory(gateway, per_matter=4)
    oil = made["targets"]["refined_oil"]
    oil_department = gateway.registry.departments[gateway.registry.matters["refined_oil"].department_code]
    year = YEAR
    csv = ("统一社会信用代码,检查机关,检查机关层级,检查日期,对口部门,抽查事项,检查编号\n"
           f"{oil[0]},焦作市商务局,市级,{year}-02-03,{oil_department.name},,JZ-1\n"
           f"{oil[1]},河南省某厅,省级,{year}-03-01,,refined_oil,\n"
           f"{oil[2]},国家某部,国家级,{year - 1}-12-01,,,\n")
    office = client_as("county_office")
    bad = office.post("/api/v1/higher-level-inspections/import",
                      data={"file": (io.BytesIO((csv + f"{oil[3]},武陟县某局,县级,{year}-01-01,,,\n").encode()), "h.csv")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and bad.json["code"] == "import_rows_invalid"
    with gateway.read() as session:
        assert session.scalar(select(func.count()).select_from(HigherLevelInspection)) == 0
    ok = office.post("/api/v1/higher-level-inspections/import", data={"file": (io.BytesIO(csv.encode()), "h.csv")},
                     content_type="multipart/form-data")
    assert ok.status_code == 200 and ok.json["created"] == 3, ok.json
    again = office.post("/api/v1/higher-level-inspections/import", data={"file": (io.BytesIO(csv.encode()), "h.csv")},
                        content_type="multipart/form-data")
    assert again.json["created"] == 0 and again.json["updated"] == 3
    assert client_as("department_operator").post("/api/v1/higher-level-inspections/import",
                                                 data={"file": (io.BytesIO(csv.encode()), "h.csv")},
                                                 content_type="multipart/form-data").status_code == 403
    listed = office.get("/api/v1/higher-level-inspections", query_string={"year": year}).json
    assert listed["total"] == 2
    with gateway.write() as session:
        draw = draws.freeze(session, COUNTY, published_plan(gateway))
        reasons = {(e["uscc"], e["matter"]): e["reason"] for e in draw.exclusions}
    assert reasons[(oil[0], "refined_oil")] == "higher_level_inspected"
    assert reasons[(oil[1], "refined_oil")] == "higher_level_inspected"
    assert (oil[2], "refined_oil") not in reasons  # last year's inspection does not count


def test_cli_import_inspections_reports_rows(gateway, settings, tmp_path):
    from click.testing import CliRunner

    from gateway.cli.main import cli

    made = build_directory(gateway, per_matter=2)
    path = tmp_path / "inspections.csv"
    path.write_text("统一社会信用代码,检查机关,检查机关层级,检查日期,抽查事项\n"
                    f"{made['targets']['crop_seed'][0]},焦作市农业农村局,市级,2027-05-06,no_such_matter\n"
                    f"{made['targets']['crop_seed'][1]},焦作市农业农村局,市,2027-05-06,crop_seed\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--database-url", settings.database_url, "--instance", str(settings.instance_path),
                                      "import", "inspections", str(path)])
    assert result.exit_code == 1 and "第 2 行 [matter_code]" in result.output
    result = CliRunner().invoke(cli, ["--database-url", settings.database_url, "--instance", str(settings.instance_path),
                                      "import", "inspections", str(path), "--partial"])
    assert result.exit_code == 0 and "新增 1" in result.output
