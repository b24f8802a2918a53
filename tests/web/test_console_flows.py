"""The console's forms without a browser: plans (errors beside fields, draft, publish, amend),
article 14 reassignment (request, approval, filing), a result with a photo, and a follow-up
disposition. Each page calls the services; these tests check the pages carry the forms through."""
from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import select

from tests.drawdb import build_directory, complete_draw, published_plan

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _year_plan(gateway, title: str) -> int:
    year = date.today().year
    return published_plan(gateway, year=year, title=title, window_start=date(year, 1, 1), window_end=date(year, 12, 31))


def test_plan_form_errors_draft_publish_and_amend(gateway, client_as):
    office = client_as("county_office")
    year = date.today().year
    # a joint plan needs a matter other departments bring items to (an extra plugin's may have none)
    matter = next(code for code in gateway.registry.matters if gateway.registry.cooperating_departments(code))
    lead = gateway.registry.matters[matter].department_code
    form = {"kind": "joint", "year": str(year), "title": "网页表单测试计划", "lead_department": lead,
            "ratios.A": "0.05", "ratios.B": "0.05", "ratios.C": "0.1", "ratios.D": "0.2", "frequency": "每年一次",
            "window_start": f"{year}-05-01", "window_end": f"{year}-04-01", "key_rule.risk_classes": "D",
            "key_rule.min_complaints": "3"}
    response = office.post("/console/plans/new", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "error-summary" in html
    matters_block = html[html.index('id="f-matters"'):]
    assert 'class="field bare has-error" id="f-matters"' in html
    assert "请至少选择一个抽查事项。" in matters_block[:matters_block.index("</fieldset>")]
    assert 'value="网页表单测试计划"' in html  # what was typed stays

    form["matters"] = matter
    html = office.post("/console/plans/new", data=form).get_data(as_text=True)
    assert 'class="field has-error" id="f-window_end-field"' in html or "检查结束日期不能早于开始日期。" in html

    form["window_end"] = f"{year}-10-31"
    response = office.post("/console/plans/new", data=form)
    assert response.status_code == 302
    plan_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    refused = office.post(f"/console/plans/{plan_id}/edit", data={**form, "title": "", "window_end": f"{year}-04-01"})
    assert refused.status_code == 422 and "error-summary" in refused.get_data(as_text=True)  # the form again
    response = office.post(f"/console/plans/{plan_id}/edit", data={**form, "title": "网页表单测试计划（改）"})
    assert response.status_code == 302
    assert office.post(f"/console/plans/{plan_id}/publish").status_code == 302
    page = office.get(f"/console/plans/{plan_id}").get_data(as_text=True)
    assert "网页表单测试计划（改）" in page and "已发布" in page
    response = office.post(f"/console/plans/{plan_id}/amend", data={**form, "reason": "调整检查期间", "window_end": f"{year}-11-30"})
    assert response.status_code == 302
    amended = office.get(response.headers["Location"]).get_data(as_text=True)
    assert "第 2 版" in amended and "调整检查期间" in amended
    # the public sees the published plan, not the draft amendment
    assert "网页表单测试计划（改）" in client_as("public").get("/plans").get_data(as_text=True)


def test_reassignment_is_requested_approved_and_filed(gateway, client_as):
    from gateway.tasks.models import Reassignment, Task

    build_directory(gateway, per_matter=4, per_department=4)
    complete_draw(gateway, _year_plan(gateway, "人员调整测试计划"))
    with gateway.read() as session:
        task = session.scalar(select(Task).order_by(Task.id))
        member = next(m for m in task.members if m.active and m.role != "lead")
        task_id, inspector_id, department = task.id, member.inspector_id, member.department_code
    operator = client_as("department_operator", department)
    page = operator.get(f"/console/tasks/{task_id}").get_data(as_text=True)
    assert "申请调整检查人员" in page
    response = operator.post(f"/console/tasks/{task_id}/reassignments",
                             data={"inspector_id": inspector_id, "reason_code": "conflict_of_interest", "reason": "近亲属在该单位任职"})
    assert response.status_code == 302
    with gateway.read() as session:
        request_id = session.scalar(select(Reassignment.id))
    # the operator cannot approve; the head can
    assert operator.post(f"/console/reassignments/{request_id}/approve").status_code == 403
    head = client_as("department_head", department)
    assert head.post(f"/console/reassignments/{request_id}/approve", data={"note": "同意"}).status_code == 302
    office = client_as("county_office")
    assert "待备案" in office.get("/console/reassignments?filing=pending").get_data(as_text=True)
    assert office.post(f"/console/reassignments/{request_id}/file").status_code == 302
    with gateway.read() as session:
        item = session.get(Reassignment, request_id)
        assert (item.status, item.filing_status) == ("approved", "filed")
        number = item.filing_number
    assert number in office.get("/console/reassignments").get_data(as_text=True)


def test_a_result_with_a_photo_then_a_disposition(gateway, client_as):
    from gateway.demo.codes import confirm_arrival
    from gateway.results import service as results
    from gateway.results.checklist import merged_checklist
    from gateway.results.models import Disposition, InspectionResult
    from gateway.tasks.models import Task

    build_directory(gateway, per_matter=4, per_department=4)
    complete_draw(gateway, _year_plan(gateway, "结果与处置测试计划"))
    with gateway.read() as session:
        tasks = list(session.scalars(select(Task).order_by(Task.id)))
        entries = [(t.id, t.lead_department, list(t.matter_codes),
                    next(m.inspector_id for m in t.members if m.active and m.role == "lead")) for t in tasks]
    stored = None
    for task_id, lead, matters, recorder in entries:
        inspector = client_as("inspector", inspector_id=recorder)
        confirm_arrival(gateway, task_id)  # a site visit: the enterprise confirmed the team's arrival
        form = {"methods": _method(gateway, matters), "result_codes": ["A", "D"],
                "completed_on": date.today().isoformat(), "signature.status": "refused",
                "signature.refusal_note": "负责人拒绝签字，两名检查人员在场见证。"}
        for matter in matters:
            failed = False
            for f in merged_checklist(gateway.plugin_manager, gateway.registry, matter).describe()["fields"]:
                name = f"checklists.{matter}.{f['code']}"
                if f["kind"] == "outcome":
                    form[name] = "compliant" if failed else "non_compliant"
                    failed = True
                elif f["kind"] == "boolean":
                    form[name] = "true"
                elif f["kind"] in ("integer", "decimal"):
                    form[name] = "3"
                elif f["kind"] == "choice":
                    form[name] = next(iter(f["choices"]))
                else:
                    form[name] = "现场检查发现购销台账记录不全。"
        data = {**form, "photos": (io.BytesIO(PNG), "现场照片.png")}
        response = inspector.post(f"/console/tasks/{task_id}/result", data=data, content_type="multipart/form-data")
        if response.status_code == 302:
            stored = (task_id, lead)
            break
        assert response.status_code == 422  # a plugin's own rule this generic filling does not meet
    assert stored is not None, "no task accepted a generic problem checklist"
    task_id, lead = stored
    with gateway.read() as session:
        result = session.scalar(select(InspectionResult).where(InspectionResult.task_id == task_id))
        result_id, attachment_id = result.id, result.attachments[0].id
        assert result.has_problems and result.signature_status == "refused"
    head = client_as("department_head", lead)
    # returned to the team with a reason, changed, then approved
    refused = head.post(f"/console/results/{result_id}/review", data={"decision": "return"})
    assert refused.status_code == 422 and "退回修改时必须填写退回原因" in refused.get_data(as_text=True)
    with gateway.read() as session:
        assert results.get_result(session, result_id).status == "recorded"  # a return needs a reason
    head.post(f"/console/results/{result_id}/review", data={"decision": "return", "note": "请补充拒签见证人姓名"})
    inspector = client_as("inspector", inspector_id=recorder_of(gateway, task_id))
    page = inspector.get(f"/console/tasks/{task_id}/result").get_data(as_text=True)
    assert "请补充拒签见证人姓名" in page and 'name="attachment_ids" value="%d" checked' % attachment_id in page
    form["signature.refusal_note"] = "负责人拒绝签字，检查人员张某、李某在场见证。"
    form["attachment_ids"] = str(attachment_id)
    assert inspector.post(f"/console/tasks/{task_id}/result", data=form).status_code == 302
    view = head.get(f"/console/results/{result_id}").get_data(as_text=True)
    assert f"/console/attachments/{attachment_id}" in view
    assert head.get(f"/console/attachments/{attachment_id}").data == PNG
    assert head.post(f"/console/results/{result_id}/review", data={"decision": "approve"}).status_code == 302
    assert head.post(f"/console/results/{result_id}/publish").status_code == 302
    # the lead department records a follow-up disposition and publishes it
    operator = client_as("department_operator", lead)
    response = operator.post(f"/console/results/{result_id}/dispositions", data={
        "kind": "rectified", "decided_on": date.today().isoformat(), "description": "已责令整改，复查时整改到位。"})
    assert response.status_code == 302
    with gateway.read() as session:
        disposition_id = session.scalar(select(Disposition.id).where(Disposition.result_id == result_id))
    assert disposition_id is not None
    assert head.post(f"/console/dispositions/{disposition_id}/publish", data={"result_id": result_id}).status_code == 302
    public = client_as("public").get(f"/results/{result_id}").get_data(as_text=True)
    assert "已责令整改，复查时整改到位。" in public
    assert "现场照片.png" not in public and "/console/attachments/" not in public
    assert "待处置" not in head.get("/console/followups").get_data(as_text=True)
    with gateway.read() as session:
        assert results.get_result(session, result_id).is_published
    # a correction is a new version with its reason
    page = inspector.get(f"/console/tasks/{task_id}/result?correct=1").get_data(as_text=True)
    assert "更正检查结果" in page and 'name="reason"' in page
    response = inspector.post(f"/console/tasks/{task_id}/result", data={**form, "correct": "1", "reason": "更正拒签说明"})
    assert response.status_code == 302
    with gateway.read() as session:
        latest = results.latest_version(session, task_id)
        assert (latest.version, latest.correction_reason, latest.status) == (2, "更正拒签说明", "recorded")


def recorder_of(gateway, task_id: int) -> int:
    from gateway.tasks.models import Task

    with gateway.read() as session:
        task = session.get(Task, task_id)
        return next(m.inspector_id for m in task.members if m.active and m.role == "lead")


def test_projector_commitments_need_names_and_commitments(gateway, client_as):
    from gateway.draw import service as draws
    from tests.drawdb import COUNTY

    build_directory(gateway, per_matter=3, per_department=3)
    plan_id = _year_plan(gateway, "投影页面测试计划")
    with gateway.write() as session:
        draw_id = draws.freeze(session, COUNTY, plan_id).id
    office = client_as("county_office")
    page = office.get(f"/console/draws/{draw_id}").get_data(as_text=True)
    assert 'data-commit-form' in page and 'type="password" id="digits-0"' in page
    assert 'name="digits' not in page  # the digits are never sent at this stage
    response = office.post(f"/console/draws/{draw_id}/commitments", data={
        "role": ["organiser", "operator", "supervisor", "witness", "witness"],
        "name": ["张三", "", "王五", "", ""],
        "commitment": ["a" * 64, "b" * 64, "not-a-hash", "", ""],
    })
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请填写参与人姓名。" in html and "承诺值应为 64 位十六进制" in html
    assert 'value="张三"' in html
    # the supervisor watches; only the office may record
    assert client_as("supervisor").post(f"/console/draws/{draw_id}/commitments", data={}).status_code == 403


def _method(gateway, matters: list[str]) -> str:
    for code in matters:
        matter = gateway.registry.matters[code]
        if matter.methods:  # a matter checkable off site is checked so unless the plan visits (none here do)
            return (matter.non_site_methods or matter.methods)[0]
    pytest.fail("no method")


def test_the_projector_pages_every_task_and_finds_one(gateway, client_as, monkeypatch):
    """The projector lists the drawn tasks a page at a time, every page reachable (not only the first
    300), and finds a task by number, as the public draw page does."""
    import json

    from gateway.draw.models import Draw
    from gateway.web import draw as draw_pages

    build_directory(gateway, per_matter=3, per_department=3)
    draw_id = complete_draw(gateway, _year_plan(gateway, "投影分页测试计划"))
    with gateway.read() as session:
        numbers = [t["number"] for t in json.loads(session.get(Draw, draw_id).record)["tasks"]]
    assert len(numbers) > 4
    monkeypatch.setattr(draw_pages, "PROJECTOR_PAGE_SIZE", 2)
    office = client_as("county_office")

    def listed(html: str) -> list[str]:
        table = html[html.index('id="tasks"'):html.index("</table>", html.index('id="tasks"'))]
        return [n for n in numbers if f">{n}</a>" in table]

    first = office.get(f"/console/draws/{draw_id}").get_data(as_text=True)
    assert listed(first) == numbers[:2] and 'aria-label="分页"' in first and f"共 {len(numbers)} 条" in first
    last_page = (len(numbers) + 1) // 2
    last = office.get(f"/console/draws/{draw_id}?page={last_page}").get_data(as_text=True)
    assert listed(last) == numbers[(last_page - 1) * 2:]
    found = office.get(f"/console/draws/{draw_id}?q={numbers[-1]}").get_data(as_text=True)
    assert listed(found) == [numbers[-1]] and "仅显示前" not in found
