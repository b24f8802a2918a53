"""Everyday use in a real browser (issue 23): finding one's own work among many tasks, confirming
what cannot be undone, the small fixes, and checking a draw without a programmer."""
from __future__ import annotations

import pytest
from sqlalchemy import select

playwright_api = pytest.importorskip("playwright.sync_api")

from tests.web.harness import DESKTOP, PHONE, browser_verdicts, page_problems, serve_tampered, sign_in  # noqa: E402

pytestmark = pytest.mark.browser


def _draw_tasks(web_world):
    from gateway.tasks.models import Task

    with web_world.gateway.read() as session:
        return [(t.id, t.number, t.target.name, t.target.uscc, t.lead_department)
                for t in session.scalars(select(Task).where(Task.draw_id == web_world.drawn_draw).order_by(Task.id))]


def test_task_list_filters_by_plan_draw_and_name_with_page_numbers(web_world):
    base, tasks = web_world.base_url, _draw_tasks(web_world)
    page = web_world.new_page(DESKTOP)
    sign_in(page, base, web_world.accounts["county"].username)
    page.goto(f"{base}/console/tasks")
    page.get_by_label("抽查计划").select_option(str(web_world.drawn_plan))
    page.get_by_role("button", name="筛选").click()
    assert f"plan_id={web_world.drawn_plan}" in page.url
    assert f"共 {len(tasks)} 条" in page.locator("main").inner_text()
    page.get_by_label("抽取").select_option(str(web_world.drawn_draw))
    page.get_by_role("button", name="筛选").click()
    assert f"共 {len(tasks)} 条" in page.locator("main").inner_text()

    # a part of a name, and a credit code typed with spaces, each find the task
    _, number, name, uscc, _ = tasks[3]
    for typed in (name[2:6], f"{uscc[:8]} {uscc[8:]}"):
        page.get_by_label("检查对象名称、信用代码或任务编号").fill(typed)
        page.get_by_role("button", name="筛选").click()
        rows = page.locator("table tbody tr")
        assert all(name in rows.nth(i).inner_text() or typed in rows.nth(i).inner_text() for i in range(rows.count()))
        assert number in page.locator("table").inner_text()

    # page numbers, not only 下一页
    page.goto(f"{base}/console/tasks")
    nav = page.get_by_role("navigation", name="分页")
    assert nav.get_by_role("link", name="第 2 页").count() == 1
    nav.get_by_role("link", name="第 2 页").click()
    assert "page=2" in page.url and "2" in page.locator(".pagination [aria-current=page]").inner_text()
    page.context.close()


def test_task_numbers_on_the_draw_and_team_pages_open_the_task(web_world):
    base, tasks = web_world.base_url, _draw_tasks(web_world)
    page = web_world.new_page(DESKTOP)
    sign_in(page, base, web_world.accounts["county"].username)
    for path in (f"/console/draws/{web_world.drawn_draw}", f"/console/draws/{web_world.drawn_draw}/teams"):
        page.goto(base + path)
        task_id, number = tasks[1][0], tasks[1][1]
        page.get_by_role("link", name=number, exact=True).click()
        assert page.url.endswith(f"/console/tasks/{task_id}"), page.url
        assert number in page.locator("main").inner_text()
    page.context.close()


def _returned_task_for_an_inspector(web_world):
    """The recorded (unpublished) result sent back by its head; the account of its team lead."""
    from gateway.results import service as results
    from gateway.security.principal import Principal
    from gateway.tasks.models import Task

    gateway = web_world.gateway
    with gateway.write() as session:
        result = results.get_result(session, web_world.recorded_result)
        task = session.get(Task, result.task_id)
        lead = next(m.inspector_id for m in task.members if m.active and m.role == "lead")
        if result.status == "recorded":
            head = Principal(role="department_head", name="测试负责人", department_code=task.lead_department)
            results.review_result(gateway, session, head, result.id, False, "请补充现场照片")
        task_id, name = task.id, task.target.name
    username = web_world.account(f"inspector-{lead}-h23", "inspector", inspector_id=lead)
    return username, task_id, name


def test_my_tasks_on_a_phone_is_compact_returned_first_and_filterable(web_world):
    username, task_id, name = _returned_task_for_an_inspector(web_world)
    base = web_world.base_url
    page = web_world.new_page(PHONE)
    sign_in(page, base, username)
    page.goto(f"{base}/console/my-tasks")
    assert page_problems(page) == []
    cards = page.locator(".task-card")
    assert cards.count() >= 2
    first = cards.first
    assert name in first.inner_text() and "已退回" in first.inner_text()
    # the first card starts high on the screen and each card is compact
    box = first.bounding_box()
    assert box["y"] < 260, box
    assert all(cards.nth(i).bounding_box()["height"] < 130 for i in range(cards.count()))
    # the rest by due date
    dues = [t.split("截止 ", 1)[1].split()[0] for t in cards.locator(".tc-bottom").all_inner_texts()[1:]]
    assert dues == sorted(dues)
    page.screenshot(path="/tmp/h23-my-tasks.png")
    page.get_by_role("link", name="已退回").click()
    assert page.locator(".task-card").count() == 1 and name in page.locator(".task-card").inner_text()
    page.get_by_role("link", name="全部").click()
    other = cards.nth(1).locator(".tc-top a").inner_text()
    page.get_by_label("检查对象名称或统一社会信用代码").fill(other)
    page.get_by_role("button", name="搜索").click()
    assert page.locator(".task-card").count() >= 1
    assert all(other in c for c in page.locator(".task-card .tc-top a").all_inner_texts())
    page.context.close()


def _record(web_world, task_id: int, inspector=None):
    """Record a result for the task (by its team lead, or ``inspector``), through the service."""
    from datetime import date

    from gateway.demo.codes import confirm_arrival
    from gateway.results import service as results
    from gateway.security.principal import Principal
    from gateway.tasks.models import Task
    from tests.results.conftest import SIGNED, sample_values
    from tests.web.conftest import _first_method

    gateway, today = web_world.gateway, date.today()
    confirm_arrival(gateway, task_id, today=today)  # a site visit: the enterprise confirmed the arrival
    with gateway.write() as session:
        task = session.get(Task, task_id)
        matters = list(task.matter_codes)
        lead = next(m.inspector_id for m in task.members if m.active and m.role == "lead")
        body = {"checklists": {m: sample_values(gateway, m) for m in matters}, "result_codes": ["1"],
                "methods": [_first_method(gateway, matters)], "completed_on": today.isoformat(),
                "signature": dict(SIGNED), "remarks": ""}
        inspector = inspector or Principal(role="inspector", name="测试检查员", inspector_id=lead)
        return results.record_result(gateway, session, inspector, task.id, body, today=today).id


def test_review_lists_what_the_head_can_act_on_and_says_a_missing_note_beside_it(web_world):
    from gateway.tasks.models import Task

    with web_world.gateway.read() as session:
        tasks = list(session.scalars(select(Task).where(Task.draw_id == web_world.drawn_draw, Task.status == "assigned")
                                     .order_by(Task.id)))
        leads = {t.lead_department for t in tasks}
        # a department that leads tasks of its own and cooperates on one another department leads
        other, department = next((t, m.department_code) for t in tasks for m in t.members
                                 if m.active and m.department_code != t.lead_department and m.department_code in leads)
        own = next(t for t in tasks if t.lead_department == department)
        other_result, own_result = _record(web_world, other.id), _record(web_world, own.id)
        other_name, own_name = other.target.name, own.target.name
    head = web_world.account(f"{department}-head-h23", "department_head", department=department)
    base = web_world.base_url
    page = web_world.new_page(DESKTOP)
    sign_in(page, base, head)
    page.goto(f"{base}/console/review")
    listed = page.locator("main table").inner_text()
    assert own_name in listed and other_name not in listed
    page.get_by_role("link", name="其他部门牵头（只读）").click()
    assert other_name in page.locator("main table").inner_text()
    assert own_name not in page.locator("main table").inner_text()

    page.goto(f"{base}/console/results/{own_result}")
    # the decision comes after the checklist it decides on
    assert page.evaluate("""() => {
        const checklist = [...document.querySelectorAll('.matter-block')].pop();
        const decision = document.querySelector('#note');
        return !!(checklist.compareDocumentPosition(decision) & Node.DOCUMENT_POSITION_FOLLOWING);
    }""")
    page.get_by_role("button", name="退回修改").click()
    field = page.locator("#note").locator("xpath=..")
    assert "退回修改时必须填写退回原因" in field.inner_text()
    assert page.locator(".flash-error").count() == 0
    assert page.evaluate("() => document.activeElement.id") == "note"
    page.get_by_label("审核意见（退回修改时必填）").fill("检查表第 2 项未填写")
    page.get_by_role("button", name="退回修改").click()
    assert "已退回检查组修改" in page.locator(".flash-success").inner_text()
    page.goto(f"{base}/console/results/{other_result}")
    assert page.get_by_role("button", name="退回修改").count() == 0
    page.context.close()


def _tab_to(page, selector: str, max_tabs: int = 80) -> None:
    target = page.locator(selector).first.element_handle()
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        if page.evaluate("(el) => document.activeElement === el", target):
            return
    raise AssertionError(f"Tab never reaches {selector}")


def test_irreversible_actions_ask_for_confirmation_by_keyboard(web_world):
    from datetime import date

    from gateway.planning import service as plans
    from gateway.planning.models import Plan
    from tests.drawdb import COUNTY, plan_body

    base, year, gateway = web_world.base_url, date.today().year, web_world.gateway
    body = plan_body(gateway, year=year, title="确认步骤测试计划", window_start=date(year, 1, 1),
                     window_end=date(year, 12, 31))
    with gateway.write() as session:
        plan_id = plans.create_plan(session, COUNTY, body, gateway.settings).id
    page = web_world.new_page(DESKTOP)
    sign_in(page, base, web_world.accounts["county"].username)
    page.goto(f"{base}/console/plans/{plan_id}")
    confirm = page.get_by_role("button", name="确认发布计划")
    assert not confirm.is_visible()  # one click does not publish
    page.evaluate("() => document.activeElement.blur()")
    _tab_to(page, "summary:has-text('发布计划')")
    page.keyboard.press("Enter")
    assert confirm.is_visible()
    assert "此操作不可撤销" in page.locator(".confirm-panel").inner_text()
    assert "不能撤回" in page.locator(".confirm-panel").inner_text()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "确认发布计划"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".flash-error").count() == 0, page.locator(".flash-error").all_inner_texts()
    with web_world.gateway.read() as session:
        assert session.get(Plan, plan_id).status == "published"
    # freezing the population asks too, on the plan and on the draw list
    page.goto(f"{base}/console/plans/{plan_id}")
    assert page.locator("summary", has_text="冻结对象范围，开始抽取").count() == 1
    assert page.get_by_role("button", name="确认冻结对象范围，开始抽取").is_hidden()
    page.goto(f"{base}/console/draws")
    assert page.locator("summary", has_text="冻结对象范围，开始现场抽取").count() >= 1
    page.context.close()


def test_plan_form_year_moves_the_prefilled_title_and_dates(web_world):
    from datetime import date

    base, year = web_world.base_url, date.today().year
    page = web_world.new_page(DESKTOP)
    sign_in(page, base, web_world.accounts["county"].username)
    page.goto(f"{base}/console/plans/new")
    assert str(year) in page.get_by_label("计划名称").input_value()
    page.locator("#f-year").fill(str(year + 3))
    assert page.get_by_label("计划名称").input_value().startswith(f"{year + 3} 年度")
    assert page.get_by_label("检查开始日期").input_value() == f"{year + 3}-04-01"
    assert page.get_by_label("检查结束日期").input_value() == f"{year + 3}-10-31"
    # a failed submit puts the focus on the error summary
    page.get_by_label("计划名称").fill("")
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_load_state("load")
    assert page.evaluate("() => document.activeElement.id") == "error-summary"
    page.context.close()


def test_overdue_is_said_in_words_and_the_navigation_fits_one_row(web_world):
    from datetime import date

    from tests.drawdb import complete_draw, published_plan

    last = date.today().year - 1
    complete_draw(web_world.gateway, published_plan(
        web_world.gateway, year=last, title=f"{last}年度逾期测试计划", window_start=date(last, 3, 1),
        window_end=date(last, 6, 30)))
    base = web_world.base_url
    page = web_world.new_page({"width": 1366, "height": 768})
    sign_in(page, base, web_world.accounts["county"].username)
    page.goto(f"{base}/console/deadlines")
    cells = page.locator("td[data-label='剩余工作日']").all_inner_texts()
    assert cells and all(not c.strip().startswith("-") for c in cells), cells
    assert any(c.startswith("逾期 ") and c.endswith(" 个工作日") for c in cells), cells
    for path in ("/console", "/console/tasks", "/console/plans"):
        page.goto(base + path)
        tops = page.locator("nav.site-nav li").evaluate_all("(items) => items.map((li) => li.offsetTop)")
        assert len(set(tops)) == 1, (path, tops)
    page.context.close()


def test_inspectors_record_under_their_own_name_and_public_search_forgives(web_world):
    from gateway.directory.models import Inspector
    from gateway.security import accounts
    from gateway.security.models import Account
    from gateway.tasks.models import Task

    gateway, base = web_world.gateway, web_world.base_url
    with gateway.read() as session:
        task = next(t for t in session.scalars(select(Task).where(Task.draw_id == web_world.drawn_draw,
                                                                  Task.status == "assigned").order_by(Task.id.desc())))
        lead = next(m.inspector_id for m in task.members if m.active and m.role == "lead")
        person, task_id = session.get(Inspector, lead).name, task.id
    username = web_world.account(f"inspector-{lead}-own", "inspector", inspector_id=lead)
    with gateway.read() as session:
        principal = accounts.account_principal(session.scalar(select(Account).where(Account.username == username)))
    result_id = _record(web_world, task_id, principal)
    page = web_world.new_page(PHONE)
    sign_in(page, base, username)
    page.goto(f"{base}/console/results/{result_id}")
    recorded = page.locator("dl.facts dt:has-text('录入') + dd").inner_text()
    assert person in recorded and username not in recorded

    # the public: a credit code with a space, a name with words the register spells otherwise
    page.goto(f"{base}/search?q={web_world.public_uscc[:9]}%20{web_world.public_uscc[9:]}")
    assert "检查对象（1）" in page.locator("main").inner_text()
    with gateway.read() as session:
        from gateway.directory.models import Target
        name = session.scalar(select(Target.name).where(Target.uscc == web_world.public_uscc))
    page.goto(f"{base}/search?q={name.replace('武陟县', '')}公司")
    assert name in page.locator("main table").first.inner_text()
    page.goto(f"{base}/search?q=不存在的企业名称")
    assert "可以只输入其中的关键字" in page.locator("#search-hint").inner_text()
    page.context.close()


def test_the_public_checks_a_draw_in_the_browser_as_shuangsui_verify_does(web_world):
    import copy
    import json

    from gateway.draw import service as draws
    from gateway.draw.models import Draw
    from gateway.draw.record import EXCLUSION_REASONS
    from gateway.draw.verify import verify_record

    gateway, base, draw_id = web_world.gateway, web_world.base_url, web_world.drawn_draw
    with gateway.read() as session:
        record = json.loads(draws.public_record(session.get(Draw, draw_id)))
    expected = {f.subject: "一致" if f.ok else "不一致" for f in verify_record(record).strata}
    page = web_world.new_page(PHONE)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/draws/{draw_id}")
    page.wait_for_load_state("load")
    assert errors == []
    assert browser_verdicts(page) == expected and set(expected.values()) == {"一致"}

    # find one's own enterprise: drawn in one stratum, with its ticket and the stratum's cut
    stratum = next(s for s in record["strata"] if s["selected"] and len(s["population"]) > len(s["selected"]))
    drawn, missed = stratum["selected"][0], next(u for u in stratum["population"] if u not in stratum["selected"])
    for uscc, word in ((drawn, "yes"), (missed, "no")):
        page.get_by_label("企业名称或统一社会信用代码", exact=True).fill(f"{uscc[:6]} {uscc[6:]}")
        page.get_by_role("button", name="查找", exact=True).click()
        item = page.locator(f"#lookup-strata li[data-key='{stratum['key']}']")
        expect_text = "被抽中" if word == "yes" else "未被抽中"
        playwright_api.expect(item).to_have_attribute("data-drawn", word)
        assert expect_text in item.inner_text() and "抽签值" in item.inner_text() and "分界" in item.inner_text()

    # an enterprise the draw left out reads why, from the exclusions part whose code range holds it
    exclusion = next(e for piece in record["exclusion_parts"] for e in piece["exclusions"])
    page.get_by_label("企业名称或统一社会信用代码", exact=True).fill(exclusion["uscc"])
    page.get_by_role("button", name="查找", exact=True).click()
    reason = page.locator(f"#lookup-exclusions li[data-reason='{exclusion['reason']}']").first
    playwright_api.expect(reason).to_contain_text(EXCLUSION_REASONS[exclusion["reason"]])

    # a tampered record: one stratum's selection changed
    tampered = copy.deepcopy(record)
    changed = next(s for s in tampered["strata"] if s["selected"] and len(s["population"]) > len(s["selected"]))
    outsider = next(u for u in changed["population"] if u not in changed["selected"])
    changed["selected"][-1] = outsider
    wanted = {f.subject: "一致" if f.ok else "不一致" for f in verify_record(tampered).strata}
    assert wanted[changed["key"]] == "不一致"
    assert "WebCrypto" in page.locator("#verify-engine").inner_text()  # 127.0.0.1 is a secure context
    page.context.close()
    # the same answers from the page's own SHA-256, as over plain HTTP
    page = web_world.new_page(PHONE)
    page.add_init_script("Object.defineProperty(window, 'isSecureContext', {value: false})")
    page.goto(f"{base}/draws/{draw_id}")
    assert "本页自带" in page.locator("#verify-engine").inner_text()
    assert browser_verdicts(page) == expected
    serve_tampered(page, draw_id, record, tampered)
    page.reload()
    assert browser_verdicts(page) == wanted
    assert "结论：不一致" in page.locator("#verify-out").inner_text()
    page.context.close()


def test_draw_page_explains_hides_hashes_pages_tasks_and_offers_the_script(web_world):
    import json
    from pathlib import Path

    from gateway.draw import service as draws
    from gateway.draw.models import Draw

    gateway, base, draw_id = web_world.gateway, web_world.base_url, web_world.drawn_draw
    with gateway.read() as session:
        draw = session.get(Draw, draw_id)
        record, salts = json.loads(draws.public_record(draw)), [c["salt"] for c in draw.contributions]
    selected = sum(len(s["selected"]) for s in record["strata"])
    page = web_world.new_page(PHONE)
    page.goto(f"{base}/draws/{draw_id}")
    assert page_problems(page) == []
    # salts and commitments under a closed 技术细节
    details = page.locator("details#tech-details")
    assert details.evaluate("(d) => !d.open")
    assert not page.locator("#commitments").is_visible()
    page.locator("#tech-details summary").click()
    assert all(salt in page.locator("#commitments").inner_text() for salt in salts)
    # why fewer tasks than drawn, when an enterprise was drawn for two matters
    if selected == len(record["tasks"]):  # nobody drawn twice here: nothing to explain
        assert page.locator("#why-fewer-tasks").count() == 0
    else:
        why = page.locator("#why-fewer-tasks").inner_text()
        assert f"应抽取 {selected} 户次" in why and f"生成 {len(record['tasks'])} 项检查任务" in why
    # the tasks a page at a time, with a search
    rows = page.locator("#tasks tbody tr")
    assert rows.count() == min(50, len(record["tasks"]))
    task = record["tasks"][-1]
    page.get_by_label("任务编号、企业名称或统一社会信用代码").fill(task["uscc"])
    page.get_by_role("button", name="查找任务").click()
    assert rows.count() == 1 and task["number"] in rows.first.inner_text()
    # the stand-alone script is downloadable from the page
    with page.expect_download() as download:
        page.get_by_role("link", name="下载只依赖 Python 标准库的验证脚本 verify_draw.py").click()
    script = Path(__file__).resolve().parents[2] / "docs" / "verify_draw.py"
    assert Path(download.value.path()).read_bytes() == script.read_bytes()
    # the verify page speaks to a reader who is not a programmer first
    page.goto(f"{base}/verify")
    headings = page.locator("main h2").all_inner_texts()
    assert headings[:4] == ["随机种子是什么", "为什么没有人能事先选定它", "“一致抽样”是什么意思", "三步查看自己的企业"]
    assert page.locator("main ol").first.locator("li").count() == 3
    page.context.close()


def test_the_summary_explains_47_drawn_giving_45_tasks(web_world):
    """The issue's numbers, through the draw summary template the public page includes."""
    from flask import render_template

    from gateway.app import create_app

    app = create_app(gateway=web_world.gateway)
    with app.test_request_context("/draws/1"):
        html = render_template("draw/_summary.html", stages=[], draw={"population_sha256": "0" * 64},
                               population_total=900, sample_total=47, strata=[], record={"tasks": []},
                               task_total=45, selected_total=47, exclusions=[], moves=None)
    assert "各层合计应抽取 47 户次，生成 45 项检查任务" in html and "共合并 2 户次" in html


def test_axe_core_and_focus_rings_on_the_main_pages(web_world):
    from tests.web.axe import axe_violations, weak_focus_rings

    base = web_world.base_url
    public = ["/", f"/search?q={web_world.public_uscc}", "/plans", f"/draws/{web_world.drawn_draw}", "/verify",
              f"/results/{web_world.published_result}"]
    console = {"county": ["/console", "/console/tasks", "/console/plans", f"/console/draws/{web_world.drawn_draw}",
                          "/console/deadlines", "/console/plans/new"],
               "head": ["/console/review", f"/console/results/{web_world.recorded_result}"],
               "inspector": ["/console/my-tasks", f"/console/tasks/{web_world.task_id}"]}
    problems = {}
    page = web_world.new_page(DESKTOP)
    for path in public:
        page.goto(base + path)
        problems[path] = axe_violations(page) + weak_focus_rings(page)
    for key, paths in console.items():
        sign_in(page, base, web_world.accounts[key].username)
        for path in paths:
            page.goto(base + path)
            problems[path] = axe_violations(page) + weak_focus_rings(page)
        page.context.clear_cookies()
    assert {path: found for path, found in problems.items() if found} == {}
    page.context.close()


def test_chart_colours_contrast_with_white():
    from gateway.web.charts import COLOURS

    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    assert {name: round(1.05 / (luminance(c) + 0.05), 2) for name, c in COLOURS.items()
            if 1.05 / (luminance(c) + 0.05) < 3} == {}


def _pdf_pages(page) -> list[str]:
    """The page printed to A4 by Chromium, as each PDF page's text (NFKC, without white space)."""
    import io
    import unicodedata

    from pypdf import PdfReader

    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    return ["".join(unicodedata.normalize("NFKC", p.extract_text() or "").split())
            for p in PdfReader(io.BytesIO(pdf)).pages]


def _split_across(row: str, pages: list[str], width: int = 5) -> bool:
    """Whether a table row's text begins on one PDF page and ends on another. The PDF's text has
    some ideographs as look-alike radicals, so the row is known by its first and last runs of
    ``width`` characters that the PDF's text holds."""
    whole = "".join(pages)
    runs = [row[i:i + width] for i in range(len(row) - width + 1) if row[i:i + width] in whole]
    if not runs:
        return False
    return not any(runs[0] in text and runs[-1] in text for text in pages)


def test_task_sheet_and_guide_print_as_official_a4_documents(web_world):
    base, task_id = web_world.base_url, web_world.task_id
    page = web_world.new_page(DESKTOP)
    sign_in(page, base, web_world.accounts["county"].username)
    for kind, title in (("sheet", "检查任务书"), ("guide", "检查指引书")):
        page.goto(f"{base}/console/tasks/{task_id}/{kind}")
        head = page.locator(".doc-head")
        assert "武陟县双随机一公开领导小组办公室" in head.inner_text() and "〔" in head.inner_text()
        assert page.locator("h1.doc-title").inner_text() == title
        assert page.locator("h1.doc-title").evaluate("(e) => getComputedStyle(e).textAlign") == "center"
        assert "检查对象负责人签字" in page.locator(".doc-sign").inner_text()
        assert page.locator("tbody").first.inner_text()
        item_names = page.locator("tbody tr td:first-child").all_inner_texts()
        assert not {"问题描述", "经营类别", "抽查报告份数", "机构类别"} & {n.strip() for n in item_names}
        rows = ["".join(t.split()) for t in page.locator("main tbody tr").all_inner_texts()]
        pages = _pdf_pages(page)
        assert "请使用浏览器" not in "".join(pages)  # the on-screen hint does not print
        assert 1 <= len(pages) <= 12, len(pages)
        # every row is whole on one page (never split across two)
        split = [row for row in rows if _split_across(row, pages)]
        assert split == [], split
        # credit codes never wrap
        uscc = page.locator(".uscc").first
        assert uscc.evaluate("(e) => getComputedStyle(e).whiteSpace") == "nowrap"
        page.emulate_media(media="screen")
        if kind == "guide":
            matters = page.locator("section.matter-block").count()
            assert len(pages) >= matters  # each matter starts on a new page
    page.context.close()


def test_a_whole_draw_prints_as_one_document(web_world):
    base, tasks = web_world.base_url, _draw_tasks(web_world)
    page = web_world.new_page(DESKTOP)
    sign_in(page, base, web_world.accounts["county"].username)
    page.goto(f"{base}/console/draws/{web_world.drawn_draw}")
    page.get_by_role("link", name="打印本次抽取的全部任务书").click()
    assert page.locator("article.doc").count() == len(tasks)
    assert all(number in page.locator("main").inner_text() for _, number, *_ in tasks)
    pages = _pdf_pages(page)
    assert len(pages) >= len(tasks)  # each task's sheet starts on a new page
    page.context.close()


def test_the_statistics_workbook_names_its_year_and_every_department(web_world):
    import io
    from datetime import date

    from openpyxl import load_workbook

    base = web_world.base_url
    page = web_world.new_page(DESKTOP)
    sign_in(page, base, web_world.accounts["county"].username)
    page.goto(f"{base}/console")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    year = date.today().year
    assert f"{year}年度" in download.value.suggested_filename
    with open(download.value.path(), "rb") as handle:
        book = load_workbook(io.BytesIO(handle.read()))
    sheet = book["按部门"]
    assert f"{year}年度" in sheet["A1"].value
    names = [row[0].value for row in sheet.iter_rows(min_row=3)]
    assert len(names) - 1 == len(web_world.gateway.registry.departments) and names[-1] == "合计"
    assert [c.value for c in book["按计划"][2]][0] == "计划文号"
    page.context.close()
