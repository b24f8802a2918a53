"""Non-site checks first (issue 16 item 4) in the result form: a matter checkable by written check
or data comparison (``Matter.non_site_methods``) is checked off site unless its plan chose a site
visit; the result form and the API offer and accept only the methods of that choice, with the stable
code ``method_not_planned`` naming the field. Off site needs no check-in."""
from __future__ import annotations

from gateway.testing.world import draw_task_for

MATTER = "work_safety"  # the emergency plugin marks it checkable by 书面检查
REASON = "上年度发生较大事故，须到现场核查隐患整改。"


def _form(drawn, methods: list[str]) -> dict:
    form = {f"checklists.{drawn.matter_code}.{code}": "true" if value is True else "false" if value is False
            else str(value) for code, value in drawn.values.items()}
    return {**form, "methods": methods, "result_codes": ["1"], "completed_on": drawn.result_body()["completed_on"],
            "signature.status": "signed", "signature.signer_name": "周建华", "signature.signer_title": "负责人"}


def test_an_off_site_matter_offers_and_accepts_only_the_non_site_methods(gateway, client_as):
    drawn = draw_task_for(gateway, MATTER, checked_in=False)
    inspector = client_as("inspector", inspector_id=drawn.inspector_id)
    checklist = inspector.get(f"/api/v1/tasks/{drawn.task_id}/checklist").json
    assert checklist["methods"] == ["书面检查"]
    assert checklist["off_site_matters"] == [MATTER] and checklist["site_visit"] is False

    refused = inspector.post(f"/api/v1/tasks/{drawn.task_id}/results",
                             json=drawn.result_body(methods=["书面检查", "实地核查"]))
    assert refused.status_code == 422 and refused.json["code"] == "method_not_planned"
    assert list(refused.json["errors"]) == ["methods.1"]
    assert "须到现场" in refused.json["errors"]["methods.1"][0] and "非现场检查" in refused.json["errors"]["methods.1"][0]

    # a written check needs no arrival confirmed (扫码入企) even though the task was drawn
    recorded = inspector.post(f"/api/v1/tasks/{drawn.task_id}/results", json=drawn.result_body(methods=["书面检查"]))
    assert recorded.status_code == 201, recorded.json
    assert recorded.json["methods"] == ["书面检查"]


def test_a_site_visit_chosen_by_the_plan_offers_the_site_methods_and_needs_the_check_in(gateway, client_as):
    drawn = draw_task_for(gateway, MATTER, checked_in=False, site_visit_reason=REASON)
    inspector = client_as("inspector", inspector_id=drawn.inspector_id)
    checklist = inspector.get(f"/api/v1/tasks/{drawn.task_id}/checklist").json
    assert checklist["methods"] == ["实地核查"]
    assert checklist["off_site_matters"] == [] and checklist["site_visit"] is True

    refused = inspector.post(f"/api/v1/tasks/{drawn.task_id}/results", json=drawn.result_body(methods=["书面检查"]))
    assert refused.status_code == 422 and refused.json["code"] == "method_not_planned"
    assert "选择了实地检查" in refused.json["errors"]["methods.0"][0]
    unknown = inspector.post(f"/api/v1/tasks/{drawn.task_id}/results", json=drawn.result_body(methods=["无人机巡查"]))
    assert unknown.status_code == 422 and unknown.json["code"] == "result_invalid"  # not a method of the matter

    no_arrival = inspector.post(f"/api/v1/tasks/{drawn.task_id}/results", json=drawn.result_body(methods=["实地核查"]))
    assert no_arrival.status_code == 409 and no_arrival.json["code"] == "checkin_required"


def test_the_result_page_offers_the_plan_s_methods_and_names_the_refused_one(gateway, client_as):
    drawn = draw_task_for(gateway, MATTER, checked_in=False)
    inspector = client_as("inspector", inspector_id=drawn.inspector_id)
    page = inspector.get(f"/console/tasks/{drawn.task_id}/result").get_data(as_text=True)
    methods = page[page.index('id="f-methods"'):page.index("</fieldset>", page.index('id="f-methods"'))]
    assert 'value="书面检查"' in methods and 'value="实地核查"' not in methods
    assert "无需到场扫码入企" in methods

    refused = inspector.post(f"/console/tasks/{drawn.task_id}/result", data=_form(drawn, ["实地核查"]))
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    methods = html[html.index('id="f-methods"'):html.index("</fieldset>", html.index('id="f-methods"'))]
    assert "has-error" in html[html.index('id="f-methods"') - 80:html.index('id="f-methods"')]
    assert "检查方式“实地核查”须到现场" in methods

    stored = inspector.post(f"/console/tasks/{drawn.task_id}/result", data=_form(drawn, ["书面检查"]))
    assert stored.status_code == 302, stored.get_data(as_text=True)[:2000]


def test_the_site_visit_page_offers_only_the_site_methods(gateway, client_as):
    drawn = draw_task_for(gateway, MATTER, site_visit_reason=REASON)
    inspector = client_as("inspector", inspector_id=drawn.inspector_id)
    page = inspector.get(f"/console/tasks/{drawn.task_id}/result").get_data(as_text=True)
    methods = page[page.index('id="f-methods"'):page.index("</fieldset>", page.index('id="f-methods"'))]
    assert 'value="实地核查"' in methods and 'value="书面检查"' not in methods and "扫码" not in methods
    stored = inspector.post(f"/console/tasks/{drawn.task_id}/result", data=_form(drawn, ["实地核查"]))
    assert stored.status_code == 302
