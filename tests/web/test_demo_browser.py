"""Issue 23 in a real browser on the demo (what ``shuangsui demo load`` leaves, small): the page's
in-browser check of the demo draw gives ``shuangsui verify``'s answers, on the published record and
on a tampered one; and a department head who saves a follow-up is told to publish it, not to wait
for the head."""
from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import select

playwright_api = pytest.importorskip("playwright.sync_api")

from tests.web.conftest import require_chromium, served, web_gateway  # noqa: E402
from tests.web.harness import DESKTOP, PHONE, browser_verdicts, create_accounts, serve_tampered, sign_in  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_world(tmp_path_factory):
    """The demo loaded (directories, draws, results in every state) and served, with Chromium."""
    require_chromium()
    from gateway.demo.draw import ensure_demo_draw
    from gateway.demo.load import load_directories
    from gateway.demo.results import load_demo_results

    # the small demo and the day test_demo.py loads it on (its tasks' window is open that day)
    from tests.results.test_demo import SHAPE, TODAY

    folder = tmp_path_factory.mktemp("web-demo")
    gateway = web_gateway(folder)
    load_directories(gateway, SHAPE, today=TODAY)
    draw = ensure_demo_draw(gateway, today=TODAY)
    summary = load_demo_results(gateway, today=TODAY)
    with served(gateway, folder) as (base_url, browser):
        yield {"gateway": gateway, "base_url": base_url, "browser": browser, "draw_id": draw["draw_id"],
               "states": summary["states"]}


def _page(world, viewport):
    page = world["browser"].new_context(viewport=viewport, locale="zh-CN").new_page()
    page.set_default_timeout(20_000)
    return page


def _verify_verdicts(record: dict) -> dict[str, str]:
    """``shuangsui verify``'s answer per stratum."""
    from gateway.draw.verify import verify_record

    return {f.subject: "一致" if f.ok else "不一致" for f in verify_record(record).strata}


def _tampered(record: dict) -> tuple[dict, str]:
    """A copy of ``record`` where one stratum's last drawn enterprise is swapped for one not drawn."""
    tampered = copy.deepcopy(record)
    stratum = next(s for s in tampered["strata"] if s["selected"] and len(s["population"]) > len(s["selected"]))
    stratum["selected"][-1] = next(u for u in stratum["population"] if u not in stratum["selected"])
    return tampered, stratum["key"]


def test_the_demo_draw_checked_in_the_browser_answers_as_shuangsui_verify(demo_world):
    from gateway.draw import service as draws
    from gateway.draw.models import Draw

    gateway, base, draw_id = demo_world["gateway"], demo_world["base_url"], demo_world["draw_id"]
    with gateway.read() as session:
        record = json.loads(draws.public_record(session.get(Draw, draw_id)))
    expected = _verify_verdicts(record)
    assert set(expected.values()) == {"一致"} and len(expected) > 3
    assert any(key.endswith(":key") for key in expected)  # the demo has key strata (重点抽查对象)
    tampered, changed = _tampered(record)
    wanted = _verify_verdicts(tampered)
    assert wanted[changed] == "不一致" and list(wanted.values()).count("不一致") == 1

    # WebCrypto (127.0.0.1 is a secure context), then the page's own SHA-256, as over plain HTTP
    for engine, init in (("WebCrypto", None), ("本页自带", "Object.defineProperty(window, 'isSecureContext', {value: false})")):
        page = _page(demo_world, PHONE)
        errors = []
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        if init:
            page.add_init_script(init)
        page.goto(f"{base}/draws/{draw_id}")
        assert engine in page.locator("#verify-engine").inner_text()
        assert browser_verdicts(page) == expected
        assert "结论：一致" in page.locator("#verify-out").inner_text()
        # the tampered record, served where the page fetches the record
        serve_tampered(page, draw_id, record, tampered)
        page.reload()
        assert browser_verdicts(page) == wanted
        assert "结论：不一致" in page.locator("#verify-out").inner_text()
        assert errors == []
        page.context.close()


def test_a_head_saving_a_follow_up_is_told_to_publish_it_and_an_operator_to_wait(demo_world):
    from gateway.results.clock import china_today
    from gateway.results.models import Disposition, InspectionResult
    from gateway.tasks.models import Task

    gateway, base = demo_world["gateway"], demo_world["base_url"]
    with gateway.read() as session:
        result = session.scalar(select(InspectionResult).where(
            InspectionResult.task_id == demo_world["states"]["listing_proposed"]))
        assert result.status == "published" and result.has_problems
        result_id, lead = result.id, session.get(Task, result.task_id).lead_department
        assert session.scalar(select(Disposition).where(Disposition.result_id == result_id)) is None
    accounts = create_accounts(gateway, lead, None)
    today = china_today().isoformat()
    said = {}
    for role, description in (("operator", "已责令限期整改，复查时整改到位。"), ("head", "复查确认已在登记的住所恢复经营。")):
        page = _page(demo_world, DESKTOP)
        sign_in(page, base, accounts[role].username)
        page.goto(f"{base}/console/results/{result_id}")
        form = page.locator("form:has(button:text-is('保存后续处置'))")
        form.get_by_label("处置方式").select_option("rectified")
        form.get_by_label("处置日期").fill(today)
        form.get_by_label("情况说明（公开）").fill(description)
        form.get_by_role("button", name="保存后续处置").click()
        page.wait_for_load_state("domcontentloaded")
        assert page.locator(".flash-error").count() == 0, page.locator(".flash-error").all_inner_texts()
        said[role] = page.locator(".flash-success").inner_text()
        assert description in page.locator("#dispositions").inner_text()
        page.context.close()
    assert "待部门负责人公示" in said["operator"]
    assert "待部门负责人公示" not in said["head"] and "公示后续处置" in said["head"]
