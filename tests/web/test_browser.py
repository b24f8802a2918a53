"""The pages in a real browser: Debian's Chromium, headless, driven by Playwright.

- every role signs in through the form and lands on its own home page;
- a whole witnessed draw on the projector page: freeze, each participant's digits (the commitment
  computed in the browser), the reveal checked against the commitments, the seed, the selection
  and the teams; the public record then verifies;
- an inspector fills the generated result form on a 375 px phone, sees a validation error beside
  the field, corrects it; the lead department reviews and publishes; the public finds the result
  by USCC, without any inspector's personal data;
- every page at 375 px: no horizontal scrolling, a title, a label on every input, keyboard-reachable
  controls.
"""
from __future__ import annotations

import hashlib
import json
import re

import pytest
from sqlalchemy import select

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

from tests.web.harness import DESKTOP, PHONE, keyboard_reaches, page_problems, sign_in, sign_out

pytestmark = pytest.mark.browser

PARTICIPANTS = (("张建国", "31415926"), ("李明", "53589793"), ("王芳", "23846264"), ("赵磊（企业代表）", "3383"))


def test_sign_in_per_role(web_world):
    """Each role signs in with the form and lands on its home; the navigation is its own."""
    expected = {
        "county": ("/console", "抽查工作统计", "抽取"),
        "supervisor": ("/console", "抽查工作统计", "抽取"),
        "operator": ("/console", "抽查工作统计", "结果审核与公示"),
        "head": ("/console", "抽查工作统计", "结果审核与公示"),
        "inspector": ("/console/my-tasks", "我的检查任务", "我的任务"),
    }
    page = web_world.new_page(DESKTOP)
    for key, (path, heading, nav_item) in expected.items():
        account = web_world.accounts[key]
        sign_in(page, web_world.base_url, account.username)
        assert page.url.rstrip("/").endswith(path), (key, page.url)
        assert heading in page.locator("h1").inner_text()
        assert page.locator("nav.site-nav").get_by_role("link", name=nav_item, exact=True).count() == 1
        assert account.username in page.locator(".user-box").inner_text()
        sign_out(page)
        assert page.locator("h1").inner_text() == "查询市场主体的抽查检查结果"
    # a wrong password is refused on the form, in Chinese
    page.goto(web_world.base_url + "/sign-in")
    page.get_by_label("用户名").fill(web_world.accounts["county"].username)
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    assert "用户名或密码错误" in page.locator("#sign-in-error").inner_text()
    page.context.close()


def test_witnessed_draw_then_result_published_and_found_by_the_public(web_world):
    from gateway.codes.service import issue as issue_code
    from gateway.draw.models import Draw
    from gateway.draw.verify import verify_record
    from gateway.enterprise.access_codes import issue_access_code
    from gateway.tasks.models import Task
    from tests.drawdb import COUNTY

    gateway, base = web_world.gateway, web_world.base_url

    # --- the county office runs the draw on the projector page ---------------------------------
    office = web_world.new_page(DESKTOP)
    sign_in(office, base, web_world.accounts["county"].username)
    office.goto(f"{base}/console/plans/{web_world.plan_for_browser_draw}")
    office.locator("summary", has_text="冻结对象范围，开始抽取").click()
    office.get_by_role("button", name="确认冻结对象范围，开始抽取").click()
    with gateway.read() as session:
        draw = session.scalar(select(Draw).where(Draw.plan_id == web_world.plan_for_browser_draw))
        draw_id, population_sha256 = draw.id, draw.population_sha256
    assert office.locator("#population-sha256").inner_text() == population_sha256
    assert "随机数承诺" in office.locator("#stage h2").inner_text()

    roles = ("organiser", "operator", "supervisor", "witness")
    for index, (name, digits) in enumerate(PARTICIPANTS):
        assert office.locator(f"#role-{index}").input_value() == roles[index]
        office.locator(f"#name-{index}").fill(name)
        if roles[index] == "witness":
            office.locator(f"#category-{index}").select_option("市场主体代表")
        else:  # article 16: three different persons, the supervisor from outside the office
            office.locator(f"#unit-{index}").fill(("县双随机办", "县政务服务中心", "县纪委监委派驻组")[index])
            office.locator(f"#identity-{index}").fill(f"41082219900101{index:04d}")
        office.locator(f"#digits-{index}").fill(digits)
        expect(office.locator(f"#salt-{index}")).to_have_value(re.compile(r"^[0-9a-f]{24}$"))
        salt = office.locator(f"#salt-{index}").input_value()
        computed = hashlib.sha256(f"{salt}|{digits}".encode()).hexdigest()
        assert office.locator(f"#commitment-{index}").input_value() == computed  # SHA-256 in the browser
        assert digits not in office.content()  # the digits are hidden on the projector
    office.get_by_role("button", name="记录全部承诺").click()

    assert "揭示随机数" in office.locator("#stage h2").inner_text()
    for order, (_, digits) in enumerate(PARTICIPANTS, start=1):
        expect(office.locator(f"#digits-{order}")).to_have_value(digits)  # kept in the tab, not on the server
        expect(office.locator("[data-check]").nth(order - 1)).to_have_text("✓ 与承诺值一致")
    office.get_by_label("其他在场见证人").fill("钱七（新闻媒体代表）")
    office.get_by_role("button", name="揭示并确定随机种子").click()

    seed = "-".join(digits for _, digits in PARTICIPANTS)
    assert office.locator("#seed").inner_text() == seed
    office.get_by_role("button", name="执行抽取").click()
    assert "抽取完成" in office.locator(".flash-success").inner_text()
    with gateway.read() as session:
        draw = session.get(Draw, draw_id)
        record = json.loads(draw.record)
        task_count = draw.task_count
    assert task_count > 0
    assert office.locator("#result-title").inner_text() == f"抽取结果：{task_count} 项检查任务"
    assert office.locator("#tasks tbody tr").count() == task_count
    assert verify_record(record, expected_population_sha256=population_sha256).ok
    assert "钱七（新闻媒体代表）" in office.locator("#stage").inner_text()
    office.context.close()

    # --- an inspector records the result on a phone --------------------------------------------
    with gateway.read() as session:
        task = session.scalar(select(Task).where(Task.draw_id == draw_id).order_by(Task.id))
        task_id, lead, uscc, target_name = task.id, task.lead_department, task.target.uscc, task.target.name
        matters = list(task.matter_codes)
        recorder = next(m for m in task.members if m.active and m.role == "lead")
        recorder_id, recorder_name, certificate = recorder.inspector_id, recorder.inspector.name, recorder.inspector.certificate_no
    # --- on arrival the enterprise scans the team's code and confirms with its access code -------
    with gateway.write() as session:
        task = session.get(Task, task_id)
        code, access_code = issue_code(session, gateway.settings, task), issue_access_code(session, task, actor=COUNTY)
    enterprise = web_world.new_page(PHONE)
    enterprise.goto(f"{base}/code/{code}")
    assert "真实有效的检查" in enterprise.locator("#code-verdict").inner_text()
    assert certificate not in enterprise.content() and recorder_name not in enterprise.content()
    assert page_problems(enterprise) == []
    enterprise.get_by_label("访问码（见检查通知书）").fill(access_code)
    enterprise.get_by_role("button", name="确认到场").click()
    assert "已确认检查组到场" in enterprise.locator("#checkin-done").inner_text()
    enterprise.context.close()

    inspector = web_world.account(f"inspector-{recorder_id}", "inspector", inspector_id=recorder_id)
    phone = web_world.new_page(PHONE)
    sign_in(phone, base, inspector)
    phone.get_by_role("link", name=target_name).first.wait_for()
    phone.goto(f"{base}/console/tasks/{task_id}/result")
    assert page_problems(phone) == []

    skipped = _fill_result_form(phone, gateway, matters, leave_out_first=True)
    phone.get_by_role("button", name="提交检查结果").click()
    phone.locator(".error-summary").wait_for()  # the refused form's page has arrived
    # the error is shown beside the field, named in the summary, and nothing else was lost
    field = phone.locator(f"[id='{skipped}-field']")
    assert "has-error" in field.get_attribute("class")
    assert field.locator(".field-error").inner_text() == "✕ 此项为必填项，请填写或选择。" or \
        field.locator(".field-error").inner_text() == "此项为必填项，请填写或选择。"
    assert field.locator("input").first.get_attribute("aria-invalid") == "true"
    assert phone.locator(".error-summary").get_by_role("link").count() == 1
    assert phone.locator("[id='f-signature-signer_name']").input_value() == "周建华"
    assert page_problems(phone) == []

    _fill_result_form(phone, gateway, matters, only=skipped)
    phone.get_by_role("button", name="提交检查结果").click()
    assert "检查结果已提交" in phone.locator(".flash-success").inner_text()
    phone.context.close()

    # --- the lead department reviews and publishes ---------------------------------------------
    head = web_world.new_page(DESKTOP)
    sign_in(head, base, web_world.account(f"{lead}-head-web", "department_head", department=lead))
    head.goto(base + "/console/review")
    head.get_by_role("link", name=target_name).click()
    head.get_by_role("button", name="审核通过").click()
    assert "审核通过" in head.locator(".flash-success").inner_text()
    head.locator("summary", has_text="公示检查结果").click()
    head.get_by_role("button", name="确认公示检查结果").click()
    assert "检查结果已公示" in head.locator(".flash-success").inner_text()
    head.context.close()

    # --- the public finds it --------------------------------------------------------------------
    public = web_world.new_page(PHONE)
    public.goto(base + "/")
    public.get_by_label("统一社会信用代码或名称").fill(uscc)
    public.get_by_role("button", name="查询").click()
    public.get_by_role("link", name=target_name).first.click()
    assert public.locator("h1").inner_text() == target_name
    assert "未发现问题" in public.locator("main").inner_text()
    text = public.content()
    assert recorder_name not in text and certificate not in text
    public.get_by_role("link", name=target_name).first.click()
    assert "抽查检查结果" in public.locator("h1").inner_text()
    assert recorder_name not in public.content() and "周建华" not in public.content()
    public.context.close()


def _fill_result_form(page, gateway, matters, leave_out_first: bool = False, only: str | None = None) -> str | None:
    """Fill the generated checklist with values every plugin accepts; return the id of the field
    left empty (the first of the first matter) when ``leave_out_first``."""
    from gateway.results.checklist import merged_checklist
    from tests.results.conftest import sample_values

    skipped = None
    for matter in matters:
        values = sample_values(gateway, matter)
        fields = merged_checklist(gateway.plugin_manager, gateway.registry, matter).describe()["fields"]
        for f in fields:
            name = f"checklists.{matter}.{f['code']}"
            element_id = "f-" + name.replace(".", "-")
            if leave_out_first and skipped is None:
                skipped = element_id
                continue
            if only is not None and element_id != only:
                continue
            value = values.get(f["code"])
            if value is None:
                continue
            text = "true" if value is True else "false" if value is False else str(value)
            radios = page.locator(f"input[type=radio][name='{name}'][value='{text}']")
            if radios.count():
                radios.check()
            elif page.locator(f"select[name='{name}']").count():
                page.locator(f"select[name='{name}']").select_option(text)
            else:
                page.locator(f"[name='{name}']").fill(text)
    if only is None:
        page.locator("input[name=methods]").first.check()
        page.locator("#code-1").check()
        page.locator("[id='f-signature-status']").check()
        page.locator("[id='f-signature-signer_name']").fill("周建华")
        page.locator("[id='f-signature-signer_title']").fill("负责人")
    return skipped


def _pages(world) -> dict[str, list[str]]:
    from gateway.tasks.models import Task

    with world.gateway.read() as session:
        task = session.get(Task, world.task_id)
        plan_id = task.plan_id
    return {
        "public": ["/", f"/search?q={world.public_uscc}", f"/targets/{world.public_uscc}",
                   f"/results/{world.published_result}", "/matters", "/plans", f"/plans/{world.drawn_plan}",
                   f"/draws/{world.drawn_draw}", "/verify", "/sign-in"],
        "county": ["/console", "/console/plans", "/console/plans/new", f"/console/plans/{plan_id}",
                   f"/console/plans/{plan_id}/amend", "/console/draws", f"/console/draws/{world.frozen_draw}",
                   f"/console/draws/{world.drawn_draw}", f"/console/draws/{world.drawn_draw}/print",
                   f"/console/draws/{world.drawn_draw}/teams", "/console/tasks", f"/console/tasks/{world.task_id}",
                   f"/console/tasks/{world.task_id}/sheet", f"/console/tasks/{world.task_id}/guide",
                   "/console/reassignments", "/console/review?status=published",
                   f"/console/results/{world.published_result}", "/console/followups", "/console/deadlines",
                   "/console/matters", "/console/directory/targets", "/console/directory/inspectors",
                   "/console/directory/import", "/console/sync", "/console/accounts",
                   "/console/accounts?role=inspector", "/console/tokens", "/console/tokens?all=1"],
        "head": ["/console", "/console/review", f"/console/results/{world.recorded_result}",
                 f"/console/tasks/{world.task_id}"],
        "inspector": ["/console/my-tasks", f"/console/tasks/{world.task_id}"],
    }


def test_every_page_at_375px_is_usable(web_world):
    """No horizontal scrolling at 375 px, a title, labelled inputs, keyboard-reachable controls, and
    nothing the browser refuses (the CSP allows no inline script or style)."""
    failures = {}
    for who, paths in _pages(web_world).items():
        page = web_world.new_page(PHONE)
        console_errors: list[str] = []  # e.g. a CSP refusal of an inline style or script
        page.on("console", lambda m, errors=console_errors: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e, errors=console_errors: errors.append(str(e)))
        if who != "public":
            sign_in(page, web_world.base_url, web_world.accounts[who].username)
        for path in paths:
            response = page.goto(web_world.base_url + path)
            assert response.status == 200, (who, path, response.status)
            problems = page_problems(page) + console_errors
            console_errors.clear()
            if problems:
                failures[f"{who} {path}"] = problems
        page.context.close()
    assert failures == {}


def test_the_county_office_creates_an_account_on_a_phone_and_it_signs_in(web_world):
    """The accounts page at 375 px: a validation error beside its field, then the generated password
    shown once, which signs the new account in; a token shown once, then revoked."""
    base = web_world.base_url
    page = web_world.new_page(PHONE)
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    sign_in(page, base, web_world.accounts["county"].username)
    page.locator("nav.site-nav").get_by_role("link", name="账号与令牌").click()
    assert page.locator("h1").inner_text() == "用户账号与访问令牌"
    assert keyboard_reaches(page, "#new-account button[type=submit]", max_tabs=150)

    page.get_by_label("用户名").fill("browser-op")
    page.get_by_label("显示名称").fill("浏览器测试操作员")
    page.locator("#f-role").select_option("department_operator")
    page.get_by_role("button", name="建立账号").click()
    field = page.locator("#f-department_code").locator("xpath=..")
    assert "has-error" in field.get_attribute("class")
    assert field.locator(".field-error").inner_text() == "部门角色须指定所属部门。"
    assert page.get_by_label("用户名").input_value() == "browser-op"  # what was typed stays
    assert page_problems(page) == []

    department = web_world.accounts["operator"].department
    page.locator("#f-department_code").select_option(department)
    page.get_by_role("button", name="建立账号").click()
    assert "此密码只显示这一次" in page.locator(".secret-box").inner_text()
    password = page.locator("#generated-password").inner_text().strip()
    assert len(password) >= 20 and password not in page.url
    assert page.locator("#accounts").get_by_text("browser-op", exact=True).count() == 1
    assert page_problems(page) == []
    page.goto(base + "/console/accounts")
    assert password not in page.content()

    page.goto(base + "/console/tokens")
    page.get_by_label("令牌名称").fill("浏览器测试令牌")
    page.get_by_label("按角色和部门").check()
    page.locator("#f-role").select_option("supervisor")
    page.get_by_role("button", name="建立令牌").click()
    token = page.locator("#new-token").inner_text().strip()
    assert token.startswith("ssg_") and token not in page.locator("#tokens").inner_text()
    assert page_problems(page) == []
    row = page.locator("#tokens tr", has_text="浏览器测试令牌")
    row.get_by_role("button", name="吊销").click()
    assert "已吊销" in page.locator(".flash-success").inner_text()
    assert page.locator("#tokens tr", has_text="浏览器测试令牌").count() == 0
    sign_out(page)

    sign_in(page, base, "browser-op", password)
    assert "browser-op" in page.locator(".user-box").inner_text()
    assert page.locator("nav.site-nav").get_by_role("link", name="账号与令牌").count() == 0
    assert page.goto(base + "/console/accounts").status == 403
    # nothing the browser refused (CSP); the 422 and 403 answers themselves are expected
    assert [e for e in console_errors if not e.startswith("Failed to load resource")] == []
    page.context.close()


def test_keyboard_reaches_the_main_controls(web_world):
    page = web_world.new_page(PHONE)
    page.goto(web_world.base_url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip-link"
    assert keyboard_reaches(page, "#q")
    assert keyboard_reaches(page, "main button[type=submit]")
    sign_in(page, web_world.base_url, web_world.accounts["inspector"].username)
    page.goto(f"{web_world.base_url}/console/tasks/{web_world.task_id}")
    assert keyboard_reaches(page, "main a[href$='/sheet']", max_tabs=80)
    page.context.close()


def test_the_draw_page_hashes_like_python(web_world):
    """The projector's SHA-256 (vendored, works without HTTPS) agrees with hashlib."""
    page = web_world.new_page(DESKTOP)
    sign_in(page, web_world.base_url, web_world.accounts["supervisor"].username)
    page.goto(f"{web_world.base_url}/console/draws/{web_world.frozen_draw}")
    for text in ("", "abc", "盐值-2026|31415926", "x" * 200):
        assert page.evaluate("(t) => window.shuangsuiSha256Hex(t)", text) == hashlib.sha256(text.encode()).hexdigest()
    # a supervisor watches but cannot run the draw
    assert page.get_by_role("button", name="记录全部承诺").count() == 0
    assert re.search(r"等待县双随机办记录", page.locator("#stage").inner_text())
    page.context.close()
