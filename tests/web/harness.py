"""What the browser tests and the screenshot command share: Debian's Chromium driven by Playwright,
the app served on a free 127.0.0.1 port in a thread, and sign-in accounts for every role.

Chromium is the system one (``/usr/bin/chromium``, ``apt-get install chromium``); Playwright's own
browser download is never used.
"""
from __future__ import annotations

import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from werkzeug.serving import make_server

CHROMIUM = Path(os.environ.get("SHUANGSUI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--lang=zh-CN",
]
MISSING_MESSAGE = f"Chromium not installed at {CHROMIUM}: browser tests skipped"
PASSWORD = "Wz-browser-2026!"
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def chromium_available() -> bool:
    return CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


class LiveServer:
    """The WSGI app on 127.0.0.1 and a free port, served by werkzeug in a daemon thread."""

    def __init__(self, app) -> None:
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    department: str | None = None
    inspector_id: int | None = None


def create_accounts(gateway, department: str, inspector_id: int | None, extra_inspectors: dict[str, int] | None = None
                    ) -> dict[str, Account]:
    """One account per role (password :data:`PASSWORD`); department roles in ``department``."""
    from gateway.security import accounts
    from gateway.security.principal import Principal

    actor = Principal(role="system", name="browser-tests")
    wanted = {
        "county": Account("county", "county_office"),
        "supervisor": Account("supervisor", "supervisor"),
        "operator": Account(f"{department}-operator", "department_operator", department),
        "head": Account(f"{department}-head", "department_head", department),
    }
    if inspector_id is not None:
        wanted["inspector"] = Account(f"inspector-{inspector_id}", "inspector", inspector_id=inspector_id)
    for key, inspector in (extra_inspectors or {}).items():
        wanted[key] = Account(f"inspector-{inspector}", "inspector", inspector_id=inspector)
    with gateway.write() as session:
        for account in wanted.values():
            accounts.create_account(session, actor, account.username, account.role,
                                    department_code=account.department, inspector_id=account.inspector_id,
                                    password=PASSWORD, display_name=account.username)
    return wanted


def sign_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("domcontentloaded")
    if "/sign-in" in page.url:
        raise AssertionError(f"sign-in failed for {username}: {page.locator('#sign-in-error').all_inner_texts()}")


def sign_out(page) -> None:
    button = page.get_by_role("button", name="退出登录")
    button.click()
    # An inspector's page first clears what the phone kept offline, then posts the form.
    button.wait_for(state="detached")
    page.wait_for_load_state("domcontentloaded")


# What every page must satisfy (DESIGN: phones at 375 px; basic accessibility).
PAGE_CHECK_JS = """
() => {
  const problems = [];
  const doc = document.documentElement;
  const scrolls = doc.scrollWidth > window.innerWidth;
  if (scrolls) problems.push(`horizontal scroll: ${doc.scrollWidth} > ${window.innerWidth}`);
  if (!document.title.trim()) problems.push('no <title>');
  if (!document.querySelector('h1')) problems.push('no <h1>');
  const fields = document.querySelectorAll('input:not([type=hidden]), select, textarea');
  for (const el of fields) {
    const labelled = (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)) || el.closest('label')
      || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!labelled) problems.push(`unlabelled ${el.tagName.toLowerCase()} name=${el.name || '?'}`);
  }
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    if (el.tabIndex < 0) problems.push(`not keyboard-reachable: ${el.outerHTML.slice(0, 80)}`);
  }
  for (const el of (scrolls ? document.querySelectorAll('body *') : [])) {  // name the culprit
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > window.innerWidth + 1 && getComputedStyle(el).position !== 'absolute'
        && !el.closest('.table-wrap')) {
      problems.push(`overflows the viewport: <${el.tagName.toLowerCase()} class="${el.className}"> right=${Math.round(box.right)}`);
      break;
    }
  }
  return problems;
}
"""


def page_problems(page) -> list[str]:
    # A click that submits a form returns once the new page's element is there, which can be before
    # its stylesheet has loaded on a busy machine; layout is judged on the finished page.
    page.wait_for_load_state("load")
    return page.evaluate(PAGE_CHECK_JS)


def keyboard_reaches(page, selector: str, max_tabs: int = 60) -> bool:
    """Whether pressing Tab from the top of the page reaches the element matched by ``selector``."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    target = page.locator(selector).first.element_handle()
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        if page.evaluate("(el) => document.activeElement === el", target):
            return True
    return False


@contextmanager
def browser_session(base_url: str) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


def browser_verdicts(page) -> dict[str, str]:
    """On a draw's page, press 在浏览器中验证本次抽取 and read its 一致/不一致 per stratum (by key)."""
    page.get_by_role("button", name="在浏览器中验证本次抽取").click()
    page.locator("#verify-strata").wait_for()
    rows = page.locator("#verify-strata tbody tr")
    return {rows.nth(i).get_attribute("data-key"): rows.nth(i).locator("td").nth(1).inner_text()
            for i in range(rows.count())}


def serve_tampered(page, draw_id: int, record: dict, tampered: dict) -> None:
    """Serve ``tampered`` where the draw page fetches the record: the whole record (version 1) and
    each stratum part that differs from ``record``'s (version 2 is checked from its parts)."""
    import json

    from gateway.draw.record import canonical_json

    page.route(f"**/api/v1/draws/{draw_id}/record", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(tampered, ensure_ascii=False)))
    for number, (was, now) in enumerate(zip(record["strata"], tampered["strata"]), start=1):
        if was != now:
            page.route(f"**/api/v1/draws/{draw_id}/record/strata/{number}", _fulfil_with(canonical_json(now)))


def _fulfil_with(body: bytes):
    return lambda route: route.fulfill(status=200, content_type="application/json", body=body)


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
