"""The enterprise portal on a 375 px phone: sign in with the notice's access code, file a statement
on the draft result, rate the inspection. (The inspection code's scan, verify and check-in steps of
issue 17 come before these once they are merged.)"""
from __future__ import annotations

from sqlalchemy import select

from gateway.enterprise import notices
from gateway.enterprise.models import Rating, Statement
from gateway.results.models import InspectionResult
from gateway.security.audit import AuditEntry
from gateway.security.principal import Principal
from tests.web.harness import PHONE, page_problems


def test_enterprise_signs_in_files_a_statement_and_rates_on_a_phone(web_world):
    gateway = web_world.gateway
    with gateway.write() as session:
        result = session.get(InspectionResult, web_world.recorded_result)
        task_id, uscc = result.task_id, result.task.target.uscc
        head = Principal(role="department_head", name="测试负责人", department_code=result.task.lead_department)
        _, code = notices.generate_notice(gateway, session, head, task_id, "测试联系人 0391-7220000")
    page = web_world.new_page(PHONE)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(web_world.base_url + "/portal/")
    assert page_problems(page) == []
    # A wrong code first: a clear Chinese message on the form, no 500.
    page.fill("#uscc", uscc)
    page.fill("#code", code[:-1] + ("2" if code[-1] != "2" else "3"))
    page.click("button[type=submit]")
    assert "访问码不正确" in page.inner_text("#sign-in-error")
    errors.clear()  # the refused sign-in answered 401, which the browser logs
    page.fill("#uscc", uscc)
    page.fill("#code", code)
    page.click("button[type=submit]")
    next_code = page.inner_text("#next-code").strip()
    assert next_code and next_code != code
    assert page_problems(page) == []
    page.click("text=查看本单位的检查")
    card = page.locator(f"#task-{task_id}")
    assert "待公示的检查结果" in card.inner_text()
    assert page_problems(page) == []
    card.locator("textarea[name=text]").fill("现场检查时我单位负责人不在场，台账已补充，请予核实。")
    card.get_by_role("button", name="提交陈述申辩").click()
    assert "陈述申辩已提交" in page.inner_text(".flash-success")
    card = page.locator(f"#task-{task_id}")
    assert "等待牵头部门答复" in card.inner_text()
    card.locator("select[name=score]").select_option("4")
    card.locator("textarea[name=comment]").fill("检查人员文明规范。")
    card.get_by_role("button", name="提交评价").click()
    assert "感谢您的评价" in page.inner_text(".flash-success")
    assert "您已评价：4 分" in page.inner_text(f"#rated-{task_id}")
    assert page_problems(page) == [] and errors == []
    page.context.close()
    with gateway.read() as session:
        assert session.scalar(select(Statement.text).where(Statement.task_id == task_id)).startswith("现场检查时")
        assert session.scalar(select(Rating.score).where(Rating.task_id == task_id)) == 4
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("enterprise.%"))))
    assert "enterprise.sign_in" in actions and "enterprise.access_code.refuse" in actions
