"""Registering an inspection on a 375 px phone (issue 16): a missing field and a missing over-cap
reason are shown beside their fields, what was typed stays, and the registration lands in the
target's ledger, on the office's over-cap list and under the public caps page."""
from __future__ import annotations

from datetime import date

import pytest

from gateway.ledger import service as ledger
from tests.drawdb import COUNTY
from tests.web.harness import PHONE, page_problems, sign_in

pytestmark = pytest.mark.browser


def _field(page, name):
    return page.locator(f"#f-{name}").locator("xpath=..")


def test_a_department_registers_inspections_on_a_phone(web_world):
    base, uscc = web_world.base_url, web_world.public_uscc
    operator = web_world.accounts["operator"]
    with web_world.gateway.write() as session:
        ledger.publish_caps(session, COUNTY, year=date.today().year, per_department=2, total=4,
                            basis="武陟县涉企行政检查频次上限（浏览器测试）")
    page = web_world.new_page(PHONE)
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    sign_in(page, base, operator.username)
    page.goto(f"{base}/console/ledger/targets/{uscc}")
    assert page_problems(page) == []
    page.get_by_role("link", name="登记检查").click()
    assert page.locator("#f-uscc").input_value() == uscc
    page.locator("#f-channel").select_option("special")
    page.get_by_label("法律依据").fill("县安委会安全生产专项整治部署")
    page.get_by_label("检查编号").fill("ZX-BROWSER-1")
    page.get_by_role("button", name="登记").click()
    field = _field(page, "legal_reason_code")
    assert "has-error" in field.get_attribute("class") and field.locator(".field-error").count() == 1
    assert page.get_by_label("检查编号").input_value() == "ZX-BROWSER-1"
    assert page_problems(page) == []

    page.locator("#f-legal_reason_code").select_option("special_campaign")
    page.get_by_role("button", name="登记").click()
    assert f"/console/ledger/targets/{uscc}" in page.url, page.locator("main").inner_text()
    assert "检查已登记" in page.locator(".flash-success").inner_text()
    assert "ZX-BROWSER-1" in page.locator("table.stack").inner_text()
    assert page_problems(page) == []

    # With the drawn task, a third visit by the same department goes over its cap of 2: it needs a reason.
    page.get_by_role("link", name="登记检查").click()
    page.locator("#f-channel").select_option("routine")
    page.locator("#f-legal_reason_code").select_option("routine")
    page.get_by_label("检查编号").fill("RC-BROWSER-2")
    page.get_by_role("button", name="登记").click()
    field = _field(page, "over_cap_reason")
    assert "has-error" in field.get_attribute("class")
    assert "超过上限须填写法定理由" in field.locator(".field-error").inner_text()
    page.get_by_label("超过上限的法定理由").fill("发现重大事故隐患，依法复查整改情况")
    page.get_by_role("button", name="登记").click()
    assert "超过年度上限" in page.locator(".flash-success").inner_text()
    assert "超过上限" in page.locator("table.stack").inner_text()

    page.goto(f"{base}/console/ledger")
    assert "RC-BROWSER-2" not in page.locator("#over-cap").inner_text()  # the list shows the reason, not numbers
    assert "发现重大事故隐患" in page.locator("#over-cap").inner_text()
    assert page_problems(page) == []
    page.goto(f"{base}/console")
    assert page.locator("#over-cap-flag").count() == 1
    page.context.close()

    public = web_world.new_page(PHONE)
    public.goto(f"{base}/caps")
    assert "不超过 2 次" in public.locator("#caps").inner_text()
    assert page_problems(public) == []
    public.context.close()
    assert [e for e in console_errors if "status of 422" not in e] == []  # 422: the form shown again
