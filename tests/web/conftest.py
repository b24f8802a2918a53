"""Fixtures of the web tests.

The browser tests run once, on SQLite (the pages are the same on PostgreSQL, which the service
tests cover): ``web_world`` builds a small directory, three plans and their draws through the
real services, serves the app on 127.0.0.1 and opens Debian's Chromium. Where Chromium is
missing they are skipped with a clear message, except under CI, where that is a failure.
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import pytest

from tests.web.harness import MISSING_MESSAGE, LiveServer, chromium_available, create_accounts, launch


def require_chromium() -> None:
    if chromium_available():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI requires Chromium for the browser tests. " + MISSING_MESSAGE)
    pytest.skip(MISSING_MESSAGE)


@dataclass
class WebWorld:
    gateway: object
    base_url: str
    browser: object
    accounts: dict
    plan_for_browser_draw: int
    drawn_plan: int
    drawn_draw: int
    frozen_draw: int
    task_id: int
    published_result: int
    recorded_result: int
    public_uscc: str
    extra: dict = field(default_factory=dict)

    def new_page(self, viewport):
        context = self.browser.new_context(viewport=viewport, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    def account(self, key: str, role: str, department: str | None = None, inspector_id: int | None = None) -> str:
        """A username for ``role`` (created on first use), password ``harness.PASSWORD``."""
        from gateway.security import accounts
        from gateway.security.principal import Principal
        from tests.web.harness import PASSWORD

        username = key
        if username not in self.extra:
            with self.gateway.write() as session:
                accounts.create_account(session, Principal(role="system", name="browser-tests"), username, role,
                                        department_code=department, inspector_id=inspector_id, password=PASSWORD)
            self.extra[username] = True
        return username


def _this_year_plan(gateway, title: str) -> int:
    from tests.drawdb import published_plan

    year = date.today().year
    return published_plan(gateway, year=year, title=title, window_start=date(year, 1, 1),
                          window_end=date(year, 12, 31))


@pytest.fixture(scope="module")
def web_world(tmp_path_factory):
    """A running gateway with data for every page, and a headless Chromium."""
    require_chromium()
    from sqlalchemy import select

    from gateway.demo.codes import confirm_arrival
    from gateway.results import service as results
    from gateway.security.principal import Principal
    from gateway.tasks.models import Task
    from tests.drawdb import COUNTY, build_directory, complete_draw, published_plan
    from tests.results.conftest import SIGNED, sample_values

    folder = tmp_path_factory.mktemp("web")
    gateway = web_gateway(folder)
    directory = build_directory(gateway, per_matter=8, per_department=4)
    with gateway.write() as session:  # one enterprise closed down: the draw leaves it out and says why
        from gateway.directory.models import Target
        session.execute(Target.__table__.update().where(Target.uscc == directory["targets"]["joint"][-1])
                        .values(status="closed"))
    today = date.today()

    # A plan drawn through the services, with one result published and one only recorded.
    drawn_plan = _this_year_plan(gateway, f"{today.year}年度网页测试联合抽查计划（已抽取）")
    drawn_draw = complete_draw(gateway, drawn_plan)
    with gateway.read() as session:
        tasks = list(session.scalars(select(Task).where(Task.plan_id == drawn_plan).order_by(Task.id)))
        plan_tasks = [(t.id, t.lead_department, list(t.matter_codes), t.target.uscc,
                       next(m.inspector_id for m in t.members if m.active and m.role == "lead")) for t in tasks]
    recorded_ids = []
    first_lead = plan_tasks[0][1]
    same_lead = [t for t in plan_tasks if t[1] == first_lead][:2]
    assert len(same_lead) == 2, "the small directory should give one department two tasks"
    for task_id, lead, matters, uscc, recorder in same_lead:
        body = {"checklists": {m: sample_values(gateway, m) for m in matters}, "result_codes": ["1"],
                "methods": [_first_method(gateway, matters)], "completed_on": today.isoformat(),
                "signature": dict(SIGNED), "remarks": ""}
        confirm_arrival(gateway, task_id, today=today)  # a site visit: the enterprise confirmed the arrival
        with gateway.write() as session:
            inspector = Principal(role="inspector", name="测试检查员", inspector_id=recorder)
            recorded_ids.append((results.record_result(gateway, session, inspector, task_id, body, today=today).id,
                                 lead, uscc))
    published_id, lead, public_uscc = recorded_ids[0]
    head = Principal(role="department_head", name="测试负责人", department_code=lead)
    with gateway.write() as session:
        results.review_result(gateway, session, head, published_id, True, "")
        results.publish_result(gateway, session, head, published_id, today=today)

    # A plan of next year frozen at its first stage (the projector's commitment form).
    frozen_plan = published_plan(gateway, year=today.year + 1, title=f"{today.year + 1}年度网页测试联合抽查计划（待抽取）")
    from gateway.draw import service as draws

    with gateway.write() as session:
        frozen_draw = draws.freeze(session, COUNTY, frozen_plan).id

    # The plan the browser test draws, in front of the witnesses.
    browser_plan = _this_year_plan(gateway, f"{today.year}年度网页测试联合抽查计划（现场抽取）")

    first_task = plan_tasks[0]
    accounts = create_accounts(gateway, lead, first_task[4])
    with served(gateway, folder) as (base_url, browser):
        yield WebWorld(
            gateway=gateway, base_url=base_url, browser=browser, accounts=accounts,
            plan_for_browser_draw=browser_plan, drawn_plan=drawn_plan, drawn_draw=drawn_draw,
            frozen_draw=frozen_draw, task_id=first_task[0], published_result=published_id,
            recorded_result=recorded_ids[1][0], public_uscc=public_uscc,
        )


def web_gateway(folder):
    """A migrated SQLite gateway in ``folder``, with the plugins' registry, rate limits off."""
    from gateway.config import Settings
    from gateway.core import Gateway
    from gateway.migrate import upgrade

    settings = Settings(instance_path=folder / "instance", database_url=f"sqlite:///{folder / 'web.sqlite'}",
                        secret_key="web-test-secret", rate_limit_public="", rate_limit_sign_in="")
    upgrade(settings.database_url)
    gateway = Gateway.create(settings)
    gateway.sync_registry()
    return gateway


@contextmanager
def served(gateway, folder):
    """``gateway``'s app on 127.0.0.1 and a headless Chromium, as ``(base_url, browser)``; on leaving,
    the gateway is disposed of and ``folder`` removed."""
    from playwright.sync_api import sync_playwright

    from gateway.app import create_app

    with LiveServer(create_app(gateway=gateway)) as server, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield server.url, browser
        finally:
            browser.close()
    gateway.dispose()
    shutil.rmtree(folder, ignore_errors=True)


def _first_method(gateway, matters: list[str]) -> str:
    for code in matters:
        matter = gateway.registry.matters[code]
        if matter.methods:  # a matter checkable off site is checked so unless the plan visits (none here do)
            return (matter.non_site_methods or matter.methods)[0]
    raise AssertionError("no inspection method in the plugins' matters")
